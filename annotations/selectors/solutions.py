"""Reads of solutions with their labels, limited to what the viewer may see.

Annotators (members whose role is annotator, not staff) see only their own settled work: the solutions
they have annotated and can no longer change (`annotation_editable` is false: the solution is final or
discarded; a gold one once it has k annotations), each with everything (steps, metadata, gold flag,
imported and final labels, every annotation and suggestion). Any other solution does not exist for them
here, so no list filter (`status`, `has_label`) and no detail field can reveal an answer (a gold label,
other people's labels) while they can still label or relabel it.
Staff, managers and reviewers see every solution with everything. The workbench hands annotators the
work itself; these reads serve the REST API. Every function here runs a fixed number of queries.
"""

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, TextField
from django.db.models.functions import Cast

from annotations.models import Annotation, Solution, Suggestion
from annotations.selectors.datasets import AnyUser, DatasetAccess, user_id_of
from annotations.selectors.workbench import EDITABLE_STATUSES
from prmweb.errors import NotFoundError

ANNOTATOR_NOT_FOUND = (
    "No solution with this id among the solutions you annotated that are settled; one you can still change "
    "is shown in the workbench only."
)


@dataclass(frozen=True)
class SolutionFilters:
    """Filters of the solution list; None means "do not filter on this"."""

    status: str | None = None
    reformat_status: str | None = None
    has_label: bool | None = None
    generator: str | None = None
    subset: str | None = None
    external_id: str | None = None
    q: str | None = None


def _visible_solutions(access: DatasetAccess, user: AnyUser) -> QuerySet[Solution]:
    """Return the dataset's solutions this viewer may read: all of them, or an annotator's own settled work."""
    solutions = Solution.objects.filter(dataset=access.dataset)
    if access.sees_all_labels:
        return solutions
    # The SQL form of `annotation_editable` (annotations.selectors.gold): gold looks open until it has k annotations.
    k = access.dataset.annotations_per_solution
    editable = Q(is_gold=True, annotation_count__lt=k) | Q(is_gold=False, status__in=EDITABLE_STATUSES)
    mine = Exists(Annotation.objects.filter(solution_id=OuterRef("pk"), annotator_id=user_id_of(user)))
    return solutions.filter(mine).exclude(editable)


def _json_text_pattern(text: str) -> str:
    """Return `text` as it appears inside the database's text form of a JSON string (escapes included)."""
    # PostgreSQL prints jsonb with non-ASCII characters as they are; Django writes JSON for SQLite ASCII-escaped.
    return json.dumps(text, ensure_ascii=connection.vendor != "postgresql")[1:-1]


def _search(solutions: QuerySet[Solution], text: str) -> QuerySet[Solution]:
    return solutions.annotate(steps_text=Cast("steps", TextField())).filter(
        Q(problem__text__icontains=text)
        | Q(external_id__icontains=text)
        | Q(steps_text__icontains=_json_text_pattern(text))
    )


def solution_list(*, access: DatasetAccess, user: AnyUser, filters: SolutionFilters) -> QuerySet[Solution]:
    """Return the visible solutions matching the filters, oldest first, with problem and final label.

    An annotator's list holds only the settled solutions they annotated. Two queries per page whatever the
    page size: the count and the rows.
    """
    solutions = _visible_solutions(access, user).select_related("problem", "final_label", "ingested_by")
    exact = {"status": filters.status, "generator": filters.generator, "subset": filters.subset}
    exact.update(external_id=filters.external_id, reformat_status=filters.reformat_status)
    solutions = solutions.filter(**{name: value for name, value in exact.items() if value is not None})
    if filters.has_label is not None:
        solutions = solutions.filter(final_label__isnull=not filters.has_label)
    if filters.q:
        solutions = _search(solutions, filters.q)
    # A list row shows no text of the solution: leave the (possibly long) verbatim response in the database.
    return solutions.defer("response", "step_offsets").order_by("pk")


def solution_get_for_viewer(*, access: DatasetAccess, user: AnyUser, solution_id: int) -> Solution:
    """Return one visible solution of the dataset with all its annotations and suggestions.

    The solution carries `visible_annotations` (oldest first, with annotators) and `visible_suggestions`
    (by method). Three queries. Raises NotFoundError for an id not in the dataset and, for an annotator,
    for a solution they have not annotated or may still change (the same answer: it does not exist for them).
    """
    annotations = Annotation.objects.select_related("annotator").order_by("created_at", "pk")
    suggestions = Suggestion.objects.order_by("method", "config_key", "pk")
    solution = (
        _visible_solutions(access, user)
        .filter(pk=solution_id)
        .select_related("problem", "final_label", "ingested_by")
        .prefetch_related(
            Prefetch("annotations", queryset=annotations, to_attr="visible_annotations"),
            Prefetch("suggestions", queryset=suggestions, to_attr="visible_suggestions"),
        )
        .first()
    )
    if solution is None:
        raise _solution_not_found(access, solution_id)
    return solution


def _solution_not_found(access: DatasetAccess, solution_id: int) -> NotFoundError:
    slug = access.dataset.slug
    if access.sees_all_labels:
        return NotFoundError(
            f"Solution {solution_id} not found in dataset {slug!r}.",
            errors={"id": ["No solution with this id in this dataset."]},
        )
    return NotFoundError(
        f"Solution {solution_id} not found among the settled solutions you annotated in dataset {slug!r}.",
        errors={"id": [ANNOTATOR_NOT_FOUND]},
    )
