"""Quality figures against hand-computed values and against ProcessBench's own evaluation code."""

import json
import random
from pathlib import Path

import pytest

from annotations.metrics import (
    AnchoringRow,
    CostReport,
    OutcomeCounts,
    agreement_report,
    fleiss_kappa,
    krippendorff_alpha,
    outcome_counts,
    pairwise_agreement,
    position_bin,
    position_histogram,
    processbench_report,
    subset_metrics_from_counts,
    unanimous_share,
)
from prmweb.core.metrics import subset_metrics

RECORDS = json.loads((Path(__file__).parents[1] / "fixtures/processbench/review_records.json").read_text())


def processbench_reference(records, predictions):
    """ProcessBench's run_eval.py, transcribed: match = prediction == label; accuracies in percent."""
    res_data = [
        dict(record, match=prediction == record["label"])
        for record, prediction in zip(records, predictions, strict=True)
    ]
    data1 = [e for e in res_data if e["label"] != -1]
    data2 = [e for e in res_data if e["label"] == -1]
    acc1 = sum(e["match"] for e in data1) / len(data1) * 100
    acc2 = sum(e["match"] for e in data2) / len(data2) * 100
    f1 = 2 * acc1 * acc2 / (acc1 + acc2)
    return acc1, acc2, f1


def synthetic_predictions(records, seed):
    """Return a seeded mix of right labels and random wrong ones (about 60% right)."""
    rng = random.Random(seed)
    return [record["label"] if rng.random() < 0.6 else rng.randint(-1, len(record["steps"]) - 1) for record in records]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_processbench_metrics_equal_the_reference_on_real_records(seed):
    predictions = synthetic_predictions(RECORDS, seed)
    counts = {}
    for subset in ("gsm8k", "math"):
        picked = [(r, p) for r, p in zip(RECORDS, predictions, strict=True) if r["id"].startswith(subset)]
        records = [r for r, _ in picked]
        preds = [p for _, p in picked]
        acc_error, acc_correct, f1 = processbench_reference(records, preds)
        from_counts = subset_metrics_from_counts(outcome_counts([r["label"] for r in records], preds))
        from_lists = subset_metrics([r["label"] for r in records], preds)
        for metrics in (from_counts, from_lists):
            assert metrics.acc_error * 100 == pytest.approx(acc_error)
            assert metrics.acc_correct * 100 == pytest.approx(acc_correct)
            assert metrics.f1 * 100 == pytest.approx(f1)
        counts[subset] = outcome_counts([r["label"] for r in records], preds)
    report = processbench_report(counts)
    reference_f1s = [
        processbench_reference(
            [r for r in RECORDS if r["id"].startswith(s)],
            [p for r, p in zip(RECORDS, predictions, strict=True) if r["id"].startswith(s)],
        )[2]
        for s in ("gsm8k", "math")
    ]
    assert report.mean_f1 * 100 == pytest.approx(sum(reference_f1s) / 2)
    assert report.pooled.f1 * 100 == pytest.approx(processbench_reference(RECORDS, predictions)[2])
    assert report.items == 140


def test_processbench_report_by_hand():
    # gsm8k: 4 erroneous, 3 hit; 2 correct, 1 hit -> a=0.75, b=0.5, F1=0.6
    # math: 2 erroneous, 2 hit; 2 correct, 0 hit -> a=1.0, b=0.0, F1=0.0
    report = processbench_report({"math": OutcomeCounts(2, 2, 2, 0), "gsm8k": OutcomeCounts(4, 3, 2, 1)})
    assert list(report.subsets) == ["gsm8k", "math"]
    gsm8k = report.subsets["gsm8k"]
    assert (gsm8k.acc_error, gsm8k.acc_correct, gsm8k.f1) == (0.75, 0.5, pytest.approx(0.6))
    assert report.subsets["math"].f1 == 0.0
    assert report.mean_f1 == pytest.approx(0.3)
    # pooled: 6 erroneous, 5 hit; 4 correct, 1 hit -> a=5/6, b=1/4, F1=2ab/(a+b)=(5/12)/(13/12)=5/13
    assert report.pooled.f1 == pytest.approx(5 / 13)
    assert (report.pooled.erroneous, report.pooled.correct) == (6, 4)


def test_a_subset_without_correct_items_has_no_f1_and_no_mean():
    report = processbench_report({"a": OutcomeCounts(3, 3, 0, 0), "b": OutcomeCounts(1, 1, 1, 1)})
    assert report.subsets["a"].acc_correct is None
    assert report.subsets["a"].f1 is None
    assert report.mean_f1 is None
    assert report.pooled.f1 == 1.0


def test_outcome_counts_treat_missing_predictions_as_misses_and_check_lengths():
    assert outcome_counts([2, -1, 0], [None, None, 0]) == OutcomeCounts(2, 1, 1, 0)
    with pytest.raises(ValueError, match=r"^predictions: expected 3 items"):
        outcome_counts([2, -1, 0], [1])


WIKIPEDIA_FLEISS = [  # 10 items, 14 raters, 5 categories: P = 0.378, Pe = 0.213, kappa = 0.210
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_kappa_matches_the_textbook_example():
    items = [{category: count for category, count in enumerate(row) if count} for row in WIKIPEDIA_FLEISS]
    assert round(fleiss_kappa(items), 3) == 0.210


def test_fleiss_kappa_with_varying_raters_by_hand():
    items = [{1: 2}, {1: 1, 2: 1}, {2: 3}, {5: 1}]  # the single rating is left out
    # P = (1 + 0 + 1) / 3; Pe = (3/7)^2 + (4/7)^2 = 25/49; kappa = (2/3 - 25/49) / (24/49) = 23/72
    assert fleiss_kappa(items) == pytest.approx(23 / 72)
    assert pairwise_agreement(items) == pytest.approx(4 / 5)
    assert unanimous_share(items) == pytest.approx(2 / 3)


def test_krippendorff_alpha_matches_the_textbook_example():
    # Krippendorff's (and Wikipedia's) example: 3 coders, 15 units, nominal alpha = 0.691
    items = [{2: 2}, {1: 2}, {3: 2}, {3: 2, 4: 1}, {4: 3}, {1: 1, 3: 1}, {2: 2}, {1: 2}, {1: 2}, {3: 2}, {3: 2}]
    items += [{3: 1, 4: 1}, {1: 1}]
    assert krippendorff_alpha(items) == pytest.approx(0.691358, abs=1e-6)


def test_agreement_is_undefined_without_pairs_or_without_variety():
    assert agreement_report([{1: 1}]).pairwise_agreement is None
    report = agreement_report([{0: 3}, {0: 2}])
    assert (report.items, report.ratings, report.pairwise_agreement, report.unanimous_share) == (2, 5, 1.0, 1.0)
    assert report.fleiss_kappa is None
    assert report.krippendorff_alpha is None


@pytest.mark.parametrize(
    "label, steps, expected",
    [(0, 10, 0), (9, 10, 9), (5, 11, 5), (2, 3, 9), (1, 3, 5), (0, 1, 0), (3, 31, 1), (29, 31, 9), (27, 31, 9)],
)
def test_position_bins_put_the_first_step_at_zero_and_the_last_in_the_last_bin(label, steps, expected):
    assert position_bin(label, steps) == expected


def test_position_bin_rejects_labels_outside_the_solution():
    with pytest.raises(ValueError, match=r"^label: 3 is not a step index"):
        position_bin(3, 3)


def test_position_histogram_by_hand():
    histogram = position_histogram([(-1, 4, 5), (3, 4, 2), (0, 4, 1), (1, 3, 3), (2, 21, 1)])
    # step 4 of 4 -> 1.0 (bin 9); step 1 of 4 -> 0.0; step 2 of 3 -> 0.5 (bin 5); step 3 of 21 -> 0.1 (bin 1)
    assert histogram.bins == (1, 1, 0, 0, 0, 3, 0, 0, 0, 2)
    assert (histogram.all_correct, histogram.erroneous, histogram.total) == (5, 7, 12)
    assert histogram.edges()[0] == (0.0, 0.1)
    assert histogram.edges()[-1] == (0.9, 1.0)


def test_anchoring_and_cost_rates():
    row = AnchoringRow("judge", visible=10, visible_agree=8, hidden=5, hidden_agree=2)
    assert (row.visible_rate, row.hidden_rate, row.difference) == (0.8, 0.4, pytest.approx(0.4))
    assert AnchoringRow("mc", 0, 0, 3, 1).difference is None
    cost = CostReport(final_labels=4, human_seconds=300.0, no_human_labels=1)
    assert (cost.human_seconds_per_final_label, cost.no_human_share) == (75.0, 0.25)
    assert CostReport(final_labels=0, human_seconds=0, no_human_labels=0).no_human_share is None
