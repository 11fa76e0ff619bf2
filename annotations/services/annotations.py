"""Submit and change an annotator's label of a solution (the workbench's writes besides claims)."""

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from annotations.critique import error_type_errors, step_notes_as_list, step_notes_errors
from annotations.models import Annotation, Claim, Solution, SolutionStatus
from annotations.selectors.gold import annotation_editable
from annotations.selectors.workbench import SubmitContext, submit_context_get
from annotations.services.agreement import solution_evaluate_locked
from annotations.services.claims import NO_CLAIM_MESSAGE, solution_has_room
from annotations.services.locks import solution_lock
from prmweb.errors import ApplicationError, ConflictError

ALL_CORRECT = -1
MAX_RATIONALE_CHARS = 10_000
MAX_SECONDS_SPENT = 4 * 3600.0


@dataclass(frozen=True)
class AnnotationInput:
    """What an annotator submits for one solution.

    `rationale` is the explanation of the marked step; `error_type` a slug of the dataset's error types
    (only with a marked step); `step_notes` short notes on other steps (step index -> text; blank ones
    are dropped).
    """

    earliest_error_step: int
    rationale: str = ""
    error_type: str | None = None
    step_notes: Mapping[int, str] = field(default_factory=dict)
    flag_ambiguous: bool = False
    flag_reference_wrong: bool = False
    flag_unsure: bool = False
    seconds_spent: float | None = None
    confirm_all_correct: bool = False


def clamp_seconds(seconds: float) -> float:
    """Return `seconds` bounded to [0, 4 h]: a stale tab or a tampered timer cannot record nonsense."""
    if seconds != seconds:  # NaN
        return 0.0
    return round(min(max(seconds, 0.0), MAX_SECONDS_SPENT), 1)


def cleaned_step_notes(notes: Mapping[int, str]) -> dict[int, str]:
    """Return the notes stripped, without blank ones."""
    return {step: note.strip() for step, note in notes.items() if note.strip()}


def _critique_errors(solution: Solution, data: AnnotationInput) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    step = data.earliest_error_step
    if found := error_type_errors(data.error_type, label=step, taxonomy=solution.dataset.error_types):
        errors["error_type"] = found
    notes = cleaned_step_notes(data.step_notes)
    if found := step_notes_errors(notes, num_steps=solution.num_steps, marked_step=step):
        errors["step_notes"] = found
    return errors


def annotation_validate(*, solution: Solution, data: AnnotationInput) -> None:
    """Raise ApplicationError naming each field that the solution and its dataset's protocol refuse."""
    errors: dict[str, list[str]] = {}
    step = data.earliest_error_step
    if not ALL_CORRECT <= step < solution.num_steps:
        errors["earliest_error_step"] = [
            f"Must be -1 (all steps correct) or a step index from 0 to {solution.num_steps - 1}; got {step}."
        ]
    rationale = data.rationale.strip()
    if len(rationale) > MAX_RATIONALE_CHARS:
        errors["rationale"] = [f"At most {MAX_RATIONALE_CHARS} characters; got {len(rationale)}."]
    elif "\x00" in rationale:
        errors["rationale"] = ["Must not contain NUL characters."]
    elif step >= 0 and solution.dataset.rationale_required and not rationale:
        errors["rationale"] = ["This dataset asks for an explanation: say why the marked step is wrong."]
    if step == ALL_CORRECT and solution.final_answer_correct is False and not data.confirm_all_correct:
        errors["confirm_all_correct"] = [
            "The final answer is known to be wrong, so some step should be wrong. "
            "Confirm explicitly that every step is correct, or mark the earliest wrong step."
        ]
    if ALL_CORRECT <= step < solution.num_steps:
        errors.update(_critique_errors(solution, data))
    if errors:
        first = next(iter(errors.items()))
        raise ApplicationError(f"Invalid annotation. {first[0]}: {first[1][0]}", errors=errors)


def _check_claim(*, solution: Solution, annotator: User, context: SubmitContext, now: datetime.datetime) -> int:
    """Return the id of the annotator's claim if it allows a new annotation; else raise ConflictError saying why.

    A live claim was handed out under the protocol: its work is kept even if others settled the solution
    meanwhile (it then only adds evidence; the settled label stays). An expired one still needs room.
    No claim at all (never handed out, skipped, or released after it expired) is refused.
    """
    if context.claim_id is None or context.claim_expires_at is None:
        raise ConflictError(
            f"{NO_CLAIM_MESSAGE} Take your next solution from the queue.",
            errors={"claim": ["No claim of yours on this solution."]},
        )
    open_or_gold = solution.status == SolutionStatus.OPEN or solution.is_gold
    if context.claim_expires_at <= now and not (
        open_or_gold and solution_has_room(solution=solution, annotator=annotator, now=now)
    ):
        raise ConflictError(
            "This solution no longer needs your annotation: your claim expired and others completed it.",
            errors={"claim": ["Your claim expired, and the protocol has no room left."]},
        )
    return context.claim_id


def _new_annotation(
    *, solution: Solution, annotator: User, data: AnnotationInput, context: SubmitContext, now: datetime.datetime
) -> Annotation:
    claim_id = _check_claim(solution=solution, annotator=annotator, context=context, now=now)
    claimed_at = context.claimed_at or now
    seconds = data.seconds_spent if data.seconds_spent is not None else (now - claimed_at).total_seconds()
    annotation = Annotation.objects.create(
        solution=solution,
        annotator=annotator,
        earliest_error_step=data.earliest_error_step,
        step_count=solution.num_steps,
        rationale=data.rationale.strip(),
        error_type=data.error_type,
        step_notes=step_notes_as_list(cleaned_step_notes(data.step_notes)),
        flag_ambiguous=data.flag_ambiguous,
        flag_reference_wrong=data.flag_reference_wrong,
        flag_unsure=data.flag_unsure,
        seconds_spent=clamp_seconds(seconds),
        suggestions_visible=context.suggestions_visible,
    )
    Claim.objects.filter(pk=claim_id).delete()
    return annotation


def _changed_annotation(
    *, solution: Solution, annotation_id: int, data: AnnotationInput, context: SubmitContext
) -> Annotation:
    if not annotation_editable(solution):  # a gold solution stays changeable until it looks settled
        raise ConflictError(
            "This solution's label is final: your annotation can no longer be changed.",
            errors={"solution": [f"Status is {solution.get_status_display().lower()}."]},
        )
    annotation = Annotation.objects.get(pk=annotation_id)
    annotation.earliest_error_step = data.earliest_error_step
    annotation.rationale = data.rationale.strip()
    annotation.error_type = data.error_type
    annotation.step_notes = step_notes_as_list(cleaned_step_notes(data.step_notes))
    annotation.flag_ambiguous = data.flag_ambiguous
    annotation.flag_reference_wrong = data.flag_reference_wrong
    annotation.flag_unsure = data.flag_unsure
    annotation.seconds_spent = clamp_seconds(annotation.seconds_spent + clamp_seconds(data.seconds_spent or 0.0))
    annotation.suggestions_visible = annotation.suggestions_visible or context.suggestions_visible
    annotation.save()
    return annotation


@transaction.atomic
def annotation_store(*, solution_id: int, annotator: User, data: AnnotationInput) -> tuple[Annotation, bool]:
    """Do what `annotation_submit` does; return the annotation and whether it is new (False: changed).

    Queries, whatever the dataset size: lock the solution (with its dataset), read my annotation, my claim
    and whether suggestions are shown (one statement), insert the annotation, delete the claim, store the
    recounted annotation count; where the protocol can decide (k annotations in), read the labels and
    apply it instead of the last (a final label costs a few more). A change reads and updates the annotation.
    """
    now = timezone.now()
    solution = solution_lock(solution_id=solution_id, member=annotator)
    if solution.status == SolutionStatus.WAITING:  # never handed out: it has no steps to mark yet
        raise ConflictError(
            f"Solution {solution_id} is waiting for its steps (the judge is re-splitting its response).",
            errors={"solution": ["It has no steps yet; it joins the queue once it has them."]},
        )
    annotation_validate(solution=solution, data=data)
    context = submit_context_get(solution=solution, user=annotator)
    created = context.annotation_id is None
    if context.annotation_id is None:
        annotation = _new_annotation(solution=solution, annotator=annotator, data=data, context=context, now=now)
    else:
        annotation = _changed_annotation(
            solution=solution, annotation_id=context.annotation_id, data=data, context=context
        )
    annotation.solution = solution
    solution_evaluate_locked(solution=solution, annotation_count=solution.annotation_count + int(created))
    return annotation, created


def annotation_submit(*, solution_id: int, annotator: User, data: AnnotationInput) -> Annotation:
    """Store the annotator's label of the solution, or change the one they stored before; return it.

    A new annotation needs the annotator's claim from the queue: a live one (work done under it is never
    refused, even when others settled the solution meanwhile), or an expired one while the protocol still
    has room; it releases the claim. Without a claim it is refused (nobody picks their items by id).
    A stored annotation can be changed, claim or not, while the solution is open or in review (or gold).
    Side effects, in one transaction under the solution row lock: one annotation row written, the claim
    deleted, and the agreement protocol applied (counts, final label, review or discard: see
    `annotations.services.agreement`). The returned annotation carries the locked solution and its dataset.
    Errors: NotFoundError (no such solution for this member), ApplicationError naming the refused field,
    ConflictError (final label, claim lost, or a solution still waiting for its steps).
    """
    annotation, _created = annotation_store(solution_id=solution_id, annotator=annotator, data=data)
    return annotation
