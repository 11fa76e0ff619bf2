"""Logins keep working while the shared cache (Redis) is down: the throttle degrades, never a 500."""

import logging

import pytest
from django.test import Client
from django.urls import reverse

from annotations.services import login_attempts
from tests.drills.services import free_port
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"
WARNING = "login throttle: the shared cache is unavailable (ConnectionError: "


@pytest.fixture
def redis_down(settings):
    """Point the cache at a Redis port where nothing listens (connection refused, as while Redis is stopped)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    login_attempts._process_cache.clear()
    yield
    login_attempts._process_cache.clear()


@pytest.fixture
def alice(db):
    user = UserFactory(username="alice")
    user.set_password(PASSWORD)
    user.save()
    return user


def test_a_login_succeeds_and_the_cache_failure_is_logged(redis_down, alice, caplog):
    client = Client()
    with caplog.at_level(logging.WARNING, logger="annotations.services.login_attempts"):
        response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)
    assert any(record.getMessage().startswith(WARNING) for record in caplog.records)
    assert client.get("/").status_code == 200


def test_guessing_is_still_throttled_in_the_process_while_the_cache_is_down(redis_down, alice):
    client = Client()
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        assert response.status_code == 200
        assert "Please enter a correct username and password." in response.content.decode()
    refused = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed login attempts for this username. Try again in 15 minutes." in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_success_clears_the_failures_counted_during_the_outage(redis_down, alice):
    client = Client()
    for _ in range(4):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    client.post(reverse("logout"))
    for _ in range(4):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
