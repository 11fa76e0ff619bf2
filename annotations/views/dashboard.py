"""A dataset's quality dashboard: progress, agreement, methods vs people, error positions, annotators.

Figures come from `dataset_quality` (a fixed number of aggregate queries); charts are inline SVG drawn
on the server (`annotations.charts`), each with its numbers beside it, so the page needs no JavaScript.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import SafeString, mark_safe
from django.views.decorators.http import require_GET

from annotations import charts
from annotations.metrics import PositionHistogram
from annotations.models import SolutionStatus
from annotations.selectors.quality import QualityFigures, dataset_quality
from annotations.views.dashboard_critique import critique_section
from annotations.views.dashboard_evaluation import evaluation_aggregate, evaluation_section
from annotations.views.reviewer_access import reviewer_access


def position_columns(histogram: PositionHistogram) -> list[tuple[str, int]]:
    """Return the histogram as chart columns: ten position bins, then "all correct"."""
    columns = [
        (f"{low:.1f}-{high:.1f}", count) for (low, high), count in zip(histogram.edges(), histogram.bins, strict=True)
    ]
    return [*columns, ("all correct", histogram.all_correct)]


def _safe(svg: str) -> SafeString:
    """Mark chart SVG safe: `annotations.charts` escapes every text it writes into it."""
    return mark_safe(svg)


def _charts(figures: QualityFigures) -> dict[str, SafeString | list[tuple[str, SafeString]]]:
    progress = figures.progress
    timeline = progress.timeline
    agreement = figures.agreement
    svg = {
        "progress": charts.line_chart(
            [day.day.isoformat() for day in timeline],
            [
                charts.Series("annotations", [day.annotations_total for day in timeline]),
                charts.Series("final labels", [day.final_labels_total for day in timeline]),
            ],
            title="Cumulative annotations and final labels",
        ),
        "status": charts.bar_chart(
            [(SolutionStatus(status).label, count) for status, count in progress.by_status.items()],
            title="Solutions by status",
            value_format="d",
        ),
        "agreement": charts.bar_chart(
            [
                ("pairwise exact", agreement.pairwise_agreement),
                ("Fleiss' kappa", agreement.fleiss_kappa),
                ("Krippendorff's alpha", agreement.krippendorff_alpha),
                ("unanimous share", agreement.unanimous_share),
            ],
            title="Agreement between annotators",
            max_value=1.0,
        ),
        "methods": charts.bar_chart(
            [(f"{row.method} (pooled)", row.report.pooled.f1) for row in figures.methods]
            + [(f"{row.method} (mean)", row.report.mean_f1) for row in figures.methods],
            title="ProcessBench F1 against final labels",
            max_value=1.0,
        ),
        "annotators": charts.bar_chart(
            [(row.username, row.accuracy) for row in figures.annotators],
            title="Annotator accuracy against final labels",
            max_value=1.0,
        ),
    }
    context: dict[str, SafeString | list[tuple[str, SafeString]]] = {name: _safe(value) for name, value in svg.items()}
    context["positions"] = [
        (
            source,
            _safe(
                charts.column_chart(
                    position_columns(histogram), title=f"Earliest error position: {source}", highlight_last=True
                )
            ),
        )
        for source, histogram in figures.positions.items()
    ]
    return context


@login_required
@require_GET
def dataset_dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    """Show a dataset's quality figures as charts with their numbers (reviewers, managers and staff)."""
    access = reviewer_access(request, slug)
    aggregate = evaluation_aggregate(request)
    figures = dataset_quality(dataset=access.dataset)
    context = {
        "dataset": access.dataset,
        "figures": figures,
        "charts": _charts(figures),
        "role": access.role,
        "critique": critique_section(dataset=access.dataset),
        "evaluation_block": evaluation_section(dataset=access.dataset, aggregate=aggregate),
    }
    return render(request, "annotations/dashboard.html", context)
