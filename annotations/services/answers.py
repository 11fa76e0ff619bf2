"""Check solutions' final answers against their problems' reference answers and store the verdicts."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, JSONField, Q, TextField, Value, When
from django.utils import timezone

from annotations.models import Solution, SolutionStatus
from annotations.selectors.answers import solution_ids_without_answer_check
from prmweb.core.answers import answers_equivalent, extract_final_answer, has_boxed_answer
from prmweb.taskqueue import task_by_name

CHECK_ANSWERS_TASK = "annotations.tasks.check_final_answers"

CHECK_CHUNK_SIZE = 500
# At most this many solutions per sweep (oldest first): a big backlog is sent over several sweeps, not twice.
MAX_SWEPT_ANSWER_CHECKS = 20_000
DEFAULT_SWEEP_AFTER_SECONDS = 300


@dataclass(frozen=True)
class AnswerCheckResult:
    """How many solutions were checked, how many matched, and how many had no reference answer."""

    checked: int
    matched: int
    without_reference: int


def solutions_check_answers(*, solution_ids: Sequence[int]) -> AnswerCheckResult:
    """Compare each solution's final answer with its problem's reference answer and store the result.

    For every solution whose problem has a reference answer: fill a blank `final_answer` with the
    extracted one (the last `\\boxed{}` of the response for a solution sent as one, else of the steps;
    else the last step), set `answer_check`, and set `final_answer_correct` only where the source gave
    none and the answer is stated (given or boxed) or matches: a mismatch read out of the last step's prose
    leaves it unset. Solutions without a reference answer, unknown ids and solutions still waiting for their
    steps (`segmentation: "reformat"`; checked once they have them) are left alone. Idempotent: the same
    input gives the same stored values. One read and one bulk update per chunk of solutions, whatever
    their number.
    """
    ids = sorted(set(solution_ids))
    checked = matched = without_reference = 0
    for start in range(0, len(ids), CHECK_CHUNK_SIZE):
        chunk = ids[start : start + CHECK_CHUNK_SIZE]
        result = _check_chunk(chunk)
        checked += result.checked
        matched += result.matched
        without_reference += result.without_reference
    return AnswerCheckResult(checked=checked, matched=matched, without_reference=without_reference)


@transaction.atomic
def _check_chunk(solution_ids: list[int]) -> AnswerCheckResult:
    blank = Q(problem__reference_answer="")
    rows = list(
        Solution.objects.filter(pk__in=solution_ids)
        .exclude(status=SolutionStatus.WAITING)
        .annotate(  # steps and response are read only where there is a reference to compare them with
            reference=F("problem__reference_answer"),
            read_steps=Case(When(blank, then=Value(None)), default=F("steps"), output_field=JSONField()),
            read_response=Case(When(blank, then=Value("")), default=F("response"), output_field=TextField()),
        )
        .values_list("pk", "reference", "read_steps", "read_response", "final_answer", "final_answer_correct")
    )
    to_update = []
    for solution_id, reference_answer, steps, response, given_answer, given_verdict in rows:
        reference = reference_answer.strip()
        if not reference:
            continue
        given = given_answer.strip()
        final_answer = given or extract_final_answer(steps, response=response)
        verdict = answers_equivalent(final_answer, reference)
        # "Known wrong" has consequences (never settled as all correct): a mismatch counts only for a stated
        # answer (given or boxed), not for one read out of the last step's prose ("50 dollars, 10 more than 40").
        stated = bool(given) or has_boxed_answer(steps, response=response)
        if given_verdict is None and (verdict or stated):
            given_verdict = verdict
        to_update.append(
            Solution(
                pk=solution_id,
                final_answer=given_answer or final_answer,
                answer_check=verdict,
                final_answer_correct=given_verdict,
            )
        )
    if to_update:
        Solution.objects.bulk_update(to_update, ["final_answer", "answer_check", "final_answer_correct"])
    return AnswerCheckResult(
        checked=len(to_update),
        matched=sum(1 for solution in to_update if solution.answer_check),
        without_reference=len(rows) - len(to_update),
    )


def answer_checks_sweep(*, now: datetime.datetime | None = None) -> int:
    """Enqueue the final-answer check of solutions that have a reference answer and still no check.

    Catches what ingestion could not enqueue (the broker was down) and solutions whose problem got its
    reference answer later. Only solutions older than ANSWER_CHECK_SWEEP_AFTER_SECONDS (default 300), so
    checks just queued by ingestion are not sent twice; at most MAX_SWEPT_ANSWER_CHECKS per call. Return
    how many solutions were enqueued. Raises the broker's error while it is down (the next sweep retries).
    Idempotent: the check stores the same verdicts twice.
    """
    after = getattr(settings, "ANSWER_CHECK_SWEEP_AFTER_SECONDS", DEFAULT_SWEEP_AFTER_SECONDS)
    cutoff = (now or timezone.now()) - datetime.timedelta(seconds=after)
    ids = solution_ids_without_answer_check(created_before=cutoff, limit=MAX_SWEPT_ANSWER_CHECKS)
    for start in range(0, len(ids), CHECK_CHUNK_SIZE):
        task_by_name(CHECK_ANSWERS_TASK).delay(ids[start : start + CHECK_CHUNK_SIZE])
    return len(ids)
