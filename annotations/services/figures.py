"""Draw problems' Asymptote diagrams in a worker and cache the sanitized SVG per problem and source."""

import logging
import time
from collections.abc import Collection

from django.conf import settings
from django.db import transaction

from annotations.figures.asymptote import AsymptoteLimits, FigureError, render_asymptote
from annotations.figures.blocks import asy_digest, asy_sources
from annotations.figures.svg import UnsafeSvgError, sanitize_svg
from annotations.models import FigureStatus, Problem, ProblemFigure
from prmweb.taskqueue import task_by_name

logger = logging.getLogger(__name__)

RENDER_FIGURE_TASK = "annotations.tasks.render_figure"


def asymptote_limits() -> AsymptoteLimits:
    """Return the binary and limits from the settings (read at call time)."""
    return AsymptoteLimits(
        binary=str(getattr(settings, "ASYMPTOTE_BINARY", "asy")),
        timeout_seconds=float(getattr(settings, "ASYMPTOTE_TIMEOUT_SECONDS", 20.0)),
        memory_bytes=int(getattr(settings, "ASYMPTOTE_MEMORY_MB", 1024)) * 1024 * 1024,
        modules_dir=str(getattr(settings, "ASYMPTOTE_MODULES_DIR", "")),
    )


def problem_asy_sources(problem: Problem) -> dict[str, str]:
    """Return {digest: source} of the `[asy]` blocks in the problem's text and reference solution."""
    sources = asy_sources(problem.text) + asy_sources(problem.reference_solution)
    return {asy_digest(source): source for source in sources}


def _enqueue(figure_ids: list[int]) -> None:
    for figure_id in figure_ids:
        try:
            task_by_name(RENDER_FIGURE_TASK).delay(figure_id)
        except Exception:  # the broker is away: the rows stay queued; `render_figures` draws them later
            logger.exception("could not enqueue the rendering of figure %s", figure_id)


def problem_figures_request(*, problem: Problem, known_digests: Collection[str] = ()) -> int:
    """Queue the drawing of the problem's diagrams that have no row yet; return how many were queued.

    Side effects: one queued `ProblemFigure` row per new source (a concurrent request creates none
    twice), and one `render_figure` task each after the commit. Idempotent.
    """
    missing = {digest: source for digest, source in problem_asy_sources(problem).items() if digest not in known_digests}
    if not missing:
        return 0
    ProblemFigure.objects.bulk_create(
        [ProblemFigure(problem=problem, source_sha256=digest, source=source) for digest, source in missing.items()],
        ignore_conflicts=True,
    )
    queued = list(
        ProblemFigure.objects.filter(
            problem=problem, source_sha256__in=list(missing), status=FigureStatus.QUEUED
        ).values_list("pk", flat=True)
    )
    transaction.on_commit(lambda: _enqueue(queued))
    return len(queued)


def figure_render(*, figure_id: int, limits: AsymptoteLimits | None = None) -> ProblemFigure | None:
    """Draw one queued figure with `asy`, sanitize the SVG and store it (or the error); return the row.

    Idempotent: a figure already rendered is returned as it is; None when the row is gone. The drawing
    runs outside any transaction (it takes seconds); only the final write is a short one.
    """
    figure = ProblemFigure.objects.filter(pk=figure_id).first()
    if figure is None or figure.status == FigureStatus.RENDERED:
        return figure
    started = time.monotonic()
    try:
        figure.svg = sanitize_svg(render_asymptote(figure.source, limits or asymptote_limits()))
        figure.status, figure.error = FigureStatus.RENDERED, ""
    except (FigureError, UnsafeSvgError) as failure:
        figure.svg, figure.status, figure.error = "", FigureStatus.FAILED, str(failure)
    figure.seconds = round(time.monotonic() - started, 3)
    figure.save(update_fields=["svg", "error", "status", "seconds", "updated_at"])
    return figure


def figures_retry(*, include_failed: bool) -> list[int]:
    """Queue again the figures left queued (a lost task) and, with `include_failed`, the failed ones.

    Side effects: failed rows go back to queued; one `render_figure` task each after the commit.
    """
    statuses = [FigureStatus.QUEUED, FigureStatus.FAILED] if include_failed else [FigureStatus.QUEUED]
    ids = list(ProblemFigure.objects.filter(status__in=statuses).order_by("pk").values_list("pk", flat=True))
    ProblemFigure.objects.filter(pk__in=ids).update(status=FigureStatus.QUEUED, error="")
    transaction.on_commit(lambda: _enqueue(ids))
    return ids
