"""Load: concurrent annotators and an ingesting script against the running app over HTTP on loopback.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/prmweb python bench/load_bench.py \
        --annotators 16 --seconds 30 --solutions 2000

Prepares a dataset `bench-load` (its rows are replaced), annotator accounts and a manager token in the
database DATABASE_URL points to (migrated here first), starts gunicorn on a free loopback port as the
stack does, then for `--seconds`: each annotator logs in and loops next -> annotation page -> submit
(a heartbeat every few rounds); one script posts bulk solutions to the REST API. Prints requests,
throughput and p50/p95 latency per endpoint, and the errors (any non-2xx/3xx or transport error).
Exits 1 when there were errors. Only 127.0.0.1 is contacted.
"""

import argparse
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SLUG = "bench-load"
PASSWORD = "bench-load-password-1"
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
ANNOTATE_RE = re.compile(r"/annotate/(\d+)/$")
STEPS_RE = re.compile(r'name="earliest_error_step" value="(\d+)"')


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, endpoint: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[endpoint].append(seconds)
            if error:
                self.errors[endpoint].append(error)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _ensure_database() -> None:
    """Create the PostgreSQL database DATABASE_URL names when it does not exist yet."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    name = connection.settings_dict["NAME"]
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')


def prepare(annotators: int, solutions: int) -> str:
    """Create the dataset, users and seed solutions; return the manager's API token."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from rest_framework.authtoken.models import Token

    from annotations.models import Dataset, DatasetMembership
    from annotations.services.ingestion import SolutionInput, solutions_ingest

    _ensure_database()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    Dataset.objects.filter(slug=SLUG).delete()
    dataset = Dataset.objects.create(name="Load benchmark", slug=SLUG, annotations_per_solution=3)
    users = get_user_model().objects
    manager, _ = users.get_or_create(username="bench-load-manager")
    DatasetMembership.objects.create(dataset=dataset, user=manager, role="manager")
    for index in range(annotators):
        user, _ = users.get_or_create(username=f"bench-load-{index}")
        user.set_password(PASSWORD)
        user.save()
        DatasetMembership.objects.create(dataset=dataset, user=user, role="annotator")
    for start in range(0, solutions, 1000):
        items = [_solution_input(SolutionInput, index) for index in range(start, min(start + 1000, solutions))]
        solutions_ingest(dataset=dataset, items=items)
    return Token.objects.get_or_create(user=manager)[0].key


def _solution_payload(index: int) -> dict:
    return {
        "id": f"load-{index}",
        "problem": f"A shop sells {index} pens at $3 each. What is the total cost?",
        "steps": [
            f"Each pen costs $3 and there are {index} pens.",
            f"So the cost is {index} \\times 3 = {3 * index}.",
            f"The answer is \\boxed{{{3 * index}}}.",
        ],
        "reference_answer": str(3 * index),
        "generator": "bench",
    }


def _solution_input(cls, index: int):
    payload = _solution_payload(index)
    return cls(
        problem=payload["problem"],
        steps=payload["steps"],
        external_id=payload["id"],
        reference_answer=payload["reference_answer"],
        generator="bench",
    )


def _timed(stats: Stats, endpoint: str, call, url: str, ok=lambda r: r.status_code < 400, **kwargs):
    started = time.perf_counter()
    try:
        response = call(url, timeout=kwargs.pop("timeout", 30), **kwargs)
    except requests.RequestException as error:
        stats.record(endpoint, time.perf_counter() - started, f"{type(error).__name__}: {error}")
        return None
    elapsed = time.perf_counter() - started
    stats.record(endpoint, elapsed, None if ok(response) else f"HTTP {response.status_code}")
    return response


def annotator_loop(base: str, index: int, clock: "Clock", stats: Stats) -> None:
    session = requests.Session()
    rng = random.Random(index)
    login_url = f"{base}/accounts/login/"
    login_page = _timed(stats, "GET /accounts/login/", session.get, login_url)
    if login_page is None:
        clock.wait()  # never leave the others waiting at the barrier
        return
    credentials = {
        "username": f"bench-load-{index}",
        "password": PASSWORD,
        "csrfmiddlewaretoken": _csrf(login_page.text),
    }
    _timed(
        stats,
        "POST /accounts/login/",
        session.post,
        login_url,
        ok=_redirected,
        data=credentials,
        headers={"Referer": login_url},
        allow_redirects=False,
    )
    deadline = clock.wait()
    rounds = 0
    while time.monotonic() < deadline:
        response = _timed(
            stats,
            "GET next",
            session.get,
            f"{base}/datasets/{SLUG}/next/",
            ok=lambda r: r.status_code in (200, 302),
            allow_redirects=False,
        )
        if response is None or response.status_code != 302:
            break  # nothing left (a 200 page) or an error already recorded
        match = ANNOTATE_RE.search(response.headers.get("Location", ""))
        if not match:
            stats.record("GET next", 0.0, f"unexpected redirect {response.headers.get('Location')}")
            break
        url = f"{base}/annotate/{match.group(1)}/"
        page = _timed(stats, "GET annotation page", session.get, url)
        if page is None or page.status_code != 200:
            continue
        if rounds % 3 == 2:
            headers = {"X-CSRFToken": session.cookies.get("csrftoken", ""), "Referer": url}
            _timed(stats, "POST heartbeat", session.post, f"{url}heartbeat/", headers=headers)
        steps = [int(value) for value in STEPS_RE.findall(page.text)] or [0]
        data = {
            "earliest_error_step": rng.choice([-1, *steps]),
            "rationale": "load test",
            "seconds_spent": "12.5",
            "csrfmiddlewaretoken": _csrf(page.text),
            "confirm_all_correct": "on",
        }
        _timed(
            stats,
            "POST submit",
            session.post,
            url,
            ok=_redirected,
            data=data,
            headers={"Referer": url},
            allow_redirects=False,
        )
        rounds += 1


def _csrf(html: str) -> str:
    match = CSRF_RE.search(html)
    if match is None:
        raise RuntimeError("the page has no CSRF token")
    return match.group(1)


class Clock:
    """Start the timed phase once every client has logged in; hand each its deadline."""

    def __init__(self, parties: int, seconds: float) -> None:
        self.barrier = threading.Barrier(parties, action=self._start)
        self.seconds = seconds
        self.started = 0.0

    def _start(self) -> None:
        self.started = time.monotonic()

    def wait(self) -> float:
        self.barrier.wait()
        return self.started + self.seconds


def _redirected(response: requests.Response) -> bool:
    return response.status_code == 302


def ingest_loop(base: str, token: str, start: int, clock: "Clock", stats: Stats, batch: int) -> None:
    deadline = clock.wait()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    solutions_url = f"{base}/api/v1/datasets/{SLUG}/solutions/"
    index = start
    while time.monotonic() < deadline:
        payload = [_solution_payload(i) for i in range(index, index + batch)]
        _timed(
            stats,
            f"POST /api/v1/.../solutions/ ({batch}/request)",
            session.post,
            solutions_url,
            ok=lambda r: r.status_code == 201,
            json=payload,
            timeout=60,
        )
        _timed(stats, "GET /api/v1/.../solutions/?status=open", session.get, f"{solutions_url}?status=open")
        index += batch


def report(stats: Stats, seconds: float) -> int:
    print(f"{'endpoint':<45}{'requests':>9}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}")
    total_errors = 0
    for endpoint, values in sorted(stats.latencies.items()):
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))] if ordered else 0.0
        errors = len(stats.errors.get(endpoint, []))
        total_errors += errors
        print(
            f"{endpoint:<45}{len(values):>9}{len(values) / seconds:>8.1f}"
            f"{statistics.median(ordered) * 1000:>9.1f}{p95 * 1000:>9.1f}{errors:>8}"
        )
    for endpoint, messages in stats.errors.items():
        print(f"errors on {endpoint}: {sorted(set(messages))[:5]}")
    print(f"total errors: {total_errors}")
    return total_errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--annotators", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--solutions", type=int, default=1000, help="seed solutions before the run")
    parser.add_argument("--batch", type=int, default=50, help="solutions per ingestion request")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--broker", default="redis://127.0.0.1:6379/9", help="Celery broker for the web and one CPU worker"
    )
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = args.broker

    token = prepare(args.annotators, args.solutions)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "prmweb.settings.base"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "prmweb", "worker", "-Q", "default", "-c", "1", "--loglevel", "WARNING"],
        cwd=REPO,
        env=env,
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "prmweb.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            "--timeout",
            "60",
            "--log-level",
            "warning",
        ],
        cwd=REPO,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                requests.get(f"{base}/health/", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.2)
        stats = Stats()
        clock = Clock(args.annotators + 2, args.seconds)
        threads = [
            threading.Thread(target=annotator_loop, args=(base, i, clock, stats)) for i in range(args.annotators)
        ]
        threads.append(
            threading.Thread(target=ingest_loop, args=(base, token, args.solutions, clock, stats, args.batch))
        )
        for thread in threads:
            thread.start()
        clock.wait()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - clock.started
        db = os.environ.get("DATABASE_URL", "sqlite").split("://")[0]
        print(
            f"load: {args.annotators} annotators + 1 ingesting script for {elapsed:.1f}s on {db}, "
            f"gunicorn {args.workers} workers x 4 threads, 1 Celery CPU worker, {args.solutions} seed solutions"
        )
        errors = report(stats, elapsed)
    finally:
        for process in (server, worker):
            process.terminate()
            process.wait(30)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
