"""Critique figures as pure functions: where and what kind of errors, explanation coverage, judge agreement.

No Django here. The selector `annotations.selectors.critique_quality` aggregates rows in SQL into small
count rows; these functions turn them into the dashboard's figures.

- Error types are those of erroneous final labels (label >= 0); a label without one counts as
  `UNTYPED`; slugs no longer in the taxonomy keep their slug as title. Position bins are those of the
  error-position histograms (`annotations.metrics.position_bin`).
- Explanations: the share of erroneous labels that have one, and the median length in characters of
  those that do (the mean of the two middle lengths for an even count).
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotations import metrics

UNTYPED = "(untyped)"
NO_SUBSET = "(no subset)"
NO_GENERATOR = "(unknown)"


def median_from_counts(counts: Mapping[int, int]) -> float | None:
    """Return the median of values given as {value: how many}, or None when there are none."""
    total = sum(counts.values())
    if not total:
        return None
    middle = ((total - 1) // 2, total // 2)
    found: list[int] = []
    seen = 0
    for value, count in sorted(counts.items()):
        found.extend(value for position in middle if seen <= position < seen + count)
        seen += count
    return sum(found) / 2


@dataclass(frozen=True)
class ExplanationFigures:
    """Erroneous labels, how many carry an explanation, and the median length of those explanations."""

    labels: int
    explained: int
    median_chars: float | None

    @property
    def share(self) -> float | None:
        return metrics.share(self.explained, self.labels)


def explanation_figures(lengths: Mapping[int, int]) -> ExplanationFigures:
    """Return the figures from {explanation length: labels} (length 0 = no explanation)."""
    explained = {length: count for length, count in lengths.items() if length > 0}
    return ExplanationFigures(sum(lengths.values()), sum(explained.values()), median_from_counts(explained))


@dataclass
class ErrorTypeDistribution:
    """Counts of error types: overall, by subset, by generator and by relative position (10 bins)."""

    titles: dict[str, str]
    overall: Counter[str] = field(default_factory=Counter)
    by_subset: dict[str, Counter[str]] = field(default_factory=dict)
    by_generator: dict[str, Counter[str]] = field(default_factory=dict)
    by_position: list[Counter[str]] = field(default_factory=lambda: [Counter() for _ in range(metrics.POSITION_BINS)])

    @property
    def types(self) -> list[str]:
        """Return the types to show: the taxonomy's in order, then others seen, then `UNTYPED` when seen."""
        seen = [slug for slug in self.overall if slug not in self.titles and slug != UNTYPED]
        return [*self.titles, *sorted(seen), *([UNTYPED] if self.overall[UNTYPED] else [])]

    def title(self, slug: str) -> str:
        return self.titles.get(slug, slug)

    @property
    def position_edges(self) -> list[tuple[float, float]]:
        width = 1 / len(self.by_position)
        return [(round(index * width, 4), round((index + 1) * width, 4)) for index in range(len(self.by_position))]


def error_type_distribution(
    rows: Iterable[tuple[str, str, str | None, int, int, int]], taxonomy: Sequence[Mapping[str, Any]]
) -> ErrorTypeDistribution:
    """Return the distribution of (subset, generator, error type, label, step count, count) rows."""
    distribution = ErrorTypeDistribution(titles={entry["slug"]: entry["title"] for entry in taxonomy})
    for subset, generator, error_type, label, steps, count in rows:
        slug = error_type or UNTYPED
        distribution.overall[slug] += count
        distribution.by_subset.setdefault(subset or NO_SUBSET, Counter())[slug] += count
        distribution.by_generator.setdefault(generator or NO_GENERATOR, Counter())[slug] += count
        distribution.by_position[metrics.position_bin(label, steps)][slug] += count
    distribution.by_subset = dict(sorted(distribution.by_subset.items()))
    distribution.by_generator = dict(sorted(distribution.by_generator.items()))
    return distribution


def error_type_agreement(items: Iterable[Mapping[str, int]]) -> metrics.AgreementReport:
    """Return agreement on the error type, from {type: annotators} per solution (see `metrics.agreement_report`)."""
    codes: dict[str, int] = {}
    coded = [{codes.setdefault(slug, len(codes)): count for slug, count in item.items()} for item in items]
    return metrics.agreement_report(coded)


@dataclass(frozen=True)
class JudgeAgreementRow:
    """Judge suggestions on one subset's solutions with a reference final label, and how many agree with it.

    `agreeing_with_text` counts the agreeing ones that carry critique text (material for judge critique rows).
    """

    subset: str
    judged: int
    agreeing: int
    agreeing_with_text: int

    @property
    def rate(self) -> float | None:
        return metrics.share(self.agreeing, self.judged)


def pooled_judge_row(rows: Sequence[JudgeAgreementRow]) -> JudgeAgreementRow:
    """Return the rows summed over subsets (subset "all")."""
    return JudgeAgreementRow(
        "all",
        sum(row.judged for row in rows),
        sum(row.agreeing for row in rows),
        sum(row.agreeing_with_text for row in rows),
    )
