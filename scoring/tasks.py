"""Celery tasks of the scoring side: thin, take ids, call one service, idempotent.

Model methods run on queue `gpu` (task names `score_gpu_*`, routed by CELERY_TASK_ROUTES and sent with
an explicit `queue=`); CPU methods and housekeeping run on `default`. Every task is acknowledged late
and rejected when its worker is lost, so a killed worker's batch is delivered again; re-running a batch
updates the same suggestion rows. Only TransientEngineError is retried (exponential backoff with
jitter); after the last retry the batch's suggestions are stored as failed.
GPU workers: `celery -A prmweb worker -Q gpu -P solo -c 1 --prefetch-multiplier=1` with
VLLM_WORKER_MULTIPROC_METHOD=spawn (one per GPU); the engine is loaded once per worker process.
"""

import logging
from typing import Any

from celery import Task, shared_task

from prmweb.errors import ApplicationError
from scoring.engines.base import TransientEngineError
from scoring.models import ScoringRun
from scoring.services import (
    missing_suggestions_sweep,
    scoring_run_fail,
    scoring_run_start,
    suggestions_give_up,
    suggestions_run,
)

logger = logging.getLogger(__name__)

SCORING_TASK_OPTIONS: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (TransientEngineError,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


def _score(
    task: Task,
    method: str,
    *,
    solution_ids: list[int],
    config_key: str,
    parameters: dict[str, Any] | None,
    force: bool,
    run_id: int | None,
) -> dict[str, int]:
    try:
        outcome = suggestions_run(
            method=method,
            solution_ids=solution_ids,
            config_key=config_key,
            force=force,
            parameters=parameters,
            run_id=run_id,
        )
    except TransientEngineError as error:
        if task.request.retries < (task.max_retries or 0):
            raise  # autoretry_for retries it with backoff
        outcome = suggestions_give_up(
            method=method, solution_ids=solution_ids, config_key=config_key, error=str(error), run_id=run_id
        )
    return {"succeeded": outcome.succeeded, "failed": outcome.failed, "skipped": outcome.skipped}


def _scoring_task(method: str, name: str, summary: str) -> Task:
    """Declare the Celery task `scoring.tasks.<name>` that stores `method`'s suggestions for a batch."""

    def run(
        self: Task,
        *,
        solution_ids: list[int],
        config_key: str,
        parameters: dict[str, Any] | None = None,
        force: bool = False,
        run_id: int | None = None,
    ) -> dict[str, int]:
        return _score(
            self,
            method,
            solution_ids=solution_ids,
            config_key=config_key,
            parameters=parameters,
            force=force,
            run_id=run_id,
        )

    run.__name__ = run.__qualname__ = name
    run.__doc__ = summary
    task: Task = shared_task(name=f"scoring.tasks.{name}", **SCORING_TASK_OPTIONS)(run)
    return task


# One named task per method, so that routing (queue `gpu` for score_gpu_*) and worker logs say which.
score_gpu_mc = _scoring_task("mc", "score_gpu_mc", "Store Monte-Carlo suggestions for a batch (queue gpu).")
score_gpu_judge = _scoring_task("judge", "score_gpu_judge", "Store LLM-judge suggestions for a batch (queue gpu).")
score_gpu_prm = _scoring_task("prm", "score_gpu_prm", "Store PRM suggestions for a batch (queue gpu).")
score_arithmetic = _scoring_task(
    "arithmetic", "score_arithmetic", "Store arithmetic-check suggestions for a batch (queue default, no model)."
)


TASKS_BY_METHOD: dict[str, Task] = {
    "mc": score_gpu_mc,
    "judge": score_gpu_judge,
    "prm": score_gpu_prm,
    "arithmetic": score_arithmetic,
}


def task_for_method(method: str) -> Task:
    """Return the Celery task that runs a method; ApplicationError for a method without one."""
    try:
        return TASKS_BY_METHOD[method]
    except KeyError:
        raise ApplicationError(
            f"No scoring task runs method {method!r}.",
            errors={"method": [f"Choose one of {', '.join(TASKS_BY_METHOD)}."]},
        ) from None


@shared_task(name="scoring.tasks.start_scoring_run", acks_late=True, reject_on_worker_lost=True)
def start_scoring_run(run_id: int, limit: int | None = None) -> int:
    """Compute a scoring run's targets and enqueue its batches; return the number of targets."""
    run = ScoringRun.objects.select_related("dataset").filter(pk=run_id).first()
    if run is None or run.started_at is not None:
        return 0  # deleted, or already started by an earlier delivery
    try:
        return len(scoring_run_start(run=run, limit=limit))
    except ApplicationError as error:
        scoring_run_fail(run=run, error=error.message)
        return 0


@shared_task(name="scoring.tasks.sweep_missing_suggestions", acks_late=True)
def sweep_missing_suggestions() -> dict[str, int]:
    """Re-enqueue missing or stuck suggestions of every dataset's configured methods (Celery beat)."""
    counts = missing_suggestions_sweep()
    if counts:
        logger.info("sweep enqueued missing suggestions: %s", counts)
    return counts
