"""The dashboard's critique block: error types (where and what kind), explanations, judge agreement.

Figures come from `dataset_critique_quality` (5 aggregate queries); charts are inline SVG like the rest
of the dashboard. Its own template (`annotations/dashboard_critique.html`) is included by the dashboard.
"""

from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from annotations import charts
from annotations.critique_metrics import ErrorTypeDistribution
from annotations.models import Dataset
from annotations.selectors.critique_quality import CritiqueFigures, dataset_critique_quality


@dataclass(frozen=True)
class TypeRow:
    """One row of an error-type table: a group (subset, generator, position bin), its counts in type order."""

    name: str
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def _rows(groups: dict[str, Any], types: list[str]) -> list[TypeRow]:
    return [TypeRow(name, [counter[slug] for slug in types]) for name, counter in groups.items()]


def type_tables(distribution: ErrorTypeDistribution) -> dict[str, list[TypeRow]]:
    """Return the error-type tables by subset, by generator and by relative position of the error."""
    types = distribution.types
    positions = {
        f"{low:.1f}-{high:.1f}": counter
        for (low, high), counter in zip(distribution.position_edges, distribution.by_position, strict=True)
    }
    return {
        "subset": _rows(distribution.by_subset, types),
        "generator": _rows(distribution.by_generator, types),
        "position": _rows(positions, types),
    }


def _charts(figures: CritiqueFigures) -> dict[str, SafeString]:
    distribution = figures.error_types
    svg = {
        "error_types": charts.bar_chart(
            [(distribution.title(slug), distribution.overall[slug]) for slug in distribution.types],
            title="Error types of erroneous final labels",
            value_format="d",
        ),
        "judge": charts.bar_chart(
            [(row.subset, row.rate) for row in figures.judge],
            title="Judge critique agrees with the final label",
            max_value=1.0,
        ),
    }
    # `annotations.charts` escapes every text it writes into the SVG.
    return {name: mark_safe(value) for name, value in svg.items()}


def critique_section(*, dataset: Dataset) -> dict[str, Any]:
    """Return what the critique block of the dashboard shows."""
    figures = dataset_critique_quality(dataset=dataset)
    distribution = figures.error_types
    return {
        "figures": figures,
        "charts": _charts(figures),
        "types": [distribution.title(slug) for slug in distribution.types],
        "tables": type_tables(distribution),
    }
