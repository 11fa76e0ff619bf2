"""Re-split responses sent with `segmentation: "reformat"` with the judge engine, and keep that work moving.

- `reformat_enqueue` is the reformat hook (PRMWEB_REFORMAT_HOOK, called after ingestion commits): it sends
  the waiting solutions in batches of SCORING_TASK_BATCH_SIZE to `scoring.tasks.reformat_responses` on the
  judge's queue, recording when each batch was sent (a batch the broker refuses is recorded as never sent).
- `responses_reformat` is that task's body: one batched call to the judge engine with ProcessBench's
  reformat prompt (`scoring.methods.reformat`), then `annotations.services.reformat` takes or refuses each
  reply and gives the solution its steps. A permanent engine or configuration error falls back to
  paragraphs with the reason; a transient one propagates for Celery to retry, and after the last retry
  `reformat_give_up` falls back with the reason.
- `reformat_sweep` (with the missing-suggestions sweep) re-sends waiting solutions whose task was never
  sent (the broker was down at ingestion) or was sent more than SCORING_STUCK_AFTER_SECONDS ago (lost).
"""

import datetime
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from annotations.selectors.reformat import reformats_to_send, solutions_waiting_for_steps
from annotations.services.reformat import JudgeSplit, Settled, solutions_reformat_queued, solutions_reformat_settle
from prmweb.taskqueue import task_by_name
from scoring.engines.base import EngineError, TransientEngineError
from scoring.engines.factory import get_generation_engine
from scoring.methods.base import MethodConfigError
from scoring.methods.reformat import ReformatConfig, ReformatRequest, reformat
from scoring.methods.registry import METHODS
from scoring.services.enqueue import PUBLISH_RETRY_POLICY

logger = logging.getLogger(__name__)

REFORMAT_TASK = "scoring.tasks.reformat_responses"
ENGINE_ROLE = "judge"
MAX_SWEPT_REFORMATS = 10_000


@dataclass(frozen=True)
class ReformatOutcome:
    """How many waiting solutions of a batch were re-split by the judge, refused, or failed."""

    accepted: int = 0
    rejected: int = 0
    failed: int = 0

    @classmethod
    def of(cls, settled: Sequence[Settled]) -> "ReformatOutcome":
        statuses = [item.reformat_status for item in settled]
        return cls(statuses.count("accepted"), statuses.count("rejected"), statuses.count("failed"))

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "rejected": self.rejected, "failed": self.failed}


def reformat_queue() -> str:
    """Return the queue of the reformat task: the judge method's (its engine lives in those workers)."""
    return METHODS[ENGINE_ROLE].queue


def reformat_config() -> ReformatConfig:
    """Return the reformat settings: SCORING_REFORMAT_MAX_TOKENS, the judge's prompt format and SCORING_SEED."""
    return ReformatConfig(
        max_tokens=settings.SCORING_REFORMAT_MAX_TOKENS,
        prompt_format=settings.SCORING_JUDGE.get("PROMPT_FORMAT", "chat"),
        seed=settings.SCORING_SEED,
    )


def reformat_enqueue(*, dataset_id: int, solution_ids: Sequence[int]) -> int:
    """Send the waiting solutions' reformat tasks in batches; return the number of tasks sent (the hook).

    Raises the broker's error after recording the refused batch as never sent (the sweep sends it later).
    `dataset_id` is part of the hook's signature; the task needs only the ids.
    """
    task, queue = task_by_name(REFORMAT_TASK), reformat_queue()
    ids = list(solution_ids)
    size = max(1, settings.SCORING_TASK_BATCH_SIZE)
    sent = 0
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        solutions_reformat_queued(solution_ids=batch, at=timezone.now())
        try:
            task.apply_async(kwargs={"solution_ids": batch}, queue=queue, retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except Exception:
            solutions_reformat_queued(solution_ids=batch, at=None)
            raise
        sent += 1
    return sent


def _ask_judge(requests: list[ReformatRequest]) -> list[JudgeSplit]:
    """Return the judge's replies; a permanent engine or configuration error is every solution's reason."""
    try:
        config = reformat_config()
        engine = get_generation_engine(ENGINE_ROLE)
        replies = reformat(requests, engine, config)
    except TransientEngineError:
        raise
    except (EngineError, MethodConfigError) as error:
        logger.warning("reformatting failed for %d solutions: %s", len(requests), error)
        return [JudgeSplit(request.solution_id, None, f"{type(error).__name__}: {error}") for request in requests]
    model = engine.info.model_name
    return [JudgeSplit(reply.solution_id, reply.text, reply.error, model) for reply in replies]


def responses_reformat(*, solution_ids: Sequence[int]) -> ReformatOutcome:
    """Ask the judge to re-split the waiting solutions among the ids and give them their steps; return counts.

    Idempotent: solutions no longer waiting are skipped (no engine call when none waits). Raises
    TransientEngineError for Celery to retry; the solutions then stay waiting.
    """
    waiting = solutions_waiting_for_steps(solution_ids=solution_ids)
    if not waiting:
        return ReformatOutcome()
    requests = [ReformatRequest(solution.pk, solution.problem.text, solution.response) for solution in waiting]
    settled = solutions_reformat_settle(splits=_ask_judge(requests))
    for item in settled:
        if item.reason:
            status, reason = item.reformat_status, item.reason
            logger.info("solution %s fell back to paragraphs (%s): %s", item.solution_id, status, reason)
    return ReformatOutcome.of(settled)


def reformat_give_up(*, solution_ids: Sequence[int], error: str) -> ReformatOutcome:
    """Fall back to paragraphs for the batch's waiting solutions after the last retry; return the counts."""
    reason = f"gave up after retries: {error}"
    settled = solutions_reformat_settle(splits=[JudgeSplit(solution_id, None, reason) for solution_id in solution_ids])
    return ReformatOutcome.of(settled)


def reformat_sweep(*, now: datetime.datetime | None = None) -> int:
    """Re-send waiting solutions whose reformat task was never sent or is stuck; return how many were sent.

    Stuck means sent more than SCORING_STUCK_AFTER_SECONDS ago (a lost task). At most MAX_SWEPT_REFORMATS
    per call, oldest first. Raises the broker's error while it is down (the next sweep retries). Safe to
    run while workers settle the same solutions: a solution settled twice keeps the first result.
    """
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=settings.SCORING_STUCK_AFTER_SECONDS)
    rows = reformats_to_send(sent_before=cutoff, limit=MAX_SWEPT_REFORMATS)
    for dataset_id in sorted({dataset_id for dataset_id, _ in rows}):
        ids = [solution_id for row_dataset, solution_id in rows if row_dataset == dataset_id]
        reformat_enqueue(dataset_id=dataset_id, solution_ids=ids)
    return len(rows)
