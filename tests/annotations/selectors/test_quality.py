"""Dashboard figures from the database: hand-computed values, constant query count, ProcessBench parity."""

import json
import random
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.selectors.quality import dataset_quality
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

RECORDS = json.loads((Path(__file__).parents[2] / "fixtures/processbench/review_records.json").read_text())


def build_scenario():
    """Six labelled solutions, three annotators, judge/mc/consensus suggestions (see the expected values)."""
    dataset = DatasetFactory(slug="quality")
    alice, bob, carol = (UserFactory(username=name) for name in ("alice", "bob", "carol"))

    def solution(subset, status="final", final=None, source=None):
        made = SolutionFactory(dataset=dataset, subset=subset, status=status)
        if final is not None:
            FinalLabelFactory(solution=made, label=final, source=source)
        return made

    s1 = solution("gsm8k", final=1, source="unanimous")
    s2 = solution("gsm8k", final=-1, source="unanimous")
    s3 = solution("math", final=2, source="review")
    s4 = solution("math", final=0, source="consensus_auto")
    s5 = solution("gsm8k", status="open", final=-1, source="imported")
    s6 = solution("math", final=-1, source="review")
    solution("math", status="needs_review")
    solution("math", status="discarded")
    for annotator, labels, seconds, visible in (
        (alice, (1, -1, 0), 10, True),
        (bob, (1, -1, 0), 20, True),
        (carol, (1, -1, 2), 30, False),
    ):
        for target, label in zip((s1, s2, s3), labels, strict=True):
            AnnotationFactory(
                solution=target,
                annotator=annotator,
                earliest_error_step=label,
                seconds_spent=seconds,
                suggestions_visible=visible,
            )
    for target, label in ((s1, 1), (s2, -1), (s3, 0), (s4, 0), (s5, 2), (s6, -1)):
        SuggestionFactory(solution=target, method="judge", label=label, seconds=2, model_name="judge-7b")
    for target, label in ((s1, 2), (s2, -1)):
        SuggestionFactory(solution=target, method="mc", label=label, seconds=10, rollouts=8)
    for target, label in ((s1, 1), (s2, -1), (s4, 0)):
        SuggestionFactory(solution=target, method="consensus", label=label)
    SuggestionFactory(solution=s3, method="mc", status="failed", label=None, seconds=4, rollouts=2)
    SuggestionFactory(solution=s5, method="mc", status="skipped", label=None, seconds=0, rollouts=0)
    for target in (s1, s2):
        SuggestionFactory(solution=target, method="prm", status="failed", label=None, seconds=3)
    SuggestionFactory(solution=s6, method="prm", status="queued", label=None)  # not counted: still waiting
    return dataset


def test_progress_and_cost():
    figures = dataset_quality(dataset=build_scenario())
    progress = figures.progress
    assert progress.solutions == 8
    assert progress.by_status == {"waiting": 0, "open": 1, "needs_review": 1, "final": 5, "discarded": 1}
    assert progress.final_by_source == {
        "unanimous": 2,
        "majority": 0,
        "review": 2,
        "consensus_auto": 1,
        "imported": 1,
    }
    assert [(d.annotations_total, d.final_labels_total) for d in progress.timeline][-1] == (9, 6)
    cost = figures.cost
    # labels made here: unanimous 2 + review 2 + consensus_auto 1 (the imported one is not); 10+20+30 s x 3 each
    assert (cost.final_labels, cost.human_seconds, cost.human_seconds_per_final_label) == (5, 180.0, 36.0)
    assert (cost.no_human_labels, cost.no_human_share) == (1, pytest.approx(1 / 5))
    # mc: 2 succeeded (10 s, 8 rollouts each), 1 failed (4 s, 2 rollouts), 1 skipped (left out of the means)
    assert cost.machine["mc"] == {
        "suggestions": 3,
        "succeeded": 2,
        "failed": 1,
        "skipped": 1,
        "seconds": 8.0,
        "rollouts": 6.0,
        "prompt_tokens": 0.0,
        "generated_tokens": 0.0,
    }
    assert cost.machine["judge"] == {
        "suggestions": 6,
        "succeeded": 6,
        "failed": 0,
        "skipped": 0,
        "seconds": 2.0,
        "rollouts": 0.0,
        "prompt_tokens": 0.0,
        "generated_tokens": 0.0,
    }
    prm = cost.machine["prm"]
    assert (prm["suggestions"], prm["succeeded"], prm["failed"], prm["skipped"], prm["seconds"]) == (2, 0, 2, 0, 3.0)
    assert list(cost.machine) == ["consensus", "judge", "mc", "prm"]


def test_agreement_figures():
    agreement = dataset_quality(dataset=build_scenario()).agreement
    # items {1:3}, {-1:3}, {0:2, 2:1}: 7 of 9 pairs agree; P = 7/9, Pe = 23/81 -> kappa = 40/58
    assert (agreement.items, agreement.ratings) == (3, 9)
    assert agreement.pairwise_agreement == pytest.approx(7 / 9)
    assert agreement.unanimous_share == pytest.approx(2 / 3)
    assert agreement.fleiss_kappa == pytest.approx(40 / 58)
    assert -1 <= agreement.krippendorff_alpha <= 1


def test_method_table_scores_against_people_and_imported_labels_only():
    methods = {row.method: row for row in dataset_quality(dataset=build_scenario()).methods}
    judge = methods["judge"]
    assert judge.model_name == "judge-7b"
    gsm8k, math = judge.report.subsets["gsm8k"], judge.report.subsets["math"]
    assert (gsm8k.acc_error, gsm8k.acc_correct, gsm8k.f1) == (1.0, 0.5, pytest.approx(2 / 3))
    assert (math.acc_error, math.acc_correct, math.f1) == (0.0, 1.0, 0.0)  # s4 (consensus_auto) left out
    assert judge.report.mean_f1 == pytest.approx(1 / 3)
    assert judge.report.pooled.f1 == pytest.approx(4 / 7)
    assert judge.report.items == 5
    assert (judge.labelled, judge.coverage) == (5, 1.0)
    # mc: s1 wrong (2 vs 1), s2 right, s3 failed and s5 skipped count as misses (run_eval.py's None prediction)
    mc = methods["mc"]
    assert list(mc.report.subsets) == ["gsm8k", "math"]
    assert (mc.report.items, mc.labelled, mc.coverage) == (4, 2, 0.5)
    assert (mc.subset_coverage("gsm8k"), mc.subset_coverage("math")) == (pytest.approx(2 / 3), 0.0)
    gsm8k, math = mc.report.subsets["gsm8k"], mc.report.subsets["math"]
    assert (gsm8k.acc_error, gsm8k.acc_correct, gsm8k.f1) == (0.0, 0.5, 0.0)
    assert (math.erroneous, math.correct, math.acc_error, math.acc_correct, math.f1) == (1, 0, 0.0, None, None)
    assert (mc.report.pooled.acc_error, mc.report.pooled.acc_correct, mc.report.pooled.f1) == (0.0, 0.5, 0.0)
    assert mc.report.mean_f1 is None  # math has no correct item: its F1 is undefined
    # prm: both finished suggestions failed, the queued one does not count; both accuracies 0 give F1 0
    prm = methods["prm"]
    assert (prm.report.items, prm.labelled, prm.coverage) == (2, 0, 0.0)
    assert (prm.report.pooled.acc_error, prm.report.pooled.acc_correct, prm.report.pooled.f1) == (0.0, 0.0, 0.0)
    assert methods["consensus"].report.pooled.f1 == 1.0


def test_annotator_table():
    rows = {row.username: row for row in dataset_quality(dataset=build_scenario()).annotators}
    assert list(rows) == ["alice", "bob", "carol"]
    assert (rows["alice"].annotations, rows["alice"].mean_seconds) == (3, 10.0)
    assert (rows["alice"].compared, rows["alice"].accuracy) == (3, pytest.approx(2 / 3))
    assert rows["carol"].accuracy == 1.0
    assert rows["carol"].report.subsets["math"].acc_error == 1.0
    assert rows["alice"].report.subsets["math"].acc_error == 0.0
    assert rows["alice"].gold_accuracy is None


def test_position_histograms_per_source():
    positions = dataset_quality(dataset=build_scenario()).positions
    # people: s1 step 2 of 3 (0.5), s3 step 3 of 3 (1.0), two all-correct (s2, s6); s4 is auto, s5 imported
    assert positions["people"].bins == (0, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    assert positions["people"].all_correct == 2
    assert (positions["imported"].bins, positions["imported"].all_correct) == ((0,) * 10, 1)
    assert positions["judge"].bins == (2, 0, 0, 0, 0, 1, 0, 0, 0, 1)
    assert positions["judge"].all_correct == 2
    assert list(positions) == ["people", "imported", "consensus", "judge", "mc"]


def test_people_positions_never_count_imported_labels_and_no_imported_chart_without_them():
    dataset = DatasetFactory()
    gold = SolutionFactory(dataset=dataset, is_gold=True, imported_label=0, status="final")
    FinalLabelFactory(solution=gold, label=0, source="imported")
    positions = dataset_quality(dataset=dataset).positions
    assert (positions["people"].total, positions["imported"].bins[0]) == (0, 1)
    plain = DatasetFactory()
    FinalLabelFactory(solution=SolutionFactory(dataset=plain), label=2, source="majority")
    positions = dataset_quality(dataset=plain).positions
    assert list(positions) == ["people"]
    assert positions["people"].bins[9] == 1


def test_anchoring_and_audit():
    figures = dataset_quality(dataset=build_scenario())
    anchoring = {row.method: row for row in figures.anchoring}
    judge = anchoring["judge"]
    assert (judge.visible, judge.visible_agree, judge.hidden, judge.hidden_agree) == (6, 6, 3, 2)
    mc = anchoring["mc"]
    assert (mc.visible, mc.visible_agree, mc.hidden, mc.hidden_agree) == (4, 2, 2, 1)
    assert (figures.audit.compared, figures.audit.agree, figures.audit.precision) == (2, 2, 1.0)


def test_query_count_does_not_grow_with_the_dataset():
    dataset = build_scenario()
    with CaptureQueriesContext(connection) as small:
        dataset_quality(dataset=dataset)
    for index in range(30):
        target = SolutionFactory(dataset=dataset, subset=f"s{index % 3}")
        FinalLabelFactory(solution=target, label=index % 3 - 1, source="unanimous")
        AnnotationFactory(solution=target, earliest_error_step=index % 3 - 1)
        AnnotationFactory(solution=target, earliest_error_step=-1)
        SuggestionFactory(solution=target, method="prm", label=0)
    with CaptureQueriesContext(connection) as large:
        dataset_quality(dataset=dataset)
    assert len(small.captured_queries) == len(large.captured_queries) == 14


def test_method_metrics_on_real_records_equal_processbench_reference():
    """ProcessBench's own definition (run_eval.py) on 140 real records vs the dashboard's database path."""
    dataset = DatasetFactory()
    rng = random.Random(7)
    predictions = []
    for record in RECORDS:
        subset = record["id"].split("-")[0]
        solution = SolutionFactory(
            dataset=dataset,
            external_id=record["id"],
            subset=subset,
            steps=record["steps"],
            generator=record["generator"],
            final_answer_correct=record["final_answer_correct"],
            imported_label=record["label"],
        )
        FinalLabelFactory(solution=solution, label=record["label"], source="imported")
        prediction = record["label"] if rng.random() < 0.6 else rng.randint(-1, len(record["steps"]) - 1)
        predictions.append(prediction)
        SuggestionFactory(solution=solution, method="judge", label=prediction)
    report = dataset_quality(dataset=dataset).methods[0].report

    def reference(subset):
        res_data = [
            dict(r, match=p == r["label"])
            for r, p in zip(RECORDS, predictions, strict=True)
            if subset in (None, r["id"].split("-")[0])
        ]
        data1 = [e for e in res_data if e["label"] != -1]
        data2 = [e for e in res_data if e["label"] == -1]
        acc1 = sum(e["match"] for e in data1) / len(data1) * 100
        acc2 = sum(e["match"] for e in data2) / len(data2) * 100
        return acc1, acc2, 2 * acc1 * acc2 / (acc1 + acc2)

    for subset in ("gsm8k", "math"):
        acc1, acc2, f1 = reference(subset)
        metrics = report.subsets[subset]
        assert (metrics.acc_error * 100, metrics.acc_correct * 100, metrics.f1 * 100) == (
            pytest.approx(acc1),
            pytest.approx(acc2),
            pytest.approx(f1),
        )
    assert report.mean_f1 * 100 == pytest.approx((reference("gsm8k")[2] + reference("math")[2]) / 2)
    assert report.pooled.f1 * 100 == pytest.approx(reference(None)[2])
    assert (report.pooled.erroneous, report.pooled.correct) == (70, 70)


def test_failed_and_skipped_suggestions_lower_f1_exactly_as_run_eval_counts_none():
    """run_eval.py: a None prediction never matches; the dashboard must count failed/skipped suggestions so."""
    dataset = DatasetFactory()
    rng = random.Random(11)
    scored, predictions = [], []
    for record in RECORDS:
        solution = SolutionFactory(
            dataset=dataset,
            external_id=record["id"],
            subset=record["id"].split("-")[0],
            steps=record["steps"],
            imported_label=record["label"],
        )
        FinalLabelFactory(solution=solution, label=record["label"], source="imported")
        roll = rng.random()
        if roll < 0.05:
            continue  # never scored: no suggestion, no prediction
        if roll < 0.10:
            SuggestionFactory(solution=solution, method="judge", status="queued", label=None)
            continue  # not finished yet: not counted
        if roll < 0.25:
            status, prediction = rng.choice(["failed", "skipped"]), None
        else:
            status = "succeeded"
            prediction = record["label"] if rng.random() < 0.7 else rng.randint(-1, len(record["steps"]) - 1)
        SuggestionFactory(solution=solution, method="judge", status=status, label=prediction)
        scored.append(record)
        predictions.append(prediction)
    row = dataset_quality(dataset=dataset).methods[0]

    def run_eval(subset):
        res_data = []
        for record, pred in zip(scored, predictions, strict=True):
            if subset in (None, record["id"].split("-")[0]):
                d = dict(record)
                d["prediction"] = pred
                d["match"] = pred == d["label"]
                res_data.append(d)
        error_data = [e for e in res_data if e["label"] != -1]
        correct_data = [e for e in res_data if e["label"] == -1]
        acc1 = sum(e["match"] for e in error_data) / len(error_data) * 100
        acc2 = sum(e["match"] for e in correct_data) / len(correct_data) * 100
        return acc1, acc2, 2 * acc1 * acc2 / (acc1 + acc2)

    nones = predictions.count(None)
    assert 10 < nones < len(predictions)
    assert (row.report.items, row.labelled) == (len(scored), len(scored) - nones)
    assert row.coverage == pytest.approx((len(scored) - nones) / len(scored))
    for subset in ("gsm8k", "math"):
        acc1, acc2, f1 = run_eval(subset)
        figures = row.report.subsets[subset]
        assert (figures.acc_error * 100, figures.acc_correct * 100, figures.f1 * 100) == (
            pytest.approx(acc1),
            pytest.approx(acc2),
            pytest.approx(f1),
        )
    assert row.report.pooled.f1 * 100 == pytest.approx(run_eval(None)[2])
    assert row.report.mean_f1 * 100 == pytest.approx((run_eval("gsm8k")[2] + run_eval("math")[2]) / 2)
    # counting only the labelled suggestions, as before, would have scored higher
    labelled = [(r, p) for r, p in zip(scored, predictions, strict=True) if p is not None]
    hits = sum(p == r["label"] for r, p in labelled if r["label"] >= 0)
    assert row.report.pooled.acc_error < hits / sum(1 for r, _ in labelled if r["label"] >= 0)


def test_a_failed_rerun_that_kept_an_earlier_label_is_a_miss():
    """A suggestion that failed on a re-run may still hold the label of its earlier success: not a prediction."""
    dataset = DatasetFactory()
    right, stale = (SolutionFactory(dataset=dataset, subset="gsm8k") for _ in range(2))
    for solution in (right, stale):
        FinalLabelFactory(solution=solution, label=1, source="imported")
    SuggestionFactory(solution=right, method="judge", status="succeeded", label=1)
    SuggestionFactory(solution=stale, method="judge", status="failed", label=1, error="timed out")
    (row,) = dataset_quality(dataset=dataset).methods
    subset = row.report.subsets["gsm8k"]
    assert (subset.erroneous, subset.acc_error, row.labelled, row.coverage) == (2, 0.5, 1, 0.5)
