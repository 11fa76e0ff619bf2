"""Settings the environment decides (read by running `prmweb/settings/base.py` as a fresh module)."""

import runpy
from pathlib import Path

import pytest

BASE_SETTINGS = Path(__file__).resolve().parents[2] / "prmweb" / "settings" / "base.py"


@pytest.mark.parametrize(
    ("database_url", "conn_max_age", "expected"),
    [
        ("postgres://prmweb@127.0.0.1:5432/prmweb", None, 60),  # a new PostgreSQL connection costs a fork
        ("sqlite:////tmp/prmweb-settings-test.sqlite3", None, 0),
        ("postgres://prmweb@127.0.0.1:5432/prmweb", "0", 0),  # the environment still decides
        ("sqlite:////tmp/prmweb-settings-test.sqlite3", "30", 30),
    ],
)
def test_database_connections_persist_by_default_on_postgresql_only(monkeypatch, database_url, conn_max_age, expected):
    monkeypatch.setenv("DATABASE_URL", database_url)
    if conn_max_age is None:
        monkeypatch.delenv("CONN_MAX_AGE", raising=False)
    else:
        monkeypatch.setenv("CONN_MAX_AGE", conn_max_age)
    database = runpy.run_path(str(BASE_SETTINGS))["DATABASES"]["default"]
    assert (database["CONN_MAX_AGE"], database["CONN_HEALTH_CHECKS"]) == (expected, True)
