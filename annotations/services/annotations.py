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
from annotations.selectors.workbench import submit_expressions
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


CLAIM_TAKE_SQL = (
    f'DELETE FROM "{Claim._meta.db_table}" WHERE solution_id = %s AND annotator_id = %s'
    " RETURNING id, solution_id, annotator_id, claimed_at, expires_at"
)


def _take_claim(*, solution: Solution, annotator: User, now: datetime.datetime) -> Claim:
    """Delete the annotator's claim on the solution and return it, if it allows a new annotation.

    One statement (DELETE ... RETURNING, on PostgreSQL and SQLite): it reads the claim as of now, after the
    row lock. A live claim was handed out under the protocol: its work is kept even if others settled the
    solution meanwhile (it then only adds evidence; the settled label stays). An expired one still needs
    room. No claim at all (never handed out, skipped, released after it expired, or used by a submit that
    just went through) is refused with ConflictError; so is an expired one without room (the caller's
    transaction then rolls the deletion back).
    """
    claim = next(iter(Claim.objects.raw(CLAIM_TAKE_SQL, [solution.pk, annotator.pk])), None)
    if claim is None:
        raise ConflictError(
            f"{NO_CLAIM_MESSAGE} Take your next solution from the queue.",
            errors={"claim": ["No claim of yours on this solution."]},
        )
    open_or_gold = solution.status == SolutionStatus.OPEN or solution.is_gold
    if claim.expires_at <= now and not (
        open_or_gold and solution_has_room(solution=solution, annotator=annotator, now=now)
    ):
        raise ConflictError(
            "This solution no longer needs your annotation: your claim expired and others completed it.",
            errors={"claim": ["Your claim expired, and the protocol has no room left."]},
        )
    return claim


def _suggestions_visible(solution: Solution) -> bool:
    return bool(getattr(solution, "suggestions_shown", False)) and not solution.dataset.blind


def _new_annotation(
    *, solution: Solution, annotator: User, data: AnnotationInput, now: datetime.datetime
) -> Annotation:
    claim = _take_claim(solution=solution, annotator=annotator, now=now)
    seconds = data.seconds_spent if data.seconds_spent is not None else (now - claim.claimed_at).total_seconds()
    return Annotation.objects.create(
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
        suggestions_visible=_suggestions_visible(solution),
    )


def _changed_annotation(*, solution: Solution, annotation_id: int, data: AnnotationInput) -> Annotation:
    if not annotation_editable(solution):  # a gold solution stays changeable until it looks settled
        settled = (
            "This solution was discarded (its annotators did not agree)"
            if solution.status == SolutionStatus.DISCARDED
            else "This solution's label is final"
        )
        raise ConflictError(
            f"{settled}: your annotation can no longer be changed.",
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
    annotation.suggestions_visible = annotation.suggestions_visible or _suggestions_visible(solution)
    annotation.save()
    return annotation


@transaction.atomic
def annotation_store(*, solution_id: int, annotator: User, data: AnnotationInput) -> tuple[Annotation, bool]:
    """Do what `annotation_submit` does; return the annotation and whether it is new (False: changed).

    Statements, whatever the dataset size: lock the solution (with its dataset, my annotation's id and
    whether suggestions are shown), take my claim (delete it, returning it), insert the annotation, store
    the recounted annotation count. Where the protocol can decide (k annotations in), the labels are read
    and applied instead of the last (a final label costs a few more). A change reads and updates the
    annotation instead of taking a claim and inserting.
    """
    now = timezone.now()
    solution = solution_lock(solution_id=solution_id, member=annotator, annotate=submit_expressions(user=annotator))
    if solution.status == SolutionStatus.WAITING:  # never handed out: it has no steps to mark yet
        raise ConflictError(
            f"Solution {solution_id} is waiting for its steps (the judge is re-splitting its response).",
            errors={"solution": ["It has no steps yet; it joins the queue once it has them."]},
        )
    annotation_validate(solution=solution, data=data)
    # Read with the lock: a submit of mine that committed while this one waited is not seen here, but it took
    # the claim, so this one is then refused for want of a claim (and the page shows my stored annotation).
    annotation_id: int | None = getattr(solution, "my_annotation_id", None)
    if annotation_id is None:
        annotation = _new_annotation(solution=solution, annotator=annotator, data=data, now=now)
    else:
        annotation = _changed_annotation(solution=solution, annotation_id=annotation_id, data=data)
    annotation.solution = solution
    created = annotation_id is None
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
