"""Reads of solutions with their labels, filtered by what the viewer may see.

Annotators see other people's annotations of a solution, its final and imported labels, and (on a
blind dataset) its machine suggestions only once they have annotated that solution themselves;
staff, managers and reviewers see everything. Every function here runs a fixed number of queries.
"""

import json
from dataclasses import dataclass

from django.db import connection
from django.db.models import BooleanField, Exists, OuterRef, Prefetch, Q, QuerySet, TextField, Value
from django.db.models.functions import Cast

from annotations.models import Annotation, Solution, Suggestion
from annotations.selectors.datasets import AnyUser, DatasetAccess, user_id_of
from prmweb.errors import NotFoundError


@dataclass(frozen=True)
class SolutionFilters:
    """Filters of the solution list; None means "do not filter on this"."""

    status: str | None = None
    has_label: bool | None = None
    generator: str | None = None
    subset: str | None = None
    external_id: str | None = None
    q: str | None = None


def _own_annotation(user: AnyUser, solution_ref: str) -> Exists:
    return Exists(Annotation.objects.filter(solution_id=OuterRef(solution_ref), annotator_id=user_id_of(user)))


def _labels_visible(access: DatasetAccess, user: AnyUser) -> Exists | Value:
    if access.sees_all_labels:
        return Value(True, output_field=BooleanField())
    return _own_annotation(user, "pk")


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
    """Return the dataset's solutions matching the filters, oldest first, with problem and final label.

    Each row carries `labels_visible` (False: hide its labels from this annotator). Two queries per
    page whatever the page size: the count and the rows.
    """
    solutions: QuerySet[Solution] = (
        Solution.objects.filter(dataset=access.dataset)
        .select_related("problem", "final_label")
        .annotate(labels_visible=_labels_visible(access, user))
    )
    exact = {"status": filters.status, "generator": filters.generator, "subset": filters.subset}
    exact["external_id"] = filters.external_id
    solutions = solutions.filter(**{name: value for name, value in exact.items() if value is not None})
    if filters.has_label is not None:
        solutions = solutions.filter(final_label__isnull=not filters.has_label)
    if filters.q:
        solutions = _search(solutions, filters.q)
    return solutions.order_by("pk")


def solution_get_for_viewer(*, access: DatasetAccess, user: AnyUser, solution_id: int) -> Solution:
    """Return one solution of the dataset with the annotations and suggestions the viewer may see.

    The solution carries `labels_visible`, `visible_annotations` (oldest first, with annotators) and
    `visible_suggestions` (by method). Four queries. Raises NotFoundError for an id not in the dataset.
    """
    annotations = Annotation.objects.select_related("annotator").order_by("created_at", "pk")
    if not access.sees_all_labels:
        annotations = annotations.filter(_own_annotation(user, "solution_id"))
    suggestions = Suggestion.objects.order_by("method", "config_key", "pk")
    if access.dataset.blind and not access.sees_all_labels:
        suggestions = suggestions.filter(_own_annotation(user, "solution_id"))
    solution = (
        Solution.objects.filter(dataset=access.dataset, pk=solution_id)
        .select_related("problem", "final_label")
        .annotate(labels_visible=_labels_visible(access, user))
        .prefetch_related(
            Prefetch("annotations", queryset=annotations, to_attr="visible_annotations"),
            Prefetch("suggestions", queryset=suggestions, to_attr="visible_suggestions"),
        )
        .first()
    )
    if solution is None:
        raise NotFoundError(
            f"Solution {solution_id} not found in dataset {access.dataset.slug!r}.",
            errors={"id": ["No solution with this id in this dataset."]},
        )
    return solution
