"""The load benchmark runs end to end at a tiny size against real processes (correctness, not timing)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db
def test_load_bench_drives_annotators_and_ingestion_with_zero_errors():
    settings = connection.settings_dict
    database_url = (
        f"postgres://{settings['USER'] or 'postgres'}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
        f"/{settings['NAME']}_loadbench"
    )
    env = {**os.environ, "DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "prmweb.settings.base"}
    result = subprocess.run(
        [
            sys.executable,
            "bench/load_bench.py",
            "--annotators",
            "2",
            "--seconds",
            "4",
            "--solutions",
            "30",
            "--broker",
            "redis://127.0.0.1:6379/12",
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = {
        match.group(1).strip(): int(match.group(2))
        for match in re.finditer(
            r"^(GET next|POST submit|GET annotation page|POST /api/v1/\.\.\./solutions/ \(50/request\))"
            r"\s+(\d+)",
            result.stdout,
            re.MULTILINE,
        )
    }
    assert rows.keys() == {"GET next", "POST submit", "GET annotation page", "POST /api/v1/.../solutions/ (50/request)"}
    assert all(count > 0 for count in rows.values())
    assert "total errors: 0" in result.stdout
