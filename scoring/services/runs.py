"""Scoring runs: a method over (part of) a dataset, with status, progress counts, errors and total cost."""

import logging
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from annotations.models import Dataset, Suggestion
from prmweb.core.redaction import redact_addresses
from prmweb.errors import ApplicationError
from scoring.configuration import DERIVED_METHODS, method_configuration
from scoring.models import ScoringRun, ScoringRunStatus
from scoring.selectors import solution_ids_to_score
from scoring.services.runner import RunOutcome

logger = logging.getLogger(__name__)

MAX_ERROR_LINES = 100
MAX_LIMIT = 1_000_000


def scoring_run_create(
    *,
    dataset: Dataset,
    method: str,
    user: AbstractBaseUser | AnonymousUser | None = None,
    force: bool = False,
    parameters: dict[str, Any] | None = None,
) -> ScoringRun:
    """Create a queued scoring run after validating the method and its parameters (ApplicationError names them)."""
    if method in DERIVED_METHODS:
        raise ApplicationError(
            f"{method!r} is derived from mc and judge suggestions; it cannot be run on its own.",
            errors={"method": ["Choose a method that runs over solutions (mc, judge, prm, arithmetic)."]},
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
    from scoring.services.enqueue import suggestions_enqueue

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


@transaction.atomic
def scoring_run_fail(*, run: ScoringRun, error: str) -> ScoringRun:
    """Mark the run failed, adding an error line (row-locked)."""
    locked = ScoringRun.objects.select_for_update().get(pk=run.pk)
    locked.status = ScoringRunStatus.FAILED
    locked.finished_at = timezone.now()
    locked.errors = _append_errors(locked.errors, [error])
    locked.save(update_fields=["status", "finished_at", "errors"])
    return locked


def _append_errors(existing: str, lines: Sequence[str]) -> str:
    kept = [line for line in existing.splitlines() if line]
    room = MAX_ERROR_LINES - len(kept)
    added = [redact_addresses(line.replace("\n", " "))[:500] for line in lines[: max(room, 0)]]
    return "\n".join(kept + added)


@transaction.atomic
def scoring_run_record(*, run_id: int, outcome: RunOutcome, already: Sequence[Suggestion] = ()) -> ScoringRun | None:
    """Add one batch's counts and cost to the run (row-locked), finishing it when every target is counted.

    `already` holds targets that were found finished without running (counted by their status, no cost).
    Counts never exceed the run's total, so a duplicate delivery cannot over-count.
    """
    run = ScoringRun.objects.select_for_update().filter(pk=run_id).first()
    if run is None:
        return None
    statuses = [row.status for row in already]
    added = {
        "succeeded": outcome.succeeded + statuses.count("succeeded"),
        "failed": outcome.failed + statuses.count("failed"),
        "skipped": outcome.skipped + statuses.count("skipped"),
    }
    for name, count in added.items():
        room = max(run.total - run.done, 0)
        setattr(run, name, getattr(run, name) + min(count, room))
    run.rollouts += outcome.rollouts
    run.prompt_tokens += outcome.prompt_tokens
    run.generated_tokens += outcome.generated_tokens
    run.seconds += outcome.seconds
    run.errors = _append_errors(run.errors, outcome.errors)
    if run.status == ScoringRunStatus.QUEUED:
        run.status = ScoringRunStatus.RUNNING
    if run.total and run.done >= run.total and run.status == ScoringRunStatus.RUNNING:
        all_failed = run.failed == run.total
        run.status = ScoringRunStatus.FAILED if all_failed else ScoringRunStatus.SUCCEEDED
        run.finished_at = timezone.now()
    run.save()
    return run


def scoring_run_execute(
    *, run: ScoringRun, solution_ids: Sequence[int], on_batch: Callable[[RunOutcome], None] | None = None
) -> ScoringRun:
    """Run the run's batches in this process (the management command's default), reporting each batch.

    An error that stops the run (e.g. a transient engine error, not retried here) marks it failed and
    propagates; the solutions already scored keep their suggestions.
    """
    from scoring.services.runner import suggestions_run

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

    If the broker cannot take the start task, the run is marked failed with that error (nothing else
    was written); in the embedded default the run executes in-process before this returns.
    """
    from scoring.tasks import start_scoring_run  # tasks import services; import late

    if limit is not None and not 1 <= limit <= MAX_LIMIT:
        raise ApplicationError("Invalid limit.", errors={"limit": [f"Must be between 1 and {MAX_LIMIT}."]})
    run = scoring_run_create(dataset=dataset, method=method, user=user, force=force, parameters=parameters)

    def start() -> None:
        try:
            start_scoring_run.delay(run.pk, limit)
        except Exception as error:
            logger.exception("could not enqueue scoring run %s", run.pk)
            scoring_run_fail(run=run, error=f"could not enqueue the run: {type(error).__name__}: {error}")

    transaction.on_commit(start)
    return run
