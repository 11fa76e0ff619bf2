"""Store the labels that come with imported solutions (an `annotations` export read back).

`solutions_import` calls `imported_labels_store` for the solutions an import created (existing ones are
left as they are). Annotations keep their annotator (by username), step, explanation, error type, step
notes, flags and seconds; the final label keeps its explanation, error type and provenance, with its
explanation linked to the imported annotation it came from. The final label itself is `imported` (with a
note saying what it was); a solution whose label was decided by people or machine consensus is final,
one whose label was imported there stays open, and one without a final label goes through the agreement
protocol with its annotations.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.db import transaction

from annotations.critique import step_notes_as_list
from annotations.importers.labels import FinalLabelImport, ImportedLabels
from annotations.models import Annotation, FinalLabel, FinalLabelSource, Solution, SolutionStatus
from annotations.selectors.datasets import users_by_username
from annotations.services.agreement import solution_evaluate
from annotations.services.annotations import clamp_seconds
from prmweb.errors import ApplicationError

DECIDED_SOURCES = (
    FinalLabelSource.UNANIMOUS,
    FinalLabelSource.MAJORITY,
    FinalLabelSource.REVIEW,
    FinalLabelSource.CONSENSUS_AUTO,
)


@dataclass
class LabelsStored:
    """What `imported_labels_store` wrote: annotations, and accounts made for annotators this instance lacked."""

    annotations: int = 0
    users_created: list[str] = field(default_factory=list)


def missing_annotators(usernames: Iterable[str]) -> set[str]:
    """Return the usernames that have no account here (one query)."""
    wanted = set(usernames)
    return wanted - set(users_by_username(usernames=wanted))


def _annotators(usernames: set[str], *, create: bool) -> tuple[dict[str, User], list[str]]:
    users = users_by_username(usernames=usernames)
    missing = sorted(usernames - set(users))
    if missing and not create:
        raise ApplicationError(
            f"No account for annotator(s) {', '.join(missing)}.",
            errors={"annotator": ["Create the accounts first, or let the import create them."]},
        )
    made = [User(username=name, is_active=False) for name in missing]
    for user in made:
        user.set_unusable_password()
    for user in User.objects.bulk_create(made):
        users[user.username] = user
    return users, missing


def _note(final: FinalLabelImport) -> str:
    parts = [f"{final.source or 'unknown'} label"]
    if final.agreement is not None:
        parts.append(f"agreement {final.agreement:.3f}")
    if final.decided_by:
        parts.append(f"decided by {final.decided_by}")
    if final.decided_at:
        parts.append(f"at {final.decided_at}")
    return f"Imported from an annotations export ({', '.join(parts)})."


def _annotations(stored: Sequence[tuple[int, ImportedLabels]], solutions: dict[int, Solution], users: dict) -> list:
    return [
        Annotation(
            solution_id=solution_id,
            annotator=users[item.annotator],
            earliest_error_step=item.earliest_error_step,
            step_count=solutions[solution_id].num_steps,
            rationale=item.rationale.strip(),
            error_type=item.error_type,
            step_notes=step_notes_as_list(item.step_notes),
            flag_ambiguous=item.flag_ambiguous,
            flag_reference_wrong=item.flag_reference_wrong,
            flag_unsure=item.flag_unsure,
            seconds_spent=clamp_seconds(item.seconds_spent),
            suggestions_visible=item.suggestions_visible,
        )
        for solution_id, labels in stored
        for item in labels.annotations
    ]


def _critiques(stored: Sequence[tuple[int, ImportedLabels]], created: list[Annotation]) -> list[FinalLabel]:
    """Return the solutions' final labels with the imported critique and note set (not saved)."""
    by_annotator = {(item.solution_id, item.annotator.username): item.pk for item in created}
    finals = {item.solution_id: item for item in FinalLabel.objects.filter(solution_id__in=[pk for pk, _ in stored])}
    changed = []
    for solution_id, labels in stored:
        final, imported = finals.get(solution_id), labels.final_label
        if final is None or imported is None:
            continue
        final.explanation = imported.explanation.strip()
        final.error_type = imported.error_type
        final.explanation_source = imported.explanation_source
        final.explanation_annotation_id = by_annotator.get((solution_id, imported.explanation_annotator))
        final.note = _note(imported)
        changed.append(final)
    return changed


def _settle(stored: Sequence[tuple[int, ImportedLabels]], solutions: dict[int, Solution]) -> None:
    """Set annotation counts and statuses; solutions without a final label go through the protocol."""
    for solution_id, labels in stored:
        solution = solutions[solution_id]
        solution.annotation_count = len(labels.annotations)
        decided = labels.final_label is not None and labels.final_label.source in DECIDED_SOURCES
        solution.status = SolutionStatus.FINAL if decided else SolutionStatus.OPEN
    Solution.objects.bulk_update(list(solutions.values()), ["annotation_count", "status"])
    for solution_id, labels in stored:
        if labels.final_label is None and labels.annotations:
            solution_evaluate(solution_id=solution_id)


@transaction.atomic
def imported_labels_store(
    *, stored: Sequence[tuple[int, ImportedLabels]], create_annotators: bool = False
) -> LabelsStored:
    """Store the annotations and final-label critiques of newly imported solutions (solution id, labels).

    Side effects: annotations bulk-created; the solutions' final labels get the imported explanation,
    error type, provenance and a note; annotation counts and statuses set (see the module docstring);
    accounts created, inactive and without a usable password, for unknown annotators when
    `create_annotators` (else ApplicationError naming `annotator`). A constant number of queries, plus
    one protocol evaluation per solution that came without a final label.
    """
    if not stored:
        return LabelsStored()
    usernames = {name for _, labels in stored for name in labels.usernames}
    users, made = _annotators(usernames, create=create_annotators)
    solutions = Solution.objects.in_bulk([solution_id for solution_id, _ in stored])
    created = Annotation.objects.bulk_create(_annotations(stored, solutions, users))
    critiques = _critiques(stored, created)
    FinalLabel.objects.bulk_update(
        critiques, ["explanation", "error_type", "explanation_source", "explanation_annotation", "note"]
    )
    _settle(stored, solutions)
    return LabelsStored(annotations=len(created), users_created=made)
