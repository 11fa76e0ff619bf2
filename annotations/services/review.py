"""Reviewers' decisions: pick a solution's final label, or reopen a decided one.

Permission to review (dataset role reviewer or manager, or staff) is checked by the interface
(`annotations.permissions`); these services validate the decision itself and write it with history.
"""

from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import Annotation, FinalLabel, FinalLabelSource, Solution, SolutionStatus
from annotations.services.final_labels import final_label_clear, final_label_write
from annotations.services.locks import solution_lock
from prmweb.errors import ApplicationError, ConflictError

MAX_NOTE_CHARS = 5000
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
    if not -1 <= label < solution.num_steps:
        raise ApplicationError(
            f"Label {label} is not -1 (all correct) or a step of this {solution.num_steps}-step solution.",
            errors={"label": [f"Must be -1 or between 0 and {solution.num_steps - 1}."]},
        )


@transaction.atomic
def review_decide(*, solution_id: int, reviewer: User, label: int, note: str = "") -> FinalLabel:
    """Set the solution's final label from a reviewer's decision (source `review`) and mark it final.

    Any label is allowed; calling "all correct" (-1) a solution whose final answer is known to be wrong
    needs a note saying why (e.g. the reference answer is wrong). Side effects: the FinalLabel row is
    created or replaced, one history row is written, the solution becomes `final`. Works on solutions
    in any state (a reviewer may also overrule a final label directly).
    """
    solution = solution_lock(solution_id=solution_id)
    _validate_label(solution, label)
    wrong_answer = label == -1 and solution.final_answer_correct is False
    note = _validate_note(
        note,
        required=wrong_answer,
        why="The final answer is wrong, so say in a note why every step is correct.",
    )
    labels = list(Annotation.objects.filter(solution=solution).values_list("earliest_error_step", flat=True))
    agreement = sum(1 for value in labels if value == label) / len(labels) if labels else None
    step = "all steps correct" if label == -1 else f"step {label + 1}"
    final = final_label_write(
        solution=solution,
        label=label,
        source=FinalLabelSource.REVIEW,
        agreement=agreement,
        decided_by=reviewer,
        note=note,
        reason=note or f"Reviewer chose {step}.",
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
