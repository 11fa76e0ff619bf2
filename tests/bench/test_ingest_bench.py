"""The ingestion benchmark runs end to end at a tiny size (correctness only, not timing)."""

import importlib.util
import json
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
    stored_after_posts: list[int] = []
    original = bench._post_batch

    def counting(client, dataset, body):
        seconds = original(client, dataset, body)
        stored_after_posts.append(Solution.objects.filter(dataset=dataset).count())
        return seconds

    monkeypatch.setattr(bench, "_post_batch", counting)
    eager_before = celery_app.conf.task_always_eager
    result = bench.run_bench(solutions=6, batch=4, rounds=2)
    assert stored_after_posts == [4, 6, 4, 6]  # two requests (4 + 2) per round, each stored through the API
    assert result.rest_seconds > 0 and result.bulk_create_seconds > 0 and result.ratio > 0
    report = result.report()
    assert "6 solutions, 4 per request, median of 2 rounds" in report
    assert "enqueued to an in-memory broker after commit, not run inline" in report
    assert "(median of the rounds; target <= 2x)" in report
    assert not Solution.objects.filter(dataset__slug__startswith=bench.BENCH_SLUG).exists()
    assert celery_app.conf.task_always_eager == eager_before


@pytest.mark.django_db
def test_the_bare_rows_are_the_rows_the_api_stores():
    bench = _load_bench()
    payload = bench.make_payload(4)
    bare = bench._bare_dataset()
    bench._bare_rows(bare, payload)[1]()
    rest, client = bench._setup()
    bench._post_batch(client, rest, json.dumps(payload).encode())

    def rows(dataset):
        return sorted(
            Solution.objects.filter(dataset=dataset).values_list(
                "external_id", "content_hash", "steps", "imported_label", "final_label__label", "problem__content_hash"
            )
        )

    assert rows(bare) == rows(rest)
    assert len(rows(rest)) == 4


def test_the_payload_is_valid_processbench_like_input():
    bench = _load_bench()
    payload = bench.make_payload(4)
    assert [item["id"] for item in payload] == ["bench-0", "bench-1", "bench-2", "bench-3"]
    assert payload[0]["problem"] == payload[1]["problem"] != payload[2]["problem"]
    assert all(len(item["steps"]) == 8 and -1 <= item["label"] < 8 for item in payload)
