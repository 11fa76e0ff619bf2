"""The ingestion benchmark runs end to end at a tiny size (correctness only, not timing)."""

import importlib.util
import json
from pathlib import Path

import pytest
from django.db import connection

from annotations.models import Solution
from prmweb.celery import app as celery_app

BENCH = Path(__file__).resolve().parents[2] / "bench" / "ingest_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("ingest_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_bench_ingests_through_rest_and_the_bare_write_and_cleans_up(monkeypatch):
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
    postgresql = connection.vendor == "postgresql"
    # a warm-up request, then two requests (4 + 2) per round, each stored through the API (twice on
    # PostgreSQL: with COPY and with the old bulk_create store)
    assert stored_after_posts == [2] + [4, 6] * (4 if postgresql else 2)
    assert result.rest_seconds > 0 and result.bare_seconds > 0 and result.ratio > 0
    assert (result.old_seconds is not None) == postgresql
    report = result.report()
    assert f"ingest bench ({connection.vendor}): 6 solutions, 4 per request, median of 2 rounds" in report
    assert "enqueued to an in-memory broker after commit, not run inline" in report
    assert ("REST / bare COPY" if postgresql else "REST / bare bulk_create") in report
    assert ("old store / REST" in report) == postgresql
    assert not Solution.objects.filter(dataset__slug__startswith=bench.BENCH_SLUG).exists()
    assert celery_app.conf.task_always_eager == eager_before
    if postgresql:
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('bench_annotations_solution')")
            assert cursor.fetchone() == (None,)  # the bare tables are dropped


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_bare_copy_writes_the_rows_the_api_stores():
    bench = _load_bench()
    payload = bench.make_payload(4)
    bench._reset_bare_tables()
    bench._bare_copy(payload)()
    rest, client = bench._setup()
    bench._post_batch(client, rest, json.dumps(payload).encode())
    columns = (
        "s.external_id, s.content_hash, s.steps::text, s.num_steps, s.imported_label, s.status, f.label, p.content_hash"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {columns} FROM bench_annotations_solution s "
            "JOIN bench_annotations_problem p ON p.id = s.problem_id "
            "JOIN bench_annotations_finallabel f ON f.solution_id = s.id ORDER BY 1"
        )
        bare = cursor.fetchall()
        cursor.execute(
            f"SELECT {columns} FROM annotations_solution s JOIN annotations_problem p ON p.id = s.problem_id "
            "JOIN annotations_finallabel f ON f.solution_id = s.id WHERE s.dataset_id = %s ORDER BY 1",
            [rest.pk],
        )
        assert cursor.fetchall() == bare
    bench._drop_bare_tables()
    assert len(bare) == 4


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
