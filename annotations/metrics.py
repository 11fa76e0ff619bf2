"""Quality figures as pure functions: ProcessBench scores from counts, agreement, error positions, anchoring.

No Django here. The dashboard selectors aggregate rows in SQL into the small count structures these
functions take, so the same code serves a 30-row test and a 100,000-solution dataset. ProcessBench's
per-subset figures reuse `prmweb.core.metrics` (the one definition of acc_error / acc_correct / F1).

Agreement definitions (labels are nominal categories: -1, 0, 1, ...):
- pairwise exact agreement: over all pairs of annotations of the same solution, the share of pairs with
  the same label (pairs pooled over solutions; solutions with fewer than two annotations do not count);
- Fleiss' kappa: kappa = (P - Pe) / (1 - Pe). With the same number of raters on every item this is
  Fleiss (1971) exactly. With varying numbers of raters, P is the mean over items of the item's
  agreement sum_j n_ij (n_ij - 1) / (n_i (n_i - 1)), and Pe = sum_j p_j^2 with p_j the share of all
  ratings in category j (the usual generalisation for unequal raters); items with one rating are left out;
- Krippendorff's alpha (nominal), by the `krippendorff` package from per-item value counts;
- unanimous share: solutions with two or more annotations that all carry the same label.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from prmweb.core.metrics import SubsetMetrics, harmonic_mean

POSITION_BINS = 10


def share(part: int | float, whole: int | float) -> float | None:
    """Return part / whole, or None when the whole is zero."""
    return part / whole if whole else None


# ProcessBench from counts -------------------------------------------------------------------------


@dataclass(frozen=True)
class OutcomeCounts:
    """Counts behind ProcessBench's figures for one group of items.

    `erroneous` items have a reference label >= 0, `error_hits` of them were predicted exactly;
    `correct` items have reference label -1, `correct_hits` of them were predicted -1.
    """

    erroneous: int = 0
    error_hits: int = 0
    correct: int = 0
    correct_hits: int = 0

    def __add__(self, other: "OutcomeCounts") -> "OutcomeCounts":
        return OutcomeCounts(
            self.erroneous + other.erroneous,
            self.error_hits + other.error_hits,
            self.correct + other.correct,
            self.correct_hits + other.correct_hits,
        )

    @property
    def items(self) -> int:
        return self.erroneous + self.correct


def outcome_counts(labels: Sequence[int], predictions: Sequence[int | None]) -> OutcomeCounts:
    """Count hits of `predictions` against reference `labels` (None predictions count as misses)."""
    if len(labels) != len(predictions):
        raise ValueError(f"predictions: expected {len(labels)} items (one per label), got {len(predictions)}")
    pairs = list(zip(labels, predictions, strict=True))
    return OutcomeCounts(
        erroneous=sum(1 for label, _ in pairs if label >= 0),
        error_hits=sum(1 for label, prediction in pairs if label >= 0 and prediction == label),
        correct=sum(1 for label, _ in pairs if label == -1),
        correct_hits=sum(1 for label, prediction in pairs if label == -1 and prediction == -1),
    )


def subset_metrics_from_counts(counts: OutcomeCounts) -> SubsetMetrics:
    """Return ProcessBench's acc_error, acc_correct and F1 for one subset's counts."""
    acc_error = share(counts.error_hits, counts.erroneous)
    acc_correct = share(counts.correct_hits, counts.correct)
    return SubsetMetrics(
        acc_error=acc_error,
        acc_correct=acc_correct,
        f1=harmonic_mean(acc_error, acc_correct),
        erroneous=counts.erroneous,
        correct=counts.correct,
    )


@dataclass(frozen=True)
class ProcessBenchReport:
    """ProcessBench figures by subset, their unweighted mean F1 (the paper's average) and the pooled figures."""

    subsets: dict[str, SubsetMetrics]
    mean_f1: float | None
    pooled: SubsetMetrics

    @property
    def items(self) -> int:
        return self.pooled.erroneous + self.pooled.correct


def processbench_report(counts_by_subset: Mapping[str, OutcomeCounts]) -> ProcessBenchReport:
    """Return per-subset figures, the unweighted mean of subset F1s and the F1 of all items pooled.

    The mean is None when a subset's F1 is undefined (it lacks erroneous or correct items).
    """
    subsets = {name: subset_metrics_from_counts(counts) for name, counts in sorted(counts_by_subset.items())}
    f1s = [metrics.f1 for metrics in subsets.values()]
    mean_f1 = None if not f1s or any(f1 is None for f1 in f1s) else sum(f1 for f1 in f1s if f1 is not None) / len(f1s)
    pooled = sum(counts_by_subset.values(), OutcomeCounts())
    return ProcessBenchReport(subsets=subsets, mean_f1=mean_f1, pooled=subset_metrics_from_counts(pooled))


# Agreement -----------------------------------------------------------------------------------------

LabelCounts = Mapping[int, int]  # label -> how many annotators gave it, for one solution


def _rated(items: Iterable[LabelCounts]) -> list[LabelCounts]:
    return [item for item in items if sum(item.values()) >= 2]


def pairwise_agreement(items: Iterable[LabelCounts]) -> float | None:
    """Return the share of same-label pairs among all annotation pairs on the same solution."""
    agreeing = pairs = 0
    for item in _rated(items):
        raters = sum(item.values())
        pairs += raters * (raters - 1) // 2
        agreeing += sum(count * (count - 1) // 2 for count in item.values())
    return share(agreeing, pairs)


def fleiss_kappa(items: Iterable[LabelCounts]) -> float | None:
    """Return Fleiss' kappa (generalised to varying raters per item, see the module docstring)."""
    rated = _rated(items)
    if not rated:
        return None
    category_totals: dict[int, int] = {}
    item_agreement = 0.0
    for item in rated:
        raters = sum(item.values())
        item_agreement += sum(count * (count - 1) for count in item.values()) / (raters * (raters - 1))
        for label, count in item.items():
            category_totals[label] = category_totals.get(label, 0) + count
    ratings = sum(category_totals.values())
    expected = sum((total / ratings) ** 2 for total in category_totals.values())
    if expected >= 1.0:
        return None  # every rating in one category: chance agreement is total, kappa is undefined
    observed = item_agreement / len(rated)
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(items: Iterable[LabelCounts]) -> float | None:
    """Return Krippendorff's alpha for nominal labels, or None when fewer than two labels ever occur."""
    rated = _rated(items)
    values = sorted({label for item in rated for label in item})
    if len(values) < 2:
        return None
    import krippendorff  # with numpy: loaded by the quality dashboard only, not with every process
    import numpy as np

    column = {label: index for index, label in enumerate(values)}
    matrix = np.zeros((len(rated), len(values)), dtype=np.float64)
    for row, item in enumerate(rated):
        for label, count in item.items():
            matrix[row, column[label]] = count
    return float(krippendorff.alpha(value_counts=matrix, level_of_measurement="nominal"))


def unanimous_share(items: Iterable[LabelCounts]) -> float | None:
    """Return the share of solutions (with two or more annotations) whose annotations all agree."""
    rated = _rated(items)
    return share(sum(1 for item in rated if len([c for c in item.values() if c]) == 1), len(rated))


@dataclass(frozen=True)
class AgreementReport:
    items: int
    ratings: int
    pairwise_agreement: float | None
    fleiss_kappa: float | None
    krippendorff_alpha: float | None
    unanimous_share: float | None


def agreement_report(items: Iterable[LabelCounts]) -> AgreementReport:
    """Return every agreement figure over solutions with at least two annotations."""
    rated = _rated(items)
    return AgreementReport(
        items=len(rated),
        ratings=sum(sum(item.values()) for item in rated),
        pairwise_agreement=pairwise_agreement(rated),
        fleiss_kappa=fleiss_kappa(rated),
        krippendorff_alpha=krippendorff_alpha(rated),
        unanimous_share=unanimous_share(rated),
    )


# Where errors sit -----------------------------------------------------------------------------------


def position_bin(label: int, num_steps: int, *, bins: int = POSITION_BINS) -> int:
    """Return the bin of an earliest-error step by its relative position in the solution.

    The position is label / (num_steps - 1): the first step is 0.0, the last step 1.0 (a one-step
    solution's only step counts as 0.0). Bin b covers [b/bins, (b+1)/bins); the last bin also holds 1.0.
    Integer arithmetic, so no float rounding moves a step across a bin edge.
    """
    if not 0 <= label < num_steps:
        raise ValueError(f"label: {label} is not a step index of a {num_steps}-step solution.")
    if num_steps == 1:
        return 0
    return min(label * bins // (num_steps - 1), bins - 1)


@dataclass(frozen=True)
class PositionHistogram:
    """Counts of earliest-error positions in `bins` equal bins of relative position, plus all-correct labels."""

    bins: tuple[int, ...]
    all_correct: int

    @property
    def erroneous(self) -> int:
        return sum(self.bins)

    @property
    def total(self) -> int:
        return self.erroneous + self.all_correct

    def edges(self) -> list[tuple[float, float]]:
        width = 1 / len(self.bins)
        return [(round(index * width, 4), round((index + 1) * width, 4)) for index in range(len(self.bins))]


def position_histogram(rows: Iterable[tuple[int, int, int]], *, bins: int = POSITION_BINS) -> PositionHistogram:
    """Return the histogram of (label, num_steps, count) rows; label -1 counts as all correct."""
    counts = [0] * bins
    all_correct = 0
    for label, num_steps, count in rows:
        if label == -1:
            all_correct += count
        else:
            counts[position_bin(label, num_steps, bins=bins)] += count
    return PositionHistogram(bins=tuple(counts), all_correct=all_correct)


# Anchoring, people, cost ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AnchoringRow:
    """How often annotators agreed with one method's suggestion, with suggestions shown vs hidden."""

    method: str
    visible: int
    visible_agree: int
    hidden: int
    hidden_agree: int

    @property
    def visible_rate(self) -> float | None:
        return share(self.visible_agree, self.visible)

    @property
    def hidden_rate(self) -> float | None:
        return share(self.hidden_agree, self.hidden)

    @property
    def difference(self) -> float | None:
        """Return visible minus hidden agreement: above zero suggests annotators anchor on the suggestion."""
        if self.visible_rate is None or self.hidden_rate is None:
            return None
        return self.visible_rate - self.hidden_rate


@dataclass(frozen=True)
class CostReport:
    """What the final labels cost: human seconds, machine effort, and the share triage settled alone.

    `final_labels` counts the labels made here (by people, reviewers and machine consensus at triage, not
    imported ones): the denominator of `human_seconds_per_final_label` and of `no_human_share`, whose
    numerator `no_human_labels` counts the `consensus_auto` labels.
    """

    final_labels: int
    human_seconds: float
    no_human_labels: int
    machine: dict[str, dict[str, float]] = field(default_factory=dict)

    @property
    def human_seconds_per_final_label(self) -> float | None:
        return share(self.human_seconds, self.final_labels)

    @property
    def no_human_share(self) -> float | None:
        return share(self.no_human_labels, self.final_labels)
