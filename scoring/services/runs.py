"""Scoring runs: a method over (part of) a dataset, with status, progress counts, errors and total cost."""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from annotations.models import Dataset
from prmweb.errors import ApplicationError, ServiceUnavailableError
from prmweb.taskqueue import task_by_name
from scoring.configuration import method_configuration
from scoring.methods import registry
from scoring.models import ScoringRun, ScoringRunStatus
from scoring.selectors import solution_ids_to_score
from scoring.services.enqueue import suggestions_enqueue
from scoring.services.outcome import RunOutcome
from scoring.services.run_progress import scoring_run_fail
from scoring.services.runner import suggestions_run

logger = logging.getLogger(__name__)

MAX_LIMIT = 1_000_000
START_RUN_TASK = "scoring.tasks.start_scoring_run"
QUEUE_UNAVAILABLE = (
    "The scoring run could not be queued: the task queue is unavailable. Nothing was started; try again shortly."
)


def scoring_run_create(
    *,
    dataset: Dataset,
    method: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    force: bool = False,
    parameters: dict[str, Any] | None = None,
) -> ScoringRun:
    """Create a queued scoring run after validating the method and its parameters (ApplicationError names them)."""
    if registry.is_derived(method):
        inputs = " and ".join(registry.get_method(method).inputs)
        runnable = ", ".join(spec.name for spec in registry.runnable_methods())
        raise ApplicationError(
            f"{method!r} is derived from {inputs} suggestions; it cannot be run on its own.",
            errors={"method": [f"Choose a method that runs over solutions ({runnable})."]},
        )
    configuration = method_configuration(method, parameters)
    return ScoringRun.objects.create(
        dataset=dataset,
        method=method,
        config_key=configuration.config_key,
        parameters=configuration.parameters,
        force=force,
        created_by_id=user.pk if user is not None and user.is_authenticated else None,
    )


def scoring_run_targets(*, run: ScoringRun, limit: int | None = None) -> list[int]:
    """Return the ids of the solutions this run must score (those not done yet, all with `force`)."""
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("Invalid limit.", errors={"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    ids = solution_ids_to_score(dataset=run.dataset, method=run.method, config_key=run.config_key, force=run.force)
    return list(ids[:limit] if limit else ids)


def scoring_run_start(*, run: ScoringRun, limit: int | None = None, enqueue: bool = True) -> list[int]:
    """Mark the run running with its total and (with `enqueue`) send its batches to the workers.

    Return the target solution ids. A run with nothing to do succeeds at once. Without `enqueue` the
    caller (the management command) runs the batches itself with `suggestions_run(run_id=...)`.
    """
    targets = scoring_run_targets(run=run, limit=limit)
    now = timezone.now()
    status = ScoringRunStatus.RUNNING if targets else ScoringRunStatus.SUCCEEDED
    ScoringRun.objects.filter(pk=run.pk).update(
        status=status, total=len(targets), started_at=now, finished_at=None if targets else now
    )
    run.refresh_from_db()
    if targets and enqueue:
        try:
            suggestions_enqueue(
                method=run.method,
                solution_ids=targets,
                config_key=run.config_key,
                parameters=run.parameters,
                force=run.force,
                run_id=run.pk,
            )
        except Exception as error:
            scoring_run_fail(run=run, error=f"could not enqueue the run's tasks: {type(error).__name__}: {error}")
            raise
    return targets


def scoring_run_execute(
    *, run: ScoringRun, solution_ids: Sequence[int], on_batch: Callable[[RunOutcome], None] | None = None
) -> ScoringRun:
    """Run the run's batches in this process (the management command's default), reporting each batch.

    An error that stops the run (e.g. a transient engine error, not retried here) marks it failed and
    propagates; the solutions already scored keep their suggestions.
    """
    size = settings.SCORING_TASK_BATCH_SIZE
    for start in range(0, len(solution_ids), size):
        batch = list(solution_ids[start : start + size])
        try:
            outcome = suggestions_run(
                method=run.method,
                solution_ids=batch,
                config_key=run.config_key,
                force=run.force,
                parameters=run.parameters,
                run_id=run.pk,
            )
        except Exception as error:
            scoring_run_fail(run=run, error=f"stopped: {type(error).__name__}: {error}")
            raise
        if on_batch is not None:
            on_batch(outcome)
    run.refresh_from_db()
    return run


def scoring_run_submit(
    *,
    dataset: Dataset,
    method: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    force: bool = False,
    parameters: dict[str, Any] | None = None,
    limit: int | None = None,
) -> ScoringRun:
    """Create a scoring run and start it in the background after the commit (the API's POST).

    If the broker cannot take the start task, the run is deleted again and ServiceUnavailableError raised
    (after the commit: from this call when it is the outermost transaction), as for exports; in the
    embedded default the run executes in-process before this returns.
    """
    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("Invalid limit.", errors={"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    run = scoring_run_create(dataset=dataset, method=method, user=user, force=force, parameters=parameters)

    def start() -> None:
        try:
            task_by_name(START_RUN_TASK).delay(run.pk, limit)
        except Exception as error:  # the broker is unreachable (its errors vary by transport); the log keeps why
            logger.exception("could not enqueue scoring run %s", run.pk)
            ScoringRun.objects.filter(pk=run.pk, status=ScoringRunStatus.QUEUED).delete()
            raise ServiceUnavailableError(
                QUEUE_UNAVAILABLE, errors={"queue": ["The task queue is unavailable; nothing was started."]}
            ) from error

    transaction.on_commit(start)
    return run
