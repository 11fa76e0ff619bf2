"""Drill: Redis stops during ingestion. The API keeps storing, the enqueue failure is logged, and after
Redis returns the beat-driven sweep enqueues the missing work: every solution gets its suggestion.

Real processes as in the stack: gunicorn (web), a Celery CPU worker, Celery beat, PostgreSQL and Redis.
"""

import json
import sys

import pytest

from tests.drills.services import (
    PrivatePostgres,
    PrivateRedis,
    Process,
    django_env,
    http,
    migrate_with_token,
    start_web,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.worker]


def _solution(index: int) -> dict:
    return {
        "id": f"drill-{index}",
        "problem": f"What is {index} + {index}?",
        "steps": [f"We add {index} + {index} = {2 * index + (index % 2)}.", f"The answer is {2 * index}."],
    }


def _suggested(base: str, token: str, count: int) -> bool:
    status, body = http("GET", f"{base}/api/v1/datasets/drill/solutions/?page_size=100", token=token)
    if status != 200:
        return False
    results = json.loads(body)["results"]
    done = 0
    for item in results:
        status, detail = http("GET", f"{base}/api/v1/datasets/drill/solutions/{item['id']}/", token=token)
        suggestions = json.loads(detail).get("suggestions", []) if status == 200 else []
        done += any(s["method"] == "arithmetic" and s["status"] == "succeeded" for s in suggestions)
    return len(results) == count and done == count


@pytest.fixture
def stack(tmp_path):
    postgres, redis = PrivatePostgres(), PrivateRedis()
    postgres.start()
    postgres.create_database()
    redis.start()
    processes: list[Process] = []
    yield postgres, redis, processes, tmp_path
    for process in processes:
        process.stop()
    redis.stop()
    postgres.remove()


def test_ingestion_survives_a_redis_outage_and_the_sweep_catches_up(stack):
    postgres, redis, processes, tmp_path = stack
    env = django_env(
        {
            "DATABASE_URL": postgres.url,
            "CELERY_BROKER_URL": redis.url,
            "SWEEP_INTERVAL_SECONDS": "2",
            "SCORING_STUCK_AFTER_SECONDS": "5",
        }
    )
    token = migrate_with_token(env)
    web, base = start_web(env, tmp_path / "web.log")
    processes.append(web)
    worker = Process(
        [sys.executable, "-m", "celery", "-A", "prmweb", "worker", "-Q", "default", "-c", "1", "--loglevel", "INFO"],
        env,
        tmp_path / "worker.log",
    )
    beat = Process(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "prmweb",
            "beat",
            "--loglevel",
            "INFO",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        env,
        tmp_path / "beat.log",
    )
    processes += [worker, beat]

    status, body = http(
        "POST",
        f"{base}/api/v1/datasets/",
        token=token,
        body=json.dumps({"name": "Drill", "slug": "drill", "scoring_methods": ["arithmetic"]}).encode(),
    )
    assert status == 201, body
    status, body = http(
        "POST",
        f"{base}/api/v1/datasets/drill/solutions/",
        token=token,
        body=json.dumps([_solution(i) for i in range(3)]).encode(),
    )
    assert status == 201, body
    assert wait_for(lambda: _suggested(base, token, 3), 60), worker.output()[-3000:]

    redis.stop()
    status, body = http(
        "POST",
        f"{base}/api/v1/datasets/drill/solutions/",
        token=token,
        body=json.dumps([_solution(i) for i in range(3, 8)]).encode(),
    )
    assert status == 201, body
    assert [item["status"] for item in json.loads(body)["items"]] == ["created"] * 5
    assert wait_for(lambda: "scoring not enqueued" in web.output(), 30), web.output()[-3000:]
    status, body = http("GET", f"{base}/api/v1/datasets/drill/solutions/?page_size=100", token=token)
    assert status == 200 and json.loads(body)["count"] == 8

    redis.start()  # same port, empty: whatever was queued before the outage is gone too
    assert wait_for(lambda: _suggested(base, token, 8), 120), (beat.output()[-2000:], worker.output()[-3000:])
