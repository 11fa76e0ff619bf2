"""Production settings pass Django's deployment checks and refuse to start without a real secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _manage(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    dropped = ("SECRET_KEY", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")  # the browser tests set the last
    environment = {k: v for k, v in os.environ.items() if k not in dropped}
    environment.update({"DJANGO_SETTINGS_MODULE": "prmweb.settings.production", **env})
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean_under_production_settings():
    result = _manage(
        ["check", "--deploy", "--fail-level", "WARNING"], SECRET_KEY="x" * 20 + "-production-secret-" + "y" * 30
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    result = _manage(["check"])
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


HOW = (
    "Set SECRET_KEY to at least 50 random characters, e.g. "
    "python -c 'import secrets; print(secrets.token_urlsafe(50))'."
)


@pytest.mark.parametrize(
    "key, problem",
    [
        ("change-me", "SECRET_KEY is a publicly known default."),
        ("CHANGE-ME ", "SECRET_KEY is a publicly known default."),
        ("insecure-embedded-default-key-change-me-for-any-real-deployment", "SECRET_KEY is a publicly known default."),
        ("django-insecure-" + "k" * 50, "SECRET_KEY is a publicly known default."),
        ("x" * 49, "SECRET_KEY is too short (49 characters)."),
        ("short-but-random-3f9a", "SECRET_KEY is too short (21 characters)."),
    ],
)
def test_production_settings_refuse_a_weak_secret_key(key, problem):
    result = _manage(["check"], SECRET_KEY=key)
    assert result.returncode != 0
    (error,) = [line for line in result.stderr.splitlines() if "ImproperlyConfigured:" in line]
    assert error == f"django.core.exceptions.ImproperlyConfigured: {problem} {HOW}"
    assert key.strip() not in result.stderr  # never echoed


def test_production_settings_accept_a_long_random_key():
    result = _manage(["check"], SECRET_KEY="a" * 10 + "Zq9" * 14)  # 52 characters
    assert result.returncode == 0, result.stderr
