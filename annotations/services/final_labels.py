"""Write and remove final labels, keeping their history (who, when, from, to, why).

Every change of a solution's final label goes through these two functions, which write one
`FinalLabelChange` row per change. Callers hold the solution row lock (`select_for_update`) so that
concurrent writers cannot both create a final label for the same solution.
"""

from django.contrib.auth.models import User

from annotations.models import FinalLabel, FinalLabelChange, Solution


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
) -> FinalLabel:
    """Create or replace the solution's final label; record a history row when label or source change.

    Side effects: one FinalLabel row written, at most one FinalLabelChange row added. Writing the same
    label from the same source twice adds no history row (idempotent).
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
