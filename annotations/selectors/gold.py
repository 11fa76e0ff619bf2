"""Reads about gold solutions: when to serve one, and how annotators do on them.

For the workbench's claim selection: before picking from the ordinary queue, call
`gold_should_serve(dataset, annotator)`; when it says True, claim a gold solution this annotator has not
seen (per-solution counts do not limit gold: every annotator may see every gold item once), and fall
back to the ordinary queue when none is left. The ordinary queue leaves gold solutions out.

To annotators a gold solution looks like any other (its label is final from the start, which would give
it away): it stays open and their annotation changeable until it has `annotations_per_solution`
annotations, as an ordinary solution would need before it can settle; then it looks final. Only then,
and only where the dataset's `gold_feedback` is on, My work shows how the annotator did on it.
"""

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Q

from annotations.models import Annotation, Dataset, Solution
from annotations.selectors.workbench import EDITABLE_STATUSES


def gold_should_serve(dataset: Dataset, annotator: AbstractBaseUser) -> bool:
    """Return whether the annotator's next item should be a gold solution.

    Gold is served while the annotator's share of gold annotations in this dataset is below the
    dataset's `gold_rate` counting the item about to be served: gold_done < gold_rate * (all_done + 1).
    That keeps each annotator's running share at the rate (0.1: their 1st, 11th, 21st... item), and is
    deterministic, so it is testable and fair across annotators. The rate is taken as the decimal it is
    written as (0.7 * 90 is 63, not binary floating point's 63.00000000000001, which would serve an extra
    gold item as the 90th). One query; none when the rate is 0.
    """
    if dataset.gold_rate <= 0:
        return False
    done = Annotation.objects.filter(solution__dataset=dataset, annotator_id=annotator.pk).aggregate(
        total=Count("id"), gold=Count("id", filter=Q(solution__is_gold=True))
    )
    return bool(done["gold"] < Decimal(str(dataset.gold_rate)) * (done["total"] + 1))


def gold_accuracy_by_annotator(*, dataset: Dataset) -> dict[int, tuple[int, int]]:
    """Return {annotator id: (gold annotations, of them equal to the imported label)} (one query)."""
    rows = (
        Annotation.objects.filter(
            solution__dataset=dataset, solution__is_gold=True, solution__imported_label__isnull=False
        )
        .values("annotator_id")
        .annotate(
            total=Count("id"),
            correct=Count("id", filter=Q(earliest_error_step=F("solution__imported_label"))),
        )
        .order_by()
    )
    return {row["annotator_id"]: (row["total"], row["correct"]) for row in rows}


def gold_looks_settled(solution: Solution) -> bool:
    """Return whether a gold solution looks settled to annotators: it has k annotations (needs its dataset)."""
    return solution.annotation_count >= solution.dataset.annotations_per_solution


def annotation_editable(solution: Solution) -> bool:
    """Return whether annotators may still change their annotation of the solution (gold: until it looks settled)."""
    if solution.is_gold:
        return not gold_looks_settled(solution)
    return solution.status in EDITABLE_STATUSES


def gold_count(*, dataset: Dataset) -> int:
    """Return how many of the dataset's solutions are gold (one query)."""
    return Solution.objects.filter(dataset=dataset, is_gold=True).count()
