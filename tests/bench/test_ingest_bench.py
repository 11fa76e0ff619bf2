"""The ingestion benchmark runs end to end at a tiny size (correctness only, not timing)."""

import importlib.util
from pathlib import Path

import pytest

from annotations.models import Solution
from prmweb.celery import app as celery_app

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("ingest_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_bench_ingests_through_rest_and_bulk_create_and_cleans_up(monkeypatch):
    bench = _load_bench()
    posted: list[int] = []
    original = bench._time_rest

    def counting(client, dataset, bodies):
        seconds = original(client, dataset, bodies)
        posted.append(Solution.objects.filter(dataset=dataset).count())
        return seconds

    monkeypatch.setattr(bench, "_time_rest", counting)
    eager_before = celery_app.conf.task_always_eager
    result = bench.run_bench(solutions=6, batch=4, rounds=2)
    assert posted == [6, 6]  # every round stored all six through the API (two requests: 4 + 2)
    assert result.rest_seconds > 0 and result.bulk_create_seconds > 0
    assert result.ratio == pytest.approx(result.rest_seconds / result.bulk_create_seconds)
    report = result.report()
    assert "6 solutions, 4 per request, median of 2 rounds" in report
    assert "enqueued to an in-memory broker after commit, not run inline" in report
    assert "ratio" in report and "(target <= 2x)" in report
    assert not Solution.objects.filter(dataset__slug=bench.BENCH_SLUG).exists()
    assert celery_app.conf.task_always_eager == eager_before


def test_the_payload_is_valid_processbench_like_input():
    bench = _load_bench()
    payload = bench.make_payload(4)
    assert [item["id"] for item in payload] == ["bench-0", "bench-1", "bench-2", "bench-3"]
    assert payload[0]["problem"] == payload[1]["problem"] != payload[2]["problem"]
    assert all(len(item["steps"]) == 8 and -1 <= item["label"] < 8 for item in payload)
