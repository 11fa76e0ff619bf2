"""Reads of problems' rendered Asymptote figures."""

from annotations.models import ProblemFigure


def problem_figures_get(*, problem_id: int) -> dict[str, str | None]:
    """Return {source digest: sanitized SVG, or None while queued or failed} for the problem (one query)."""
    rows = ProblemFigure.objects.filter(problem_id=problem_id).values_list("source_sha256", "status", "svg")
    return {digest: (svg if status == "rendered" else None) for digest, status, svg in rows}
