"""ProcessBench metrics against hand-computed values."""

import pytest

from prmweb.core.metrics import SubsetMetrics, aggregate, harmonic_mean, processbench_metrics, subset_metrics


def test_subset_metrics_by_hand():
    labels = [-1, -1, 2, 0, 3]
    predictions = [-1, 1, 2, None, 3]

    acc_error, acc_correct, f1 = processbench_metrics(labels, predictions)

    # erroneous items: 2 -> 2 (hit), 0 -> None (miss), 3 -> 3 (hit); correct items: -1 (hit), 1 (miss)
    assert acc_error == pytest.approx(2 / 3)
    assert acc_correct == pytest.approx(1 / 2)
    assert f1 == pytest.approx(4 / 7)
    assert subset_metrics(labels, predictions) == SubsetMetrics(
        acc_error=pytest.approx(2 / 3), acc_correct=0.5, f1=pytest.approx(4 / 7), erroneous=3, correct=2
    )


def test_predicting_a_later_or_earlier_step_is_wrong_and_none_is_wrong():
    assert processbench_metrics([1, 1, 1], [2, 0, None])[0] == 0.0
    assert processbench_metrics([-1, -1], [None, 0])[1] == 0.0


def test_f1_is_zero_when_both_accuracies_are_zero_and_undefined_without_items():
    assert harmonic_mean(0.0, 0.0) == 0.0
    assert processbench_metrics([-1, -1], [-1, -1]) == (None, 1.0, None)
    assert processbench_metrics([], []) == (None, None, None)


def test_mismatched_lengths_name_the_predictions():
    with pytest.raises(ValueError, match="predictions: expected 2 items"):
        processbench_metrics([0, 1], [0])


def test_aggregate_gives_the_unweighted_mean_of_subset_f1s_and_the_pooled_f1():
    subsets = {
        # gsm8k-like: acc_error 1/2, acc_correct 1 -> F1 2/3
        "gsm8k": ([0, 1, -1], [0, None, -1]),
        # math-like: acc_error 1, acc_correct 1/3 -> F1 1/2
        "math": ([2, -1, -1, -1], [2, -1, 0, 1]),
    }

    result = aggregate(subsets)

    assert result.mean_f1 == pytest.approx((2 / 3 + 1 / 2) / 2)
    # pooled: erroneous 3 items, 2 hits; correct 4 items, 2 hits -> F1 of 2/3 and 1/2 = 4/7
    assert result.pooled.acc_error == pytest.approx(2 / 3)
    assert result.pooled.acc_correct == pytest.approx(1 / 2)
    assert result.pooled.f1 == pytest.approx(4 / 7)
    assert (result.pooled.erroneous, result.pooled.correct) == (3, 4)


def test_aggregate_mean_is_undefined_when_a_subset_f1_is():
    assert aggregate({"a": ([0], [0]), "b": ([0, -1], [0, -1])}).mean_f1 is None
