"""The workbench benchmark runs end to end at a tiny size (correctness only, not timing)."""

import importlib.util
from pathlib import Path

import pytest

from annotations.models import Annotation, Claim, Solution, Suggestion

BENCH = Path(__file__).resolve().parents[2] / "bench" / "workbench_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("workbench_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_the_bench_claims_renders_and_submits_with_constant_queries():
    bench = _load_bench()
    result = bench.run_bench(solutions=40, requests=8, annotators=3)
    assert Solution.objects.count() == 40
    assert Suggestion.objects.count() == 80
    assert Annotation.objects.count() == 3 + 8  # one warm-up round per annotator, then the timed rounds
    assert set(Annotation.objects.values_list("earliest_error_step", flat=True)) == {2}
    assert not Claim.objects.exists()
    for timings in (result.next, result.page, result.submit):
        assert len(timings.milliseconds) == 8
        assert all(milliseconds > 0 for milliseconds in timings.milliseconds)
    assert len(set(result.next.queries)) == 1
    assert len(set(result.page.queries)) == 1
    report = result.report()
    assert "workbench bench: 40 solutions, 3 annotators" in report
    assert "next (claim)     n=8" in report
    assert "target: p95 < 50 ms for next and the annotation page" in report
