"""The export benchmark runs end to end at a tiny size (correctness only, not timing)."""

import importlib.util
import sys
from pathlib import Path

import pytest

from annotations.models import Dataset, Export

BENCH = Path(__file__).resolve().parents[2] / "bench" / "export_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("export_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_bench_seeds_exports_every_row_and_cleans_up():
    bench = _load_bench()
    results = bench.run_bench([30, 90], export_format="trl", child=False)
    assert [figures.rows for _, figures in results] == [30, 90]
    for seeded, figures in results:
        assert seeded > 0 and figures.seconds > 0 and figures.rows_per_second > 0
        assert figures.peak_rss_mb >= figures.rss_after_setup_mb > 0
        assert figures.files_bytes > 0
        assert " rows/s  RSS after setup " in figures.line()
    assert not Export.objects.exists()  # deleted with the bench datasets
    assert not Dataset.objects.filter(slug__startswith="bench-export-").exists()


@pytest.mark.django_db
def test_seeded_solutions_are_labelled_and_grouped_four_per_problem():
    bench = _load_bench()
    dataset = bench.seed_dataset(10)
    solutions = list(dataset.solutions.select_related("final_label").order_by("pk"))
    assert len(solutions) == 10
    assert dataset.problems.count() == 3
    assert all(solution.final_label.label == solution.imported_label for solution in solutions)
    assert {solution.final_label.source for solution in solutions} <= {"unanimous", "majority", "review", "imported"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_bench_measures_each_size_in_its_own_process(monkeypatch):
    from django.db import connection

    settings = connection.settings_dict
    monkeypatch.setenv(
        "DATABASE_URL", f"postgres://{settings['USER']}@{settings['HOST']}:{settings['PORT']}/{settings['NAME']}"
    )
    bench = _load_bench()
    results = bench.run_bench([40], export_format="qwen_prm", file_format="parquet")
    assert results[0][1].rows == 40
    assert results[0][1].peak_rss_mb > 50  # a Python process with Django and pyarrow loaded


@pytest.mark.django_db
def test_the_bench_exports_critique_rows_from_people_and_the_judge():
    bench = _load_bench()
    results = bench.run_bench([30], export_format="critique", critique_source="both", child=False)
    assert results[0][1].rows == 60  # every solution explained by people, and every judge critique agrees
    solution = bench.seed_dataset(4, judge=True).solutions.select_related("final_label").order_by("pk")[1]
    critique = solution.suggestions.get(method="judge").rationale
    assert critique.endswith(f"\\boxed{{{solution.final_label.label}}}") and len(critique) > 2200


@pytest.mark.django_db
def test_every_format_runs_on_the_base_install_without_analyze(monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setitem(sys.modules, "psutil", None)  # only the dev requirements have psutil: never needed
    bench = _load_bench()
    with CaptureQueriesContext(connection) as captured:
        results = bench.run_bench([30], export_format="all", child=False)
    assert not [query for query in captured if "ANALYZE" in query["sql"].upper()]
    rows = {figures.export: figures.rows for _, figures in results}
    assert rows == {
        "processbench": 30,
        "trl": 30,
        "math_shepherd": 30,
        "qwen_prm": 30,
        "annotations": 30,
        "critique (both)": 60,
        "step_feedback (both)": 60,
    }
    assert all(figures.line().startswith(figures.export) for _, figures in results)
    assert all(figures.rss_after_setup_mb > 0 for _, figures in results)
