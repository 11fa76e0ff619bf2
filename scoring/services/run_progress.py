"""Count a scoring run's batches as they finish, or mark the run failed (row-locked, safe under concurrency)."""

from collections.abc import Sequence

from django.db import transaction
from django.utils import timezone

from annotations.models import Suggestion
from prmweb.core.redaction import redact_addresses
from scoring.models import ScoringRun, ScoringRunStatus
from scoring.services.outcome import RunOutcome

MAX_ERROR_LINES = 100


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
