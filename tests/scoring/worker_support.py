"""Real Celery worker processes for the worker tests: started against Redis and the test database.

The test process publishes to Redis (db 3 of the local server, not eager mode); each worker is a
`celery -A prmweb worker` subprocess whose DATABASE_URL names pytest-django's test database, so both
see the same committed rows (the tests use `transactional_db`).
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import kombu.pools
import redis
from django.db import connection

from prmweb.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BROKER_URL = os.environ.get("PRMWEB_TEST_BROKER_URL", "redis://127.0.0.1:6379/3")
CELERY = str(Path(sys.executable).with_name("celery"))


def redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(BROKER_URL, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def _reset_publisher() -> None:
    """Drop Celery's and kombu's cached connections so the next publish uses the current broker settings."""
    kombu.pools.reset()
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@contextmanager
def publishing_to(broker_url: str) -> Iterator[None]:
    """Make this test process send tasks to `broker_url` instead of running them in-process."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "task_always_eager")}
    celery_app.conf.update(broker_url=broker_url, task_always_eager=False)
    _reset_publisher()
    try:
        yield
    finally:
        celery_app.conf.update(saved)
        _reset_publisher()


def database_url() -> str:
    """Return the URL of the database this test runs against (pytest-django's test database)."""
    settings = connection.settings_dict
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return (
        f"postgres://{settings['USER']}{password}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}"
    )


class Worker:
    """One `celery -A prmweb worker` subprocess, its log file, and a way to kill it."""

    def __init__(self, log_dir: Path, environment: dict[str, str], queues: str = "gpu,default"):
        self.name = f"test-{uuid.uuid4().hex[:8]}@localhost"
        self.log_path = log_dir / f"{self.name}.log"
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "prmweb.settings.test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": BROKER_URL,
            "PYTHONPATH": str(ROOT),
            "VLLM_WORKER_MULTIPROC_METHOD": "spawn",
            **environment,
        }
        command = [
            CELERY, "-A", "prmweb", "worker", "-Q", queues, "-P", "solo", "-c", "1", "--prefetch-multiplier=1",
            "-n", self.name, "-l", "INFO", "--without-mingle", "--without-gossip", "--without-heartbeat",
        ]  # fmt: skip
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 45.0) -> None:
        wait_for(lambda: " ready." in self.log(), timeout, f"worker {self.name} to start", self)

    def kill(self) -> None:
        """SIGKILL the worker: no cleanup, no acknowledgement of the task it is running."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


def wait_for(condition: Callable[[], Any], timeout: float, what: str, *workers: Worker) -> Any:
    """Poll `condition` until it returns something truthy; fail with the workers' logs on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    logs = "\n".join(f"--- {worker.name}\n{worker.log()[-4000:]}" for worker in workers)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}\n{logs}")
