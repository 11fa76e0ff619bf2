"""Gold solutions: items with a trusted imported label, mixed into annotators' queues to measure them.

A gold solution's final label is its imported label (source `imported`); the agreement protocol leaves
it alone, and the workbench serves it to annotators at the dataset's `gold_rate`
(`annotations.selectors.gold.gold_should_serve`).
"""

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import Dataset, FinalLabel, FinalLabelSource, Solution, SolutionStatus
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
def solutions_set_gold(
    *, dataset: Dataset, solution_ids: Sequence[int], is_gold: bool, changed_by: User | None = None
) -> int:
    """Mark (or unmark) solutions of the dataset as gold, all or nothing; return how many changed.

    Every id must be a solution of `dataset` (the rest are named in `solution_ids`), and marking needs
    an imported label on each (the first that lack one are named in `is_gold`); nothing changes then.
    """
    ids = sorted(set(solution_ids))
    found = set(Solution.objects.filter(dataset=dataset, pk__in=ids).values_list("pk", flat=True))
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ApplicationError(
            f"{len(missing)} solution id(s) are not in dataset {dataset.slug!r}.",
            errors={"solution_ids": [f"Not in this dataset: {', '.join(map(str, missing[:20]))}."]},
        )
    if is_gold:
        unlabelled = list(
            Solution.objects.filter(pk__in=ids, imported_label__isnull=True).values_list("pk", flat=True)[:10]
        )
        if unlabelled:
            raise ApplicationError(
                f"{len(unlabelled)} of the chosen solutions have no imported label, so they cannot be gold.",
                errors={"solution_ids": [f"No imported label: solutions {', '.join(map(str, unlabelled))}."]},
            )
    changed = 0
    for solution_id in Solution.objects.filter(pk__in=ids).exclude(is_gold=is_gold).values_list("pk", flat=True):
        solution_set_gold(solution_id=solution_id, is_gold=is_gold, changed_by=changed_by)
        changed += 1
    return changed
