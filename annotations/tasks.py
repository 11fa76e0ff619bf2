"""Celery tasks of the labelling side: thin wrappers that re-read rows and call one service."""

import logging

from celery import shared_task

import prmweb.celery  # noqa: F401 - the app the shared tasks below bind to: it must exist first
from annotations.services.answers import CHECK_ANSWERS_TASK, answer_checks_sweep, solutions_check_answers
from annotations.services.claims import claims_release_expired
from annotations.services.exports import RUN_EXPORT_TASK, export_run
from annotations.services.figures import RENDER_FIGURE_TASK, figure_render
from prmweb.errors import NotFoundError

logger = logging.getLogger(__name__)


@shared_task(name=CHECK_ANSWERS_TASK, ignore_result=True)
def check_final_answers(solution_ids: list[int]) -> int:
    """Check the final answers of these solutions against their reference answers; return how many were checked.

    Idempotent: running it twice stores the same verdicts. Unknown ids are ignored (deleted meanwhile).
    """
    return solutions_check_answers(solution_ids=solution_ids).checked


@shared_task(name="annotations.tasks.sweep_missing_answer_checks", ignore_result=True)
def sweep_missing_answer_checks() -> int:
    """Re-enqueue the final-answer checks that never ran (Celery beat); return how many solutions were sent.

    Idempotent: a solution checked twice keeps the same verdict.
    """
    count = answer_checks_sweep()
    if count:
        logger.info("sweep enqueued missing final-answer checks for %d solutions", count)
    return count


@shared_task(name=RUN_EXPORT_TASK, ignore_result=True)
def run_export(export_id: int) -> str:
    """Run one export into its folder and return its final status ("missing" when the row was deleted).

    Idempotent: an export that already finished is left as it is; one left running by a lost worker
    (acks_late redelivers it) is written again from the start. Failures are recorded on the export row.
    """
    try:
        return export_run(export_id=export_id).status
    except NotFoundError:
        return "missing"


@shared_task(name="annotations.tasks.release_expired_claims", ignore_result=True)
def release_expired_claims() -> int:
    """Delete every expired claim so its solution goes back to the queue; return how many were released.

    Idempotent (beat runs it every minute; running it twice releases nothing more).
    """
    return claims_release_expired()


@shared_task(name=RENDER_FIGURE_TASK, ignore_result=True)
def render_figure(figure_id: int) -> str:
    """Draw one queued Asymptote figure and store its sanitized SVG or its error; return the status.

    Idempotent: a figure already rendered is left alone; "missing" when the row was deleted.
    """
    figure = figure_render(figure_id=figure_id)
    return figure.status if figure is not None else "missing"
