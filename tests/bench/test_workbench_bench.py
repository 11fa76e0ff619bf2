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
    result = bench.run_bench(solutions=40, requests=8, annotators=3, done_share=0.25)
    assert Solution.objects.count() == 40
    earlier = Solution.objects.filter(annotations__annotator__username="bench-earlier-1")
    assert list(earlier.values_list("external_id", flat=True).order_by("pk")) == [f"bench-{i}" for i in range(10)]
    assert set(earlier.values_list("status", flat=True)) == {"final"}
    assert Suggestion.objects.count() == 80
    # 3 earlier annotations on each of the 10 final solutions, one warm-up round per annotator, the timed rounds
    assert Annotation.objects.count() == 30 + 3 + 8
    assert not Annotation.objects.filter(
        solution__in=earlier, annotator__username__startswith="bench-annotator"
    ).exists()
    timed = Annotation.objects.filter(annotator__username__startswith="bench-annotator")
    assert set(timed.values_list("earliest_error_step", flat=True)) == {2}
    assert not Claim.objects.exists()
    for timings in (result.next, result.page, result.submit):
        assert len(timings.milliseconds) == 8
        assert all(milliseconds > 0 for milliseconds in timings.milliseconds)
    assert len(set(result.next.queries)) == 1
    assert len(set(result.page.queries)) == 1
    report = result.report()
    assert "workbench bench: 40 solutions, 3 annotators" in report
    assert "next (claim)     n=8" in report
    assert "target: next p95 <= 15 ms: " in report
    assert "target: submit p95 <= 20 ms: " in report
    served, baseline = result.queue_query
    assert served > 0 and baseline > 0
    assert "reading kept claim counts vs" in report
    # 8 statements (BEGIN and COMMIT, or SAVEPOINT and RELEASE, included); 13 when the k-th annotation
    # brings the final label.
    assert set(result.submit.queries) == {8, 13}
    assert set(result.next.queries) == {8}
