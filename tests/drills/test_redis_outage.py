"""Drill: Redis (broker and cache) stops. The API keeps storing, the enqueue failure is logged, people
keep logging in and labelling in the workbench, and after Redis returns the beat-driven sweep enqueues
the missing work: every solution gets its suggestion and its final-answer check.

Real processes as in the stack: gunicorn (web), a Celery CPU worker, Celery beat, PostgreSQL and Redis
(a private redis-server on a free port, stopped and started by the drill; never the machine's).
"""

import json
import sys

import pytest

from tests.drills.services import (
    BrowserSession,
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
DRILL_PASSWORD = "drill-password-123"  # migrate_with_token's superuser


def _solution(index: int) -> dict:
    return {
        "id": f"drill-{index}",
        "problem": f"What is {index} + {index}?",
        "steps": [f"We add {index} + {index} = {2 * index + (index % 2)}.", f"The answer is {2 * index}."],
        "reference_answer": str(2 * index),
    }


def _details(base: str, token: str) -> list[dict]:
    status, body = http("GET", f"{base}/api/v1/datasets/drill/solutions/?page_size=100", token=token)
    if status != 200:
        return []
    details = []
    for item in json.loads(body)["results"]:
        status, detail = http("GET", f"{base}/api/v1/datasets/drill/solutions/{item['id']}/", token=token)
        details.append(json.loads(detail) if status == 200 else {})
    return details


def _answer_checked(base: str, token: str, count: int) -> bool:
    details = _details(base, token)
    return len(details) == count and all(detail.get("answer_check") is not None for detail in details)


def _workbench_works_while_redis_is_down(base: str) -> None:
    """Log in through the login form (a wrong password first), open the queue and label a solution."""
    browser = BrowserSession(base)
    status, _, page = browser.post_form("/accounts/login/", {"username": "drill", "password": "wrong"})
    assert status == 200 and "Please enter a correct username and password." in page, (status, page[:300])
    status, location, _ = browser.post_form("/accounts/login/", {"username": "drill", "password": DRILL_PASSWORD})
    assert (status, location) == (302, "/")
    status, location, _ = browser.request("GET", "/datasets/drill/next/")
    assert status == 302 and location.startswith("/annotate/"), (status, location)
    status, location, page = browser.post_form(location, {"earliest_error_step": "0", "seconds_spent": "3"})
    assert status == 302, (status, page[:500])


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
            "CACHE_URL": f"redis://127.0.0.1:{redis.port}/1",  # the login throttle's shared cache
            "SWEEP_INTERVAL_SECONDS": "2",
            "SCORING_STUCK_AFTER_SECONDS": "5",
            "ANSWER_CHECK_SWEEP_AFTER_SECONDS": "2",
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
    assert wait_for(lambda: _answer_checked(base, token, 3), 60), worker.output()[-3000:]

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
    assert [detail["answer_check"] for detail in _details(base, token)].count(None) == 5  # never enqueued
    _workbench_works_while_redis_is_down(base)
    assert "login throttle: the shared cache is unavailable" in web.output()
    assert "Internal Server Error" not in web.output()

    redis.start()  # same port, empty: whatever was queued before the outage is gone too
    assert wait_for(lambda: _suggested(base, token, 8), 120), (beat.output()[-2000:], worker.output()[-3000:])
    assert wait_for(lambda: _answer_checked(base, token, 8), 120), (beat.output()[-2000:], worker.output()[-3000:])
    checks = {detail["external_id"]: detail["answer_check"] for detail in _details(base, token)}
    assert checks == {f"drill-{index}": True for index in range(8)}
