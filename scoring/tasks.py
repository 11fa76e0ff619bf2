"""Celery tasks of the scoring side: thin, take ids, call one service, idempotent.

Each method of the registry that runs gets one task, on the method's queue: model methods on `gpu`
(task names `score_gpu_*`), CPU methods and housekeeping on `default`; `route_by_method` (named in
CELERY_TASK_ROUTES) routes them and enqueueing also sends them with an explicit `queue=`. Every task is
acknowledged late and rejected when its worker is lost, so a killed worker's batch is delivered again;
re-running a batch updates the same suggestion rows. Only TransientEngineError is retried (exponential backoff with
jitter); after the last retry the batch's suggestions are stored as failed.
GPU workers: `celery -A prmweb worker -Q gpu -P solo -c 1 --prefetch-multiplier=1` with
VLLM_WORKER_MULTIPROC_METHOD=spawn (one per GPU); the engine is loaded once per worker process.
"""

import logging
from typing import Any

from celery import Task, shared_task

import prmweb.celery  # noqa: F401 - the app the shared tasks below bind to: it must exist first
from prmweb.errors import ApplicationError
from scoring.engines.base import TransientEngineError
from scoring.methods import registry
from scoring.models import ScoringRun
from scoring.services import (
    missing_suggestions_sweep,
    reformat_give_up,
    reformat_sweep,
    responses_reformat,
    scoring_run_fail,
    scoring_run_start,
    suggestions_give_up,
    suggestions_run,
)
from scoring.services.reformat import REFORMAT_TASK, reformat_queue
from scoring.services.runs import START_RUN_TASK

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


def _scoring_task(spec: registry.MethodSpec) -> Task:
    """Declare the Celery task `spec.task_name` that stores the method's suggestions for a batch."""
    method = spec.name

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

    name = str(spec.task_name)
    run.__name__ = run.__qualname__ = name.rsplit(".", 1)[1]
    run.__doc__ = f"Store {spec.title} suggestions for a batch (queue {spec.queue})."
    task: Task = shared_task(name=name, **SCORING_TASK_OPTIONS)(run)
    return task


# One named task per method that runs (score_gpu_<method> on queue gpu, score_<method> on default), so
# that routing and worker logs say which method a batch is.
TASKS_BY_METHOD: dict[str, Task] = {spec.name: _scoring_task(spec) for spec in registry.runnable_methods()}
QUEUE_BY_TASK: dict[str | None, str] = {spec.task_name: spec.queue for spec in registry.runnable_methods()}
QUEUE_BY_TASK[REFORMAT_TASK] = reformat_queue()  # the judge engine re-splits responses: the judge's queue


@shared_task(name=REFORMAT_TASK, **SCORING_TASK_OPTIONS)
def reformat_responses(self: Task, *, solution_ids: list[int]) -> dict[str, int]:
    """Ask the judge to re-split the waiting responses of a batch and give them their steps (queue of the judge).

    Idempotent: solutions already given their steps are skipped. TransientEngineError is retried with
    backoff; after the last retry the batch falls back to paragraphs with the reason.
    """
    try:
        outcome = responses_reformat(solution_ids=solution_ids)
    except TransientEngineError as error:
        if self.request.retries < (self.max_retries or 0):
            raise  # autoretry_for retries it with backoff
        outcome = reformat_give_up(solution_ids=solution_ids, error=str(error))
    return outcome.as_dict()


def route_by_method(
    name: str, args: Any, kwargs: Any, options: Any, task: Any = None, **kw: Any
) -> dict[str, str] | None:
    """Route a method's task to the method's queue (a Celery router, named in CELERY_TASK_ROUTES)."""
    queue = QUEUE_BY_TASK.get(name)
    return {"queue": queue} if queue else None


def task_for_method(method: str) -> Task:
    """Return the Celery task that runs a method; ApplicationError for a method without one."""
    try:
        return TASKS_BY_METHOD[method]
    except KeyError:
        raise ApplicationError(
            f"No scoring task runs method {method!r}.",
            errors={"method": [f"Choose one of {', '.join(TASKS_BY_METHOD)}."]},
        ) from None


@shared_task(name=START_RUN_TASK, acks_late=True, reject_on_worker_lost=True)
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
    """Re-enqueue missing or stuck suggestions, and reformats never sent or stuck (Celery beat).

    Return {method: solutions enqueued}, with "reformat" for the responses re-sent to the judge.
    """
    counts = missing_suggestions_sweep()
    if reformats := reformat_sweep():
        counts["reformat"] = reformats
    if counts:
        logger.info("sweep enqueued missing suggestions: %s", counts)
    return counts
