"""The review queue: a dataset's solutions in one status, each with a problem preview and the labels given.

Two queries per page of rows (the solutions with problem, final label and spread; then the page's
annotations with their annotators' names), whatever the dataset size. The same order picks the
"next needing review" of the review page, so a reviewer who sorted by spread goes on by spread.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils.text import Truncator

from annotations.models import Annotation, Dataset, FinalLabel, Solution, SolutionStatus
from prmweb.errors import NotFoundError

REVIEW_STATUSES = (SolutionStatus.NEEDS_REVIEW, SolutionStatus.FINAL, SolutionStatus.DISCARDED, SolutionStatus.OPEN)
# Queue orders: the name in the address, what the page calls it, and the ORM ordering.
QUEUE_SORTS = {
    "oldest": ("Oldest first", ("id",)),
    "newest": ("Newest first", ("-id",)),
    "spread": ("Widest spread first", ("-spread", "id")),
}
DEFAULT_SORT = "oldest"
PREVIEW_CHARS = 160


def label_text(label: int | None) -> str:
    """Return a label in words for tables ("step 3", "all correct", "none")."""
    if label is None:
        return "none"
    return "all correct" if label == -1 else f"step {label + 1}"


def check_queue_params(*, status: str, sort: str) -> None:
    """Raise NotFoundError naming the field when the status or the sort is not one the queue knows."""
    if status not in REVIEW_STATUSES:
        raise NotFoundError(
            f"Unknown status {status!r}.", errors={"status": [f"One of: {', '.join(REVIEW_STATUSES)}."]}
        )
    if sort not in QUEUE_SORTS:
        raise NotFoundError(f"Unknown sort {sort!r}.", errors={"sort": [f"One of: {', '.join(QUEUE_SORTS)}."]})


def _spread() -> Coalesce:
    """Return an expression: how many different labels the outer solution's annotators gave."""
    distinct = (
        Annotation.objects.filter(solution_id=OuterRef("pk"))
        .order_by()
        .values("solution_id")
        .annotate(n=Count("earliest_error_step", distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(distinct, output_field=IntegerField()), Value(0))


def review_queue_list(
    *, dataset: Dataset, status: str = SolutionStatus.NEEDS_REVIEW, sort: str = DEFAULT_SORT
) -> QuerySet[Solution]:
    """Return the dataset's solutions in `status` in the `sort` order, each with `spread` (distinct labels).

    Rows come with problem and final label, and their annotations (label, annotator's name) prefetched
    into `review_annotations`: two queries per page. NotFoundError for an unknown status or sort.
    """
    check_queue_params(status=status, sort=sort)
    labels = Annotation.objects.select_related("annotator").only(
        "id", "solution_id", "earliest_error_step", "annotator__username"
    )
    return (
        Solution.objects.filter(dataset=dataset, status=status)
        .select_related("problem", "final_label")
        .annotate(spread=_spread())
        .prefetch_related(Prefetch("annotations", queryset=labels.order_by("id"), to_attr="review_annotations"))
        .order_by(*QUEUE_SORTS[sort][1])
    )


def next_needing_review(*, dataset_id: int, exclude_id: int | None = None, sort: str = DEFAULT_SORT) -> int | None:
    """Return the id of the first solution needing review in the queue's `sort` order, but `exclude_id` (one query)."""
    check_queue_params(status=SolutionStatus.NEEDS_REVIEW, sort=sort)
    solutions = Solution.objects.filter(dataset_id=dataset_id, status=SolutionStatus.NEEDS_REVIEW)
    if exclude_id is not None:
        solutions = solutions.exclude(pk=exclude_id)
    return solutions.annotate(spread=_spread()).order_by(*QUEUE_SORTS[sort][1]).values_list("id", flat=True).first()


@dataclass(frozen=True)
class LabelGroup:
    """One label of a queue row and who gave it."""

    label: int
    annotators: list[str]

    @property
    def text(self) -> str:
        return label_text(self.label)


@dataclass(frozen=True)
class QueueRow:
    solution: Solution
    preview: str
    groups: list[LabelGroup]
    final: FinalLabel | None

    @property
    def spread(self) -> int:
        return len(self.groups)


def label_groups(annotations: Iterable[Annotation]) -> list[LabelGroup]:
    """Return the labels given, most voted first (ties: the earlier step first), each with its annotators."""
    names: dict[int, list[str]] = defaultdict(list)
    for annotation in annotations:
        names[annotation.earliest_error_step].append(annotation.annotator.get_username())
    ordered = sorted(names.items(), key=lambda item: (-len(item[1]), item[0] if item[0] >= 0 else 10**9))
    return [LabelGroup(label=label, annotators=annotators) for label, annotators in ordered]


def queue_rows(solutions: Iterable[Solution]) -> list[QueueRow]:
    """Return the rows of a page of `review_queue_list` (no query: everything was loaded with the page)."""
    return [
        QueueRow(
            solution=solution,
            preview=Truncator(" ".join(solution.problem.text.split())).chars(PREVIEW_CHARS),
            groups=label_groups(getattr(solution, "review_annotations", [])),
            final=getattr(solution, "final_label", None),
        )
        for solution in solutions
    ]
