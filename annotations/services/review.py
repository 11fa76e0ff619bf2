"""Reviewers' decisions: pick a solution's final label, or reopen a decided one.

Permission to review (dataset role reviewer or manager, or staff) is checked by the interface
(`annotations.permissions`); these services validate the decision itself and write it with history.
"""

from dataclasses import replace

from django.contrib.auth.models import User
from django.db import transaction

from annotations.critique import error_type_errors
from annotations.models import Annotation, CritiqueSource, FinalLabel, FinalLabelSource, Solution, SolutionStatus
from annotations.services.final_labels import (
    FinalCritique,
    annotators_critique,
    final_label_clear,
    final_label_write,
)
from annotations.services.locks import solution_lock
from prmweb.errors import ApplicationError, ConflictError

MAX_NOTE_CHARS = 5000
MAX_EXPLANATION_CHARS = 10_000
REOPEN_TARGETS = (SolutionStatus.OPEN, SolutionStatus.NEEDS_REVIEW)


def _validate_note(note: str, *, required: bool, why: str = "") -> str:
    note = note.strip()
    if len(note) > MAX_NOTE_CHARS:
        raise ApplicationError(
            f"The note is too long ({len(note)} characters).",
            errors={"note": [f"At most {MAX_NOTE_CHARS} characters."]},
        )
    if required and not note:
        raise ApplicationError(why or "A note is required.", errors={"note": [why or "This field is required."]})
    return note


def _validate_label(solution: Solution, label: int) -> None:
    if solution.status == SolutionStatus.WAITING:
        raise ApplicationError(
            f"Solution {solution.pk} is waiting for its steps (the judge is re-splitting its response); "
            "label it once it has them.",
            errors={"label": ["The solution has no steps yet."]},
        )
    if not -1 <= label < solution.num_steps:
        raise ApplicationError(
            f"Label {label} is not -1 (all correct) or a step of this {solution.num_steps}-step solution.",
            errors={"label": [f"Must be -1 or between 0 and {solution.num_steps - 1}."]},
        )


def _refuse(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, errors={field: [message]})


def _describe(label: int) -> str:
    return "all steps correct" if label == -1 else f"step {label + 1}"


def _picked_critique(solution: Solution, label: int, annotation_id: int, error_type: str | None) -> FinalCritique:
    annotation = Annotation.objects.select_related("annotator").filter(pk=annotation_id, solution=solution).first()
    if annotation is None:
        raise _refuse("explanation_annotation", f"Solution {solution.pk} has no annotation {annotation_id}.")
    who = annotation.annotator.get_username()
    if annotation.earliest_error_step != label:
        raise _refuse(
            "explanation_annotation",
            f"{who} marked {_describe(annotation.earliest_error_step)}, not {_describe(label)}: pick an explanation "
            "of the chosen label, or write one.",
        )
    if not annotation.rationale:
        raise _refuse("explanation_annotation", f"{who} wrote no explanation; pick another or write one.")
    chosen_type = error_type if error_type is not None else annotation.error_type
    return FinalCritique(annotation.rationale, chosen_type, CritiqueSource.HUMAN, annotation_id=annotation.pk)


def _review_critique(
    solution: Solution, label: int, *, explanation: str, annotation_id: int | None, error_type: str | None
) -> FinalCritique | None:
    """Return the critique a reviewer's decision carries (see `review_decide`), or refuse it naming the field."""
    if found := error_type_errors(error_type, label=label, taxonomy=solution.dataset.error_types):
        raise _refuse("error_type", found[0])
    explanation = explanation.strip()
    if len(explanation) > MAX_EXPLANATION_CHARS:
        raise _refuse("explanation", f"At most {MAX_EXPLANATION_CHARS} characters; got {len(explanation)}.")
    if "\x00" in explanation:
        raise _refuse("explanation", "Must not contain NUL characters.")
    if explanation and annotation_id is not None:
        raise _refuse("explanation_annotation", "Pick an annotator's explanation or write one, not both.")
    if annotation_id is not None:
        return _picked_critique(solution, label, annotation_id, error_type)
    if explanation:
        return FinalCritique(explanation, error_type, CritiqueSource.REVIEWER)
    agreed = annotators_critique(solution=solution, label=label)
    if agreed is not None and error_type is not None:
        return replace(agreed, error_type=error_type)
    if agreed is None and error_type is not None:
        return FinalCritique("", error_type, CritiqueSource.REVIEWER)
    return agreed


@transaction.atomic
def review_decide(
    *,
    solution_id: int,
    reviewer: User,
    label: int,
    note: str = "",
    explanation: str = "",
    explanation_annotation_id: int | None = None,
    error_type: str | None = None,
) -> FinalLabel:
    """Set the solution's final label from a reviewer's decision (source `review`) and mark it final.

    Any label is allowed; calling "all correct" (-1) a solution whose final answer is known to be wrong
    needs a note saying why (e.g. the reference answer is wrong). The label's critique: the explanation
    of the annotation `explanation_annotation_id` (it must carry the chosen label; provenance `human`),
    or the reviewer's own `explanation` (provenance `reviewer`), else that of the annotators who gave
    the chosen label, as on agreement. `error_type` (from the dataset's types; only with a marked step)
    replaces the type that came with the explanation. Side effects: the FinalLabel row is created or
    replaced, one history row is written, the solution becomes `final`. Works on solutions in any state
    (a reviewer may also overrule a final label directly) but `waiting`, which has no steps yet.
    """
    solution = solution_lock(solution_id=solution_id)
    _validate_label(solution, label)
    wrong_answer = label == -1 and solution.final_answer_correct is False
    note = _validate_note(
        note,
        required=wrong_answer,
        why="The final answer is wrong, so say in a note why every step is correct.",
    )
    critique = _review_critique(
        solution, label, explanation=explanation, annotation_id=explanation_annotation_id, error_type=error_type
    )
    labels = list(Annotation.objects.filter(solution=solution).values_list("earliest_error_step", flat=True))
    agreement = sum(1 for value in labels if value == label) / len(labels) if labels else None
    final = final_label_write(
        solution=solution,
        label=label,
        source=FinalLabelSource.REVIEW,
        agreement=agreement,
        decided_by=reviewer,
        note=note,
        reason=note or f"Reviewer chose {_describe(label)}.",
        critique=critique,
    )
    solution.status = SolutionStatus.FINAL
    solution.save(update_fields=["status"])
    return final


@transaction.atomic
def review_reopen(*, solution_id: int, reviewer: User, target: str, reason: str) -> Solution:
    """Undo a solution's outcome: remove its final label (history kept) and send it back to people.

    `target` is `open` (annotators are asked again: one more annotation than it has if its annotations
    already settled it) or `needs_review`. Only final or discarded solutions can be reopened, and a reason
    is required. Side effects: the FinalLabel row is deleted, one history row is written, the solution's
    status changes and it needs humans again.
    """
    if target not in REOPEN_TARGETS:
        raise ApplicationError(
            f"Cannot reopen to {target!r}.", errors={"target": [f"Must be one of: {', '.join(REOPEN_TARGETS)}."]}
        )
    reason = _validate_note(reason, required=True, why="Say why the label is reopened.")
    solution = solution_lock(solution_id=solution_id)
    if solution.status not in (SolutionStatus.FINAL, SolutionStatus.DISCARDED):
        raise ConflictError(
            f"Solution {solution_id} is {solution.get_status_display().lower()}, not final or discarded.",
            errors={"status": ["Only final or discarded solutions can be reopened."]},
        )
    from_source = "discarded" if solution.status == SolutionStatus.DISCARDED else ""
    final_label_clear(solution=solution, reason=f"Reopened: {reason}", changed_by=reviewer, from_source=from_source)
    solution.status = target
    solution.needs_humans = True
    solution.save(update_fields=["status", "needs_humans"])
    return solution
