"""Production settings pass Django's deployment checks and refuse to start without a secret."""

import os
import subprocess
import sys
from pathlib import Path

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
