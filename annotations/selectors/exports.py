"""Reads for exports: the solutions an export takes (`export_selection`) and export rows by user.

`annotations.selectors.export_records` streams the selected solutions as exporter records.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from annotations.exporters.filters import ExportFilters
from annotations.models import (
    Annotation,
    Dataset,
    Export,
    FinalLabel,
    MembershipRole,
    Solution,
    SolutionStatus,
    Suggestion,
)
from annotations.selectors.datasets import AnyUser, user_id_of, user_is_staff
from prmweb.errors import NotFoundError


def flagged_condition() -> Q:
    """Return the condition "this annotation carries a flag" (ambiguous, reference wrong or unsure)."""
    return Q(flag_ambiguous=True) | Q(flag_reference_wrong=True) | Q(flag_unsure=True)


def _flagged_annotations() -> QuerySet[Annotation]:
    return Annotation.objects.filter(flagged_condition(), solution=OuterRef("pk"))


def _label_filters(filters: ExportFilters) -> Q:
    condition = Q()
    if filters.label_sources:
        condition &= Q(final_label__source__in=filters.label_sources)
    if filters.min_agreement is not None:
        condition &= Q(final_label__agreement__gte=filters.min_agreement)
    if filters.decided_after is not None:
        condition &= Q(final_label__decided_at__gte=filters.decided_after)
    if filters.decided_before is not None:
        condition &= Q(final_label__decided_at__lt=filters.decided_before)
    return condition


@dataclass(frozen=True)
class ExportSelection:
    """The solutions an export takes: `solutions` (filters applied) and two checks.

    `active_only` keeps only solutions with a final label, an annotation or a suggestion; `exclude_flagged`
    drops those with a flagged annotation. `solution_records` runs both per chunk of ids, so no plan over
    the whole table depends on planner statistics; `matching()` runs them in one query (for counts).
    `judge_critiques` (succeeded judge suggestions with a critique) are read per chunk too.
    """

    solutions: QuerySet[Solution]
    active_only: bool = False
    exclude_flagged: bool = False
    judge_critiques: bool = False

    def matching(self) -> QuerySet[Solution]:
        """Return every solution the export takes as one queryset, the checks as EXISTS subqueries."""
        solutions = self.solutions
        if self.active_only:
            solutions = solutions.filter(
                Exists(FinalLabel.objects.filter(solution=OuterRef("pk")))
                | Exists(Annotation.objects.filter(solution=OuterRef("pk")))
                | Exists(Suggestion.objects.filter(solution=OuterRef("pk")))
            )
        if self.exclude_flagged:
            solutions = solutions.filter(~Exists(_flagged_annotations()))
        return solutions


def export_selection(
    *,
    dataset: Dataset,
    filters: ExportFilters,
    labelled_only: bool,
    judge_critiques: bool = False,
) -> ExportSelection:
    """Return the dataset's solutions an export takes, grouped by problem, for `solution_records`.

    `labelled_only`: only solutions with a final label; otherwise solutions with a final label, an annotation
    or a suggestion; never one still waiting for its steps. `judge_critiques`: also their succeeded judge
    suggestions with a critique, newest first. `matching()` gives them as one queryset (e.g. to count them).
    """
    # A solution waiting for the judge's re-split has no steps (and so no label) yet: never exported.
    solutions = Solution.objects.filter(dataset=dataset).exclude(status=SolutionStatus.WAITING)
    solutions = solutions.filter(_label_filters(filters))
    if labelled_only:
        solutions = solutions.filter(final_label__isnull=False)
    if filters.subsets:
        solutions = solutions.filter(subset__in=filters.subsets)
    if filters.generators:
        solutions = solutions.filter(generator__in=filters.generators)
    return ExportSelection(
        solutions=solutions.order_by("problem_id", "pk"),
        active_only=not labelled_only,
        exclude_flagged=filters.exclude_flagged,
        judge_critiques=judge_critiques,
    )


def export_list_for_user(*, user: AnyUser, dataset_slug: str | None = None) -> QuerySet[Export]:
    """Return the exports the user may see (staff: all; others: those of datasets they manage), newest first."""
    exports = Export.objects.select_related("dataset", "created_by")
    if not user_is_staff(user):
        exports = exports.filter(
            dataset__memberships__user_id=user_id_of(user), dataset__memberships__role=MembershipRole.MANAGER
        )
    if dataset_slug:
        exports = exports.filter(dataset__slug=dataset_slug)
    return exports.order_by("-created_at", "-pk")


def export_missing_error(export_id: int) -> NotFoundError:
    """Return the 404 for an export that does not exist, or that the user may not know exists."""
    return NotFoundError(f"Export {export_id} not found.", errors={"id": ["No export with this id."]})


def export_get(*, export_id: int) -> Export:
    """Return one export with its dataset and creator; NotFoundError when there is none."""
    export = Export.objects.select_related("dataset", "created_by").filter(pk=export_id).first()
    if export is None:
        raise export_missing_error(export_id)
    return export


def export_file_get(*, export: Export, path: str) -> dict:
    """Return the recorded file entry (path, split, rows, bytes, sha256) with this relative path.

    Only files the export recorded can be named, so no path outside its folder is ever served.
    """
    for entry in export.files:
        if entry.get("path") == path:
            return entry
    raise NotFoundError(
        f"Export {export.pk} has no file {path!r}.",
        errors={"file": [f"Use one of: {', '.join(entry['path'] for entry in export.files) or '(none yet)'}."]},
    )
