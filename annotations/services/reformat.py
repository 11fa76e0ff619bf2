"""Give solutions waiting for the judge's re-split (`segmentation: "reformat"`) their steps.

The scoring side asks the judge (`scoring.services.reformat`) and hands each reply here. A reply that holds
the response's text modulo whitespace and paragraph breaks, within the limits on steps, is taken: the
response is cut where the reply has its breaks (`annotations.realign`), status `accepted`. Otherwise the
solution falls back to its paragraphs and is flagged: `rejected` (the judge changed the text; the reason
says where) or `failed` (no reply; the reason says why). Either way it leaves `waiting` for `open`, and its
final-answer check and suggestions are enqueued after the commit, as for a newly ingested solution.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.db.models import QuerySet

from annotations.models import ReformatStatus, Solution, SolutionStatus
from annotations.realign import realign_paragraphs
from annotations.segmentation import PARAGRAPHS, REFORMAT, SegmentationError, Span, split_paragraphs
from annotations.services.ingestion import solutions_hand_over
from annotations.solution_input import MAX_STEP_CHARS, MAX_STEPS
from prmweb.core.redaction import redact_addresses

MAX_REASON_CHARS = 5000
SETTLED_FIELDS = [
    "steps",
    "step_offsets",
    "num_steps",
    "segmentation",
    "status",
    "reformat_status",
    "reformat_error",
    "reformat_model",
]


@dataclass(frozen=True)
class JudgeSplit:
    """The judge's answer for one waiting solution: its re-split text, or why there is none (`error`)."""

    solution_id: int
    reformatted: str | None
    error: str = ""
    model_name: str = ""


@dataclass(frozen=True)
class Settled:
    """What became of one waiting solution: its reformat status, step count and the reason of a fallback."""

    solution_id: int
    reformat_status: str
    num_steps: int
    reason: str = ""


def _limit_error(spans: Sequence[Span]) -> str | None:
    if len(spans) > MAX_STEPS:
        return f"The reply has {len(spans)} paragraphs; a solution has at most {MAX_STEPS}."
    for index, span in enumerate(spans):
        if span.end - span.start > MAX_STEP_CHARS:
            return (
                f"The reply's paragraph {index} (characters {span.start} to {span.end}) has "
                f"{span.end - span.start} characters, at most {MAX_STEP_CHARS}."
            )
    return None


def _decide(response: str, split: JudgeSplit) -> tuple[str, list[Span], str]:
    """Return (reformat status, the steps' spans, the reason of a fallback) for one reply."""
    if split.reformatted is None:
        return ReformatStatus.FAILED, split_paragraphs(response), split.error or "The judge gave no reply."
    try:
        spans = realign_paragraphs(response, split.reformatted)
    except SegmentationError as error:
        return ReformatStatus.REJECTED, split_paragraphs(response), error.message
    if (too_big := _limit_error(spans)) is not None:
        return ReformatStatus.REJECTED, split_paragraphs(response), too_big
    return ReformatStatus.ACCEPTED, spans, ""


def _apply(solution: Solution, split: JudgeSplit) -> Settled:
    status, spans, reason = _decide(solution.response, split)
    reason = redact_addresses(reason)[:MAX_REASON_CHARS]
    solution.steps = [solution.response[span.start : span.end] for span in spans]
    solution.step_offsets = [[span.start, span.end] for span in spans]
    solution.num_steps = len(spans)
    solution.segmentation = REFORMAT if status == ReformatStatus.ACCEPTED else PARAGRAPHS
    solution.status = SolutionStatus.OPEN
    solution.reformat_status = status
    solution.reformat_error = reason
    solution.reformat_model = split.model_name[:200]
    return Settled(solution.pk, status, len(spans), reason)


def _waiting_locked(solution_ids: Sequence[int]) -> QuerySet[Solution]:
    solutions = Solution.objects.filter(pk__in=list(solution_ids), status=SolutionStatus.WAITING)
    return solutions.select_for_update(of=("self",)).order_by("pk")


@transaction.atomic
def solutions_reformat_settle(*, splits: Sequence[JudgeSplit]) -> list[Settled]:
    """Give each waiting solution its steps from the judge's reply (or its paragraphs); return what happened.

    Side effects: the rows (locked, in id order) get steps, offsets, step count, segmentation (`reformat`
    when accepted, else `paragraphs`), status `open` and the reformat fields; after the commit their
    final-answer check and suggestions are enqueued. Idempotent: solutions no longer waiting (a redelivered
    task, a concurrent worker) and unknown ids are left alone and not returned.
    """
    by_id = {split.solution_id: split for split in splits}
    solutions = list(_waiting_locked(list(by_id)))
    settled = [_apply(solution, by_id[solution.pk]) for solution in solutions]
    if solutions:
        Solution.objects.bulk_update(solutions, SETTLED_FIELDS)
        for dataset_id in sorted({solution.dataset_id for solution in solutions}):
            ids = [solution.pk for solution in solutions if solution.dataset_id == dataset_id]
            transaction.on_commit(partial(solutions_hand_over, dataset_id=dataset_id, solution_ids=ids))
    return settled


def solutions_reformat_queued(*, solution_ids: Sequence[int], at: datetime.datetime | None) -> int:
    """Record when the reformat task of these waiting solutions was sent (None: it could not be); return the count.

    The sweep re-sends a waiting solution whose task was never sent or was sent too long ago (lost).
    """
    return Solution.objects.filter(pk__in=list(solution_ids), status=SolutionStatus.WAITING).update(
        reformat_queued_at=at
    )
