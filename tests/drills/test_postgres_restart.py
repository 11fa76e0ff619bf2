"""Drill: PostgreSQL restarts while the web app (gunicorn, as in the stack) keeps running."""

import json
import re
import sys

import pytest

from tests.drills.services import PrivatePostgres, Process, django_env, free_port, http, manage, port_open, wait_for

pytestmark = [pytest.mark.slow]


@pytest.fixture
def postgres():
    server = PrivatePostgres()
    server.start()
    server.create_database()
    yield server
    server.remove()


def test_requests_fail_cleanly_during_the_outage_and_recover_without_a_restart(postgres, tmp_path):
    env = django_env({"DATABASE_URL": postgres.url, "CONN_MAX_AGE": "60"})
    manage(["migrate", "--noinput"], env)
    manage(
        ["createsuperuser", "--noinput", "--username", "drill", "--email", "drill@example.org"],
        {**env, "DJANGO_SUPERUSER_PASSWORD": "drill-password-123"},
    )
    token = re.search(r"Generated token (\w+)", manage(["drf_create_token", "drill"], env).stdout).group(1)

    port = free_port()
    web = Process(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "prmweb.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--timeout",
            "30",
        ],
        env,
        tmp_path / "gunicorn.log",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        assert wait_for(lambda: port_open(port), 30), web.output()
        assert http("GET", f"{base}/api/v1/datasets/", token=token)[0] == 200
        assert http("GET", f"{base}/health/")[0] == 200

        postgres.stop()
        status, body = http("GET", f"{base}/api/v1/datasets/", token=token)
        assert status == 503, body
        assert json.loads(body)["message"] == "The database is unavailable; try again shortly."
        status, body = http("GET", f"{base}/health/")
        assert status == 503
        assert json.loads(body) == {"status": "unavailable", "database": False, "broker": None}
        assert "Traceback" not in body.decode()

        postgres.start()
        assert wait_for(lambda: http("GET", f"{base}/api/v1/datasets/", token=token)[0] == 200, 20)
        assert http("GET", f"{base}/health/")[0] == 200
        assert web.popen.poll() is None, "the web process must survive the outage"
    finally:
        web.stop()
