"""My work: my own annotations with filters, each with the status an annotator is allowed to see.

A gold solution must not give itself away (see `annotations.selectors.gold`): its status here is "open"
until it has k annotations and "final label" after, its annotation changeable until then, and its gold
label shown only once it looks settled and only where the dataset's `gold_feedback` is on. The same rule
is written twice, once in Python (`annotation_editable`) and once in SQL here, and tests hold them equal.
Other people's annotations are never read. A fixed number of queries whatever the number of rows.
"""

import datetime
from dataclasses import dataclass
from enum import StrEnum

from django.contrib.auth.models import User
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.lookups import Exact

from annotations.models import Annotation, SolutionStatus
from annotations.selectors.workbench import EDITABLE_STATUSES, workbench_access


class MyLabel(StrEnum):
    ALL_CORRECT = "all_correct"
    WRONG_STEP = "wrong_step"


@dataclass(frozen=True)
class MyWorkFilters:
    """Filters of "my work"; None means "do not filter on this". `step` is 0-based."""

    dataset_id: int | None = None
    label: MyLabel | None = None
    step: int | None = None
    status: str | None = None
    has_rationale: bool | None = None
    flagged: bool | None = None
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None


_GOLD = Q(solution__is_gold=True)
_GOLD_SETTLED = _GOLD & Q(solution__annotation_count__gte=F("solution__dataset__annotations_per_solution"))
_SETTLED_ORDINARY = Q(solution__is_gold=False, solution__status=SolutionStatus.FINAL)


def _shown_status() -> Case:
    """Return the status an annotator sees: the solution's, but a gold one is open until it has k annotations."""
    return Case(
        When(_GOLD & ~_GOLD_SETTLED, then=Value(SolutionStatus.OPEN.value)),
        When(_GOLD_SETTLED, then=Value(SolutionStatus.FINAL.value)),
        default=F("solution__status"),
        output_field=CharField(),
    )


def _with_label(annotations: QuerySet[Annotation], filters: MyWorkFilters) -> QuerySet[Annotation]:
    if filters.label == MyLabel.ALL_CORRECT:
        annotations = annotations.filter(earliest_error_step=-1)
    elif filters.label == MyLabel.WRONG_STEP:
        annotations = annotations.filter(earliest_error_step__gte=0)
    if filters.step is not None:
        annotations = annotations.filter(earliest_error_step=filters.step)
    return annotations


def _filtered(annotations: QuerySet[Annotation], filters: MyWorkFilters) -> QuerySet[Annotation]:
    if filters.dataset_id is not None:
        annotations = annotations.filter(solution__dataset_id=filters.dataset_id)
    annotations = _with_label(annotations, filters)
    if filters.status is not None:
        annotations = annotations.filter(Exact(F("shown_status"), filters.status))
    if filters.has_rationale is not None:
        annotations = annotations.exclude(rationale="") if filters.has_rationale else annotations.filter(rationale="")
    if filters.flagged is not None:
        flagged = Q(flag_ambiguous=True) | Q(flag_reference_wrong=True) | Q(flag_unsure=True)
        annotations = annotations.filter(flagged) if filters.flagged else annotations.exclude(flagged)
    if filters.date_from is not None:
        annotations = annotations.filter(created_at__date__gte=filters.date_from)
    if filters.date_to is not None:
        annotations = annotations.filter(created_at__date__lte=filters.date_to)
    return annotations


def my_annotations_list(*, user: User, filters: MyWorkFilters) -> QuerySet[Annotation]:
    """Return my annotations (newest first) with solution, problem and dataset, filtered.

    Each row carries `shown_status` (a SolutionStatus value as the annotator may see it), `is_editable`,
    `gold_revealed` (a settled gold item of a dataset with `gold_feedback` on), `gold_matched`
    (my label equals the gold label; meaningful only when revealed) and `settled_label` (the final label of
    an ordinary solution that is final, else None). Only the user's own rows.
    """
    revealed = _GOLD_SETTLED & Q(solution__dataset__gold_feedback=True)
    annotations = (
        Annotation.objects.filter(workbench_access(user=user, dataset_path="solution__dataset__"), annotator_id=user.pk)
        .select_related("solution__problem", "solution__dataset")
        .annotate(
            shown_status=_shown_status(),
            gold_revealed=ExpressionWrapper(revealed, output_field=BooleanField()),
            gold_matched=ExpressionWrapper(
                Q(earliest_error_step=F("solution__imported_label")), output_field=BooleanField()
            ),
            # The settled label of an ordinary solution (a gold one's is the gold label: shown only when revealed).
            settled_label=Case(
                When(_SETTLED_ORDINARY, then=F("solution__final_label__label")),
                default=None,
                output_field=IntegerField(),
            ),
        )
        .annotate(is_editable=ExpressionWrapper(Q(shown_status__in=EDITABLE_STATUSES), output_field=BooleanField()))
    )
    return _filtered(annotations, filters).order_by("-created_at", "-pk")


@dataclass(frozen=True)
class GoldFeedback:
    """How I did on the gold items I may see the result of."""

    settled: int
    matched: int

    @property
    def percent(self) -> int:
        return round(100 * self.matched / self.settled) if self.settled else 0


def my_gold_feedback(*, user: User) -> GoldFeedback:
    """Return how many of my gold annotations are revealed to me, and how many matched the gold label (one query)."""
    counts = Annotation.objects.filter(
        _GOLD_SETTLED,
        workbench_access(user=user, dataset_path="solution__dataset__"),
        annotator_id=user.pk,
        solution__dataset__gold_feedback=True,
    ).aggregate(settled=Count("pk"), matched=Count("pk", filter=Q(earliest_error_step=F("solution__imported_label"))))
    return GoldFeedback(settled=counts["settled"], matched=counts["matched"])
