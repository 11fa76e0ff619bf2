"""The dashboard's evaluation block: each method's response-level and step-level figures side by side.

Figures come from `dataset_evaluation` (two queries); the BoN@N-against-N chart is inline SVG like the rest
of the dashboard, with its numbers in a table beside it. Its own template
(`annotations/dashboard_evaluation.html`) is included by the dashboard; `?aggregate=` picks the aggregation.
"""

from dataclasses import dataclass

from django.http import Http404, HttpRequest
from django.utils.safestring import SafeString, mark_safe

from annotations import charts
from annotations.models import Dataset
from annotations.selectors.evaluation import DatasetEvaluation, MethodEvaluationRow, dataset_evaluation
from prmweb.core.evaluation import AGGREGATES, DEFAULT_AGGREGATE, Aggregate
from prmweb.core.evaluation_report import ResponseFigures

PASS_SERIES = "pass@N (any correct)"


@dataclass(frozen=True)
class TableRow:
    """One line of the evaluation table: a method's figures on one subset, or pooled over all groups."""

    method: MethodEvaluationRow
    subset: str
    figures: ResponseFigures
    pooled: bool

    @property
    def group_sizes(self) -> str:
        low, high = self.figures.smallest_group, self.figures.largest_group
        return str(high) if low == high else f"{low} to {high}"


@dataclass(frozen=True)
class EvaluationSection:
    evaluation: DatasetEvaluation
    aggregates: list[tuple[str, bool]]
    rows: list[TableRow]
    chart: SafeString
    sizes: list[int]
    curves: list[tuple[str, list[float]]]


def method_name(row: MethodEvaluationRow) -> str:
    """Return the method's name for people: its configuration key beside it unless it is the default."""
    return row.method if row.config_key == "default" else f"{row.method} {row.config_key}"


def evaluation_aggregate(request: HttpRequest) -> Aggregate:
    """Return the page's `aggregate` (default min); a 404 naming it for anything else."""
    value = request.GET.get("aggregate", DEFAULT_AGGREGATE)
    for aggregate in AGGREGATES:
        if value == aggregate:
            return aggregate
    raise Http404(f"Unknown aggregate {value!r}: choose one of {', '.join(AGGREGATES)}.")


def _rows(evaluation: DatasetEvaluation) -> list[TableRow]:
    rows = []
    for method in evaluation.methods:
        for subset, figures in method.evaluation.subsets.items():
            rows.append(TableRow(method, subset, figures, pooled=False))
        rows.append(TableRow(method, "all groups", method.evaluation.pooled, pooled=True))
    return rows


def _curves(evaluation: DatasetEvaluation) -> tuple[list[int], list[tuple[str, list[float]]]]:
    """Return the N values and, per method then pass@N, the pooled curve's values."""
    if not evaluation.methods:
        return [], []
    reference = evaluation.methods[0].evaluation.pooled.curve
    curves = [(method_name(row), [p.best_of_n for p in row.evaluation.pooled.curve]) for row in evaluation.methods]
    return [p.n for p in reference], [*curves, (PASS_SERIES, [p.pass_at_n for p in reference])]


def evaluation_section(*, dataset: Dataset, aggregate: Aggregate) -> EvaluationSection:
    """Return what the evaluation block shows: the table's rows and the BoN@N chart with its numbers."""
    evaluation = dataset_evaluation(dataset=dataset, aggregate=aggregate)
    sizes, curves = _curves(evaluation)
    chart = charts.curve_chart(
        [str(n) for n in sizes],
        [charts.Series(name, values) for name, values in curves],
        title=f"BoN@N against N, all groups ({aggregate} of step scores)",
        x_title="N (solutions per problem)",
        dashed=[PASS_SERIES],
    )
    return EvaluationSection(
        evaluation=evaluation,
        aggregates=[(name, name == aggregate) for name in AGGREGATES],
        rows=_rows(evaluation),
        chart=mark_safe(chart),  # annotations.charts escapes every text it writes
        sizes=sizes,
        curves=curves,
    )
