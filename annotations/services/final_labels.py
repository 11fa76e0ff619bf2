"""Write and remove final labels, keeping their history (who, when, from, to, why).

Every change of a solution's final label goes through these two functions, which write one
`FinalLabelChange` row per change. Callers hold the solution row lock (`select_for_update`) so that
concurrent writers cannot both create a final label for the same solution.
"""

from dataclasses import dataclass

from django.contrib.auth.models import User

from annotations import critique as critique_logic
from annotations import suggestion_methods
from annotations.models import (
    Annotation,
    CritiqueSource,
    FinalLabel,
    FinalLabelChange,
    Solution,
    Suggestion,
    SuggestionStatus,
)
from prmweb.core.critique import parse_verdict


@dataclass(frozen=True)
class FinalCritique:
    """The explanation and error type that go with a final label, who wrote them, and where they came from.

    `source` is a `CritiqueSource` value (human, reviewer, judge); `annotation_id` / `suggestion_id` name
    the annotation or suggestion the explanation was taken from (None when a reviewer wrote it).
    """

    explanation: str
    error_type: str | None
    source: str
    annotation_id: int | None = None
    suggestion_id: int | None = None


def annotators_critique(*, solution: Solution, label: int) -> FinalCritique | None:
    """Return the explanation and error type of the annotators who gave `label` (one query).

    Which one: `annotations.critique.agreed_critique` (the longest explanation, the most frequent type).
    """
    rows = Annotation.objects.filter(solution=solution).order_by("created_at", "id")
    annotations = [
        critique_logic.AnnotatorCritique(pk, step, rationale, error_type, order)
        for order, (pk, step, rationale, error_type) in enumerate(
            rows.values_list("id", "earliest_error_step", "rationale", "error_type")
        )
    ]
    choice = critique_logic.agreed_critique(annotations, label)
    if choice is None:
        return None
    source = CritiqueSource.HUMAN
    return FinalCritique(choice.explanation, choice.error_type, source, annotation_id=choice.annotation_id)


def judge_critique(*, solution: Solution, label: int) -> FinalCritique | None:
    """Return the latest succeeded judge critique whose verdict is `label` (one query), or None."""
    judged = (
        Suggestion.objects.filter(
            solution=solution,
            method__in=suggestion_methods.critique_method_names(),
            status=SuggestionStatus.SUCCEEDED,
            label=label,
        )
        .exclude(rationale="")
        .order_by("-updated_at", "-id")
        .values_list("id", "rationale")
    )
    for suggestion_id, text in judged:
        if parse_verdict(text, solution.num_steps) == label:
            return FinalCritique(text, None, CritiqueSource.JUDGE, suggestion_id=suggestion_id)
    return None


def _current(solution: Solution) -> FinalLabel | None:
    return FinalLabel.objects.filter(solution=solution).first()


def history_add(*, solution: Solution, reason: str, changed_by: User | None = None, **change: object) -> None:
    """Write one history row of the solution (from/to label and source in `change`), naming it for good."""
    FinalLabelChange.objects.create(
        solution=solution,
        dataset_id=solution.dataset_id,
        solution_ref=str(solution),
        changed_by=changed_by,
        reason=reason,
        **change,
    )


def final_label_write(
    *,
    solution: Solution,
    label: int,
    source: str,
    reason: str,
    agreement: float | None = None,
    decided_by: User | None = None,
    note: str = "",
    critique: FinalCritique | None = None,
) -> FinalLabel:
    """Create or replace the solution's final label; record a history row when label or source change.

    `critique` sets the label's explanation and error type with their provenance (None: none). Side
    effects: one FinalLabel row written, at most one FinalLabelChange row added. Writing the same label
    from the same source twice adds no history row (idempotent).
    """
    existing = _current(solution)
    if existing is None:
        final = FinalLabel(solution=solution, step_count=solution.num_steps)
        from_label, from_source = None, ""
    else:
        final = existing
        from_label, from_source = existing.label, existing.source
    final.label = label
    final.source = source
    final.agreement = agreement
    final.decided_by = decided_by
    final.note = note
    _set_critique(final, critique)
    final.save()
    if (from_label, from_source) != (label, source):
        history_add(
            solution=solution,
            reason=reason,
            changed_by=decided_by,
            from_label=from_label,
            to_label=label,
            from_source=from_source,
            to_source=source,
        )
    return final


def _set_critique(final: FinalLabel, critique: FinalCritique | None) -> None:
    final.explanation = critique.explanation if critique else ""
    final.error_type = critique.error_type if critique else None
    final.explanation_source = critique.source if critique else ""
    final.explanation_annotation_id = critique.annotation_id if critique else None
    final.explanation_suggestion_id = critique.suggestion_id if critique else None


def final_label_clear(
    *, solution: Solution, reason: str, changed_by: User | None = None, from_source: str = ""
) -> bool:
    """Remove the solution's final label and record it in the history; return whether one existed.

    Without a final label, a history row is still written when `from_source` names the prior state
    (e.g. "discarded" when a reviewer reopens a discarded solution).
    """
    existing = _current(solution)
    if existing is None:
        if from_source:
            history_add(solution=solution, reason=reason, changed_by=changed_by, from_source=from_source)
        return False
    history_add(
        solution=solution,
        reason=reason,
        changed_by=changed_by,
        from_label=existing.label,
        to_label=None,
        from_source=existing.source,
        to_source="",
    )
    existing.delete()
    return True
