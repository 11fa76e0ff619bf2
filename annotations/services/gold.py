"""Gold solutions: items with a trusted imported label, mixed into annotators' queues to measure them.

A gold solution's final label is its imported label (source `imported`); the agreement protocol leaves
it alone, and the workbench serves it to annotators at the dataset's `gold_rate`
(`annotations.selectors.gold.gold_should_serve`).
"""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import FinalLabel, FinalLabelSource, Solution, SolutionStatus
from annotations.services.agreement import solution_evaluate
from annotations.services.final_labels import final_label_write
from annotations.services.locks import solution_lock
from prmweb.errors import ApplicationError


def _mark(solution: Solution, changed_by: User | None) -> None:
    if solution.imported_label is None:
        raise ApplicationError(
            f"Solution {solution.pk} has no imported label, so it cannot be gold.",
            errors={"is_gold": ["Only solutions with an imported label can be gold."]},
        )
    final_label_write(
        solution=solution,
        label=solution.imported_label,
        source=FinalLabelSource.IMPORTED,
        decided_by=changed_by,
        reason="Marked as gold: the imported label is the truth.",
    )
    solution.is_gold = True
    solution.status = SolutionStatus.FINAL
    solution.needs_humans = False
    solution.save(update_fields=["is_gold", "status", "needs_humans"])


def _unmark(solution: Solution) -> None:
    solution.is_gold = False
    final = FinalLabel.objects.filter(solution=solution).first()
    if solution.status == SolutionStatus.FINAL and (final is None or final.source == FinalLabelSource.IMPORTED):
        solution.status = SolutionStatus.OPEN  # people label it like any other solution from now on
        solution.needs_humans = True
    solution.save(update_fields=["is_gold", "status", "needs_humans"])


@transaction.atomic
def solution_set_gold(*, solution_id: int, is_gold: bool, changed_by: User | None = None) -> Solution:
    """Mark a solution as gold (or not); return it.

    Marking needs an imported label: that label becomes the final label (source `imported`, history
    kept) and the solution is `final`, out of the ordinary queue. Unmarking returns a solution whose
    label was the imported one to `open`, and the protocol then judges the annotations it already has.
    Idempotent.
    """
    solution = solution_lock(solution_id=solution_id)
    if is_gold and not solution.is_gold:
        _mark(solution, changed_by)
    elif not is_gold and solution.is_gold:
        _unmark(solution)
        return solution_evaluate(solution_id=solution.pk)
    return solution


@transaction.atomic
def solutions_set_gold(*, solution_ids: Sequence[int], is_gold: bool, changed_by: User | None = None) -> int:
    """Mark (or unmark) several solutions as gold, all or nothing; return how many changed.

    Marking fails as a whole, naming the first solutions that lack an imported label.
    """
    if is_gold:
        missing = list(
            Solution.objects.filter(pk__in=solution_ids, imported_label__isnull=True).values_list("pk", flat=True)[:10]
        )
        if missing:
            raise ApplicationError(
                f"{len(missing)} of the chosen solutions have no imported label, so they cannot be gold.",
                errors={"is_gold": [f"No imported label: solutions {', '.join(map(str, missing))}."]},
            )
    changed = 0
    for solution_id in (
        Solution.objects.filter(pk__in=solution_ids).exclude(is_gold=is_gold).values_list("pk", flat=True)
    ):
        solution_set_gold(solution_id=solution_id, is_gold=is_gold, changed_by=changed_by)
        changed += 1
    return changed
