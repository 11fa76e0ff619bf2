"""ProcessBench metrics (pure): accuracy on erroneous items, on correct items, and their harmonic mean.

Per subset: `acc_error` is the share of erroneous items (label >= 0) whose prediction equals the label
exactly; `acc_correct` is the share of correct items (label -1) predicted -1; `f1 = 2ab / (a + b)`.
A None prediction (the method gave no label: failed, skipped, no consensus) counts as wrong, as ProcessBench's
`run_eval.py` counts one. A subset without erroneous (or without correct) items has no `acc_error` (or
`acc_correct`); its F1 is then undefined (None). When both accuracies are 0 the F1 is 0 (run_eval.py's
formula would divide 0 by 0).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class SubsetMetrics:
    """ProcessBench figures of one subset; accuracies in [0, 1], None where undefined."""

    acc_error: float | None
    acc_correct: float | None
    f1: float | None
    erroneous: int
    correct: int


@dataclass(frozen=True)
class AggregateMetrics:
    """Both averages over subsets: the paper's unweighted mean of F1s, and F1 over the pooled items."""

    mean_f1: float | None
    pooled: SubsetMetrics


def harmonic_mean(a: float | None, b: float | None) -> float | None:
    """Return 2ab/(a+b), 0.0 when both are 0, None when either is undefined."""
    if a is None or b is None:
        return None
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def subset_metrics(labels: Sequence[int], predictions: Sequence[int | None]) -> SubsetMetrics:
    """Return the ProcessBench metrics of one subset, with the item counts."""
    if len(labels) != len(predictions):
        raise ValueError(f"predictions: expected {len(labels)} items (one per label), got {len(predictions)}")
    error_hits = [p == y for y, p in zip(labels, predictions, strict=True) if y >= 0]
    correct_hits = [p == -1 for y, p in zip(labels, predictions, strict=True) if y == -1]
    acc_error = sum(error_hits) / len(error_hits) if error_hits else None
    acc_correct = sum(correct_hits) / len(correct_hits) if correct_hits else None
    return SubsetMetrics(
        acc_error=acc_error,
        acc_correct=acc_correct,
        f1=harmonic_mean(acc_error, acc_correct),
        erroneous=len(error_hits),
        correct=len(correct_hits),
    )


def processbench_metrics(
    labels: Sequence[int], predictions: Sequence[int | None]
) -> tuple[float | None, float | None, float | None]:
    """Return (acc_error, acc_correct, f1) of one subset."""
    metrics = subset_metrics(labels, predictions)
    return metrics.acc_error, metrics.acc_correct, metrics.f1


def aggregate(subsets: Mapping[str, tuple[Sequence[int], Sequence[int | None]]]) -> AggregateMetrics:
    """Return the unweighted mean of subset F1s (ProcessBench's average) and the metrics of all items pooled.

    `subsets` maps a subset name to its (labels, predictions). The mean is None when any subset's F1 is.
    """
    f1s = [subset_metrics(labels, predictions).f1 for labels, predictions in subsets.values()]
    mean_f1 = None if not f1s or any(f is None for f in f1s) else sum(f for f in f1s if f is not None) / len(f1s)
    pooled_labels = [label for labels, _ in subsets.values() for label in labels]
    pooled_predictions = [p for _, predictions in subsets.values() for p in predictions]
    return AggregateMetrics(mean_f1=mean_f1, pooled=subset_metrics(pooled_labels, pooled_predictions))
