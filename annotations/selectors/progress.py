"""My progress in a dataset, as SQL expressions that ride along an existing query (no query of their own).

The annotation page and the home page add these to the one row they read anyway (the solution, or each
membership), so progress counts and back-links cost no extra statement and no query per row:
- `done_today`: my annotations in the dataset created since midnight (in `TIME_ZONE`);
- `left_for_me`: the ordinary queue's solutions the queue could still hand me, counted up to
  `LEFT_FOR_ME_CAP` + 1 (a capped count: the scan stops early, so the cost does not grow with the dataset);
- `previous_solution_id` / `before_previous_solution_id`: my two annotations in the dataset made before
  the current solution's (or before now, when I have not annotated it), newest first.
"""

import datetime

from django.db.models import (
    Count,
    DateTimeField,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from annotations.models import Annotation, Claim, Solution, SolutionStatus

LEFT_FOR_ME_CAP = 1000


class CappedCount(Subquery):
    """The number of rows of a sliced subquery: COUNT(*) over it, so the database stops at the slice's end."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) AS capped_count)"
    output_field = IntegerField()


def start_of_today(now: datetime.datetime) -> datetime.datetime:
    """Return midnight of `now`'s day in the current time zone (an aware datetime)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def done_today_expression(*, user_id: int, now: datetime.datetime, dataset_ref: str = "dataset_id") -> Coalesce:
    """Return an expression: my annotations in the outer row's dataset created since midnight."""
    counted = (
        Annotation.objects.filter(
            annotator_id=user_id, solution__dataset_id=OuterRef(dataset_ref), created_at__gte=start_of_today(now)
        )
        .order_by()
        .values("annotator_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def _others_live_claims(*, user_id: int, now: datetime.datetime) -> Coalesce:
    claims = Claim.objects.filter(solution_id=OuterRef("pk"), expires_at__gt=now).exclude(annotator_id=user_id)
    counted = claims.order_by().values("solution_id").annotate(live=Count("pk")).values("live")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def left_for_me_queryset(
    *, user_id: int, now: datetime.datetime, dataset_ref: str, exclude_current: bool
) -> QuerySet[Solution]:
    """Return the outer row's dataset's ordinary solutions the queue could still hand me, unordered.

    The queue's own prefilter (`solution_queue_candidates`) with my own claims counted as mine, not as
    others' holds: open, needing people, not gold, not annotated by me, and annotations plus others' live
    claims below k (or below `max_annotations` for a solution collecting extra annotators).
    """
    k = OuterRef(f"{dataset_ref.removesuffix('_id')}__annotations_per_solution")
    most = OuterRef(f"{dataset_ref.removesuffix('_id')}__max_annotations")
    mine = Annotation.objects.filter(solution_id=OuterRef("pk"), annotator_id=user_id)
    candidates = (
        Solution.objects.filter(
            dataset_id=OuterRef(dataset_ref), status=SolutionStatus.OPEN, needs_humans=True, is_gold=False
        )
        .annotate(held=F("annotation_count") + _others_live_claims(user_id=user_id, now=now))
        .filter(Q(annotation_count__lt=k, held__lt=k) | Q(annotation_count__gte=k, held__lt=most))
        .filter(~Exists(mine))
    )
    if exclude_current:
        candidates = candidates.exclude(pk=OuterRef("pk"))
    return candidates.order_by()


def left_for_me_expression(
    *, user_id: int, now: datetime.datetime, dataset_ref: str = "dataset_id", exclude_current: bool = False
) -> CappedCount:
    """Return an expression: how many solutions the queue could still hand me, up to LEFT_FOR_ME_CAP + 1."""
    candidates = left_for_me_queryset(
        user_id=user_id, now=now, dataset_ref=dataset_ref, exclude_current=exclude_current
    )
    return CappedCount(candidates.values("pk")[: LEFT_FOR_ME_CAP + 1])


def previous_solution_expressions(*, user_id: int, now: datetime.datetime) -> dict[str, Subquery]:
    """Return expressions for the outer solution: my two annotations made before my annotation of it.

    Without an annotation of mine on the outer solution, "before" means before now: my latest two.
    """
    mine_here = Annotation.objects.filter(solution_id=OuterRef(OuterRef("pk")), annotator_id=user_id)
    before = Coalesce(
        Subquery(mine_here.values("created_at")[:1], output_field=DateTimeField()),
        Value(now, output_field=DateTimeField()),
    )
    earlier = (
        Annotation.objects.filter(annotator_id=user_id, solution__dataset_id=OuterRef("dataset_id"))
        .exclude(solution_id=OuterRef("pk"))
        .filter(created_at__lt=before)
        .order_by("-created_at", "-pk")
        .values("solution_id")
    )
    return {
        "previous_solution_id": Subquery(earlier[:1], output_field=IntegerField()),
        "before_previous_solution_id": Subquery(earlier[1:2], output_field=IntegerField()),
    }


def my_latest_solution_id(*, user_id: int, dataset_id: int) -> int | None:
    """Return the solution of my newest annotation in the dataset, or None (one query)."""
    return (
        Annotation.objects.filter(annotator_id=user_id, solution__dataset_id=dataset_id)
        .order_by("-created_at", "-pk")
        .values_list("solution_id", flat=True)
        .first()
    )
