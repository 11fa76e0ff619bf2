"""Drill: PostgreSQL restarts while the web app (gunicorn, as in the stack) keeps running."""

import json

import pytest

from tests.drills.services import PrivatePostgres, django_env, http, migrate_with_token, start_web, wait_for

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
    token = migrate_with_token(env)
    web, base = start_web(env, tmp_path / "gunicorn.log")
    try:
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
