"""Reads for exports: the solutions an export takes, streamed as plain records, and export rows by user."""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q, QuerySet

from annotations import suggestion_methods
from annotations.exporters.filters import ExportFilters
from annotations.exporters.records import (
    AnnotationRecord,
    FinalLabelRecord,
    JudgeCritiqueRecord,
    SolutionRecord,
    SuggestionRecord,
)
from annotations.models import (
    Annotation,
    Dataset,
    Export,
    FinalLabel,
    MembershipRole,
    Solution,
    SolutionStatus,
    Suggestion,
    SuggestionStatus,
)
from annotations.selectors.datasets import AnyUser, user_id_of, user_is_staff
from prmweb.errors import NotFoundError

_Row = TypeVar("_Row", Annotation, Suggestion)


def _flagged() -> Q:
    return Q(flag_ambiguous=True) | Q(flag_reference_wrong=True) | Q(flag_unsure=True)


def _flagged_annotations() -> QuerySet[Annotation]:
    return Annotation.objects.filter(_flagged(), solution=OuterRef("pk"))


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


def _judge_critiques() -> QuerySet[Suggestion]:
    return (
        Suggestion.objects.filter(
            method__in=suggestion_methods.critique_method_names(),
            status=SuggestionStatus.SUCCEEDED,
            label__isnull=False,
        )
        .exclude(rationale="")
        .only("id", "solution_id", "label", "rationale", "model_name", "updated_at")
        .order_by("-updated_at", "-id")
    )


@dataclass(frozen=True)
class ExportSelection:
    """The solutions an export takes: `solutions` (filters applied, related rows set up) and two checks.

    `active_only` keeps only solutions with a final label, an annotation or a suggestion; `exclude_flagged`
    drops those with a flagged annotation. `solution_records` runs both per chunk of ids, so no plan over
    the whole table depends on planner statistics; `matching()` runs them in one query (for counts).
    `provenance` (annotations and suggestions) and `judge_critiques` are read per chunk too.
    """

    solutions: QuerySet[Solution]
    active_only: bool = False
    exclude_flagged: bool = False
    provenance: bool = False
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
    provenance: bool,
    critique: bool = False,
    judge_critiques: bool = False,
) -> ExportSelection:
    """Return the dataset's solutions an export takes, grouped by problem, for `solution_records`.

    `labelled_only`: only solutions with a final label; otherwise solutions with a final label, an annotation
    or a suggestion; never one still waiting for its steps. `provenance`: their annotations (with
    annotators) and suggestions. Problems, final labels, deciders and (with `provenance` or `critique`) the
    annotation a final label's explanation came from come in the same query as the solutions.
    `judge_critiques`: their succeeded judge suggestions with a critique, newest first.
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
    solutions = solutions.select_related("problem", "final_label", "final_label__decided_by")
    if provenance or critique:
        solutions = solutions.select_related("final_label__explanation_annotation__annotator")
    return ExportSelection(
        solutions=solutions.order_by("problem_id", "pk"),
        active_only=not labelled_only,
        exclude_flagged=filters.exclude_flagged,
        provenance=provenance,
        judge_critiques=judge_critiques,
    )


def solutions_for_export(
    *,
    dataset: Dataset,
    filters: ExportFilters,
    labelled_only: bool,
    provenance: bool,
    critique: bool = False,
    judge_critiques: bool = False,
) -> QuerySet[Solution]:
    """Return the solutions an export takes as one queryset (see `export_selection`), e.g. to count them.

    Related rows (`provenance`, `judge_critiques`) are not attached: `solution_records` reads them per chunk.
    """
    return export_selection(
        dataset=dataset,
        filters=filters,
        labelled_only=labelled_only,
        provenance=provenance,
        critique=critique,
        judge_critiques=judge_critiques,
    ).matching()


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


# The columns a training-format record needs, read as plain values: no model instances per row.
_RECORD_VALUES = (
    "pk",
    "external_id",
    "steps",
    "generator",
    "subset",
    "final_answer",
    "final_answer_correct",
    "imported_label",
    "problem__content_hash",
    "problem__text",
    "problem__reference_answer",
    "final_label__label",
    "final_label__source",
    "final_label__agreement",
    "final_label__decided_at",
    "final_label__decided_by__username",
)


def solution_records(
    solutions: ExportSelection | QuerySet[Solution], *, provenance: bool, chunk_size: int, critique: bool = False
) -> Iterator[SolutionRecord]:
    """Yield the solutions as exporter records in (problem, id) order, `chunk_size` candidates at a time.

    Keyset pagination: per chunk, one indexed range scan for the keys after the last one seen, the
    selection's checks on those ids, the rows of the chunk's key range, and related rows by id; memory
    stays flat and no plan depends on planner statistics (a server-side cursor over the EXISTS filter
    stalled for minutes without them). Without provenance or critique only the needed columns are read,
    as values; with either, model instances with the related rows the selection asks for.
    """
    selection = solutions if isinstance(solutions, ExportSelection) else ExportSelection(solutions=solutions)
    base = selection.solutions.order_by("problem_id", "pk")
    for ids, span in _chunk_ids(selection, chunk_size):
        chunk = base.filter(span)  # the chunk's key range: no list of ids to send
        kept = set(ids)
        if not (provenance or critique):
            for values in chunk.values(*_RECORD_VALUES):
                if values["pk"] in kept:
                    yield _record_from_values(values)
            continue
        related = _related_rows(ids, provenance=provenance, judge_critiques=selection.judge_critiques)
        for solution in chunk:
            if solution.pk not in kept:
                continue
            yield solution_record(
                solution,
                annotations=related.annotations.get(solution.pk, ()),
                suggestions=related.suggestions.get(solution.pk, ()),
                judge_suggestions=related.judge_suggestions.get(solution.pk, ()),
            )


@dataclass(frozen=True)
class _Related:
    annotations: dict[int, list[Annotation]]
    suggestions: dict[int, list[Suggestion]]
    judge_suggestions: dict[int, list[Suggestion]]


def _by_solution(rows: Iterable[_Row]) -> dict[int, list[_Row]]:
    grouped: dict[int, list[_Row]] = defaultdict(list)
    for row in rows:
        grouped[row.solution_id].append(row)
    return grouped


def _related_rows(ids: list[int], *, provenance: bool, judge_critiques: bool) -> _Related:
    """Return a chunk's annotations (with annotators), suggestions and judge critiques, by solution id, in order."""
    annotations: dict[int, list[Annotation]] = {}
    suggestions: dict[int, list[Suggestion]] = {}
    judges: dict[int, list[Suggestion]] = {}
    if provenance:
        annotations = _by_solution(
            Annotation.objects.filter(solution_id__in=ids).select_related("annotator").order_by("created_at", "pk")
        )
        suggestions = _by_solution(
            Suggestion.objects.filter(solution_id__in=ids).order_by("method", "config_key", "pk")
        )
    if judge_critiques:
        judges = _by_solution(_judge_critiques().filter(solution_id__in=ids))
    return _Related(annotations=annotations, suggestions=suggestions, judge_suggestions=judges)


def _chunk_ids(selection: ExportSelection, chunk_size: int) -> Iterator[tuple[list[int], Q]]:
    """Yield the ids of the selected solutions, in (problem, id) order, from `chunk_size` candidates at a time,
    with the condition for the chunk's key range (first to last candidate, both included)."""
    keys = selection.solutions.select_related(None).prefetch_related(None).order_by("problem_id", "pk")
    after: Q | None = None
    while True:
        rows = list((keys if after is None else keys.filter(after)).values_list("problem_id", "pk")[:chunk_size])
        if not rows:
            return
        ids = _checked([pk for _, pk in rows], selection)
        (first_problem, first_id), (last_problem, last_id) = rows[0], rows[-1]
        span = (
            (Q(problem_id__gt=first_problem) | Q(problem_id=first_problem, pk__gte=first_id))
            & (Q(problem_id__lt=last_problem) | Q(problem_id=last_problem, pk__lte=last_id))
            & Q(problem_id__gte=first_problem, problem_id__lte=last_problem)
        )
        if ids:
            yield ids, span
        if len(rows) < chunk_size:
            return
        after = Q(problem_id__gt=last_problem) | Q(problem_id=last_problem, pk__gt=last_id)
        after &= Q(problem_id__gte=last_problem)


def _checked(ids: list[int], selection: ExportSelection) -> list[int]:
    """Return the ids that pass the selection's checks (at most four queries, each by solution id)."""
    if selection.active_only:
        active = set(FinalLabel.objects.filter(solution_id__in=ids).values_list("solution_id", flat=True))
        for related in (Annotation, Suggestion):
            rest = [pk for pk in ids if pk not in active]
            if rest:
                active.update(related.objects.filter(solution_id__in=rest).values_list("solution_id", flat=True))
        ids = [pk for pk in ids if pk in active]
    if selection.exclude_flagged and ids:
        dropped = set(Annotation.objects.filter(_flagged(), solution_id__in=ids).values_list("solution_id", flat=True))
        ids = [pk for pk in ids if pk not in dropped]
    return ids


def _record_from_values(values: dict[str, Any]) -> SolutionRecord:
    final = None
    if values["final_label__label"] is not None:
        final = FinalLabelRecord(
            label=values["final_label__label"],
            source=values["final_label__source"],
            agreement=values["final_label__agreement"],
            decided_by=values["final_label__decided_by__username"] or "",
            decided_at=values["final_label__decided_at"],
        )
    return SolutionRecord(
        id=values["external_id"] or f"solution-{values['pk']}",
        solution_id=values["pk"],
        problem_key=values["problem__content_hash"],
        problem=values["problem__text"],
        steps=values["steps"],
        generator=values["generator"],
        subset=values["subset"],
        reference_answer=values["problem__reference_answer"],
        final_answer=values["final_answer"],
        final_answer_correct=values["final_answer_correct"],
        imported_label=values["imported_label"],
        final_label=final,
    )


def _final_label_record(solution: Solution) -> FinalLabelRecord | None:
    try:
        final = solution.final_label
    except ObjectDoesNotExist:
        return None
    explained = final.explanation_annotation
    return FinalLabelRecord(
        label=final.label,
        source=final.source,
        agreement=final.agreement,
        decided_by=final.decided_by.get_username() if final.decided_by else "",
        decided_at=final.decided_at,
        explanation=final.explanation,
        error_type=final.error_type,
        explanation_source=final.explanation_source,
        explanation_annotator=explained.annotator.get_username() if explained else "",
        explanation_step_notes=tuple(explained.step_notes or ()) if explained else (),
    )


def _annotation_records(annotations: Iterable[Annotation]) -> tuple[AnnotationRecord, ...]:
    return tuple(
        AnnotationRecord(
            annotator=item.annotator.get_username(),
            earliest_error_step=item.earliest_error_step,
            rationale=item.rationale,
            error_type=item.error_type,
            step_notes=tuple(item.step_notes or ()),
            flag_ambiguous=item.flag_ambiguous,
            flag_reference_wrong=item.flag_reference_wrong,
            flag_unsure=item.flag_unsure,
            seconds_spent=item.seconds_spent,
            suggestions_visible=item.suggestions_visible,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )
        for item in annotations
    )


def _suggestion_records(suggestions: Iterable[Suggestion]) -> tuple[SuggestionRecord, ...]:
    return tuple(
        SuggestionRecord(
            method=item.method,
            config_key=item.config_key,
            engine=item.engine,
            model_name=item.model_name,
            parameters=item.parameters,
            status=item.status,
            error=item.error,
            label=item.label,
            step_scores=list(item.step_scores or []),
            confidence=item.confidence,
            rationale=item.rationale,
            rollouts=item.rollouts,
            prompt_tokens=item.prompt_tokens,
            generated_tokens=item.generated_tokens,
            seconds=item.seconds,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )
        for item in suggestions
    )


def solution_record(
    solution: Solution,
    *,
    annotations: Iterable[Annotation] = (),
    suggestions: Iterable[Suggestion] = (),
    judge_suggestions: Iterable[Suggestion] = (),
) -> SolutionRecord:
    """Return a solution (its problem and final label loaded) and the given related rows as an exporter record."""
    problem = solution.problem
    return SolutionRecord(
        id=solution.external_id or f"solution-{solution.pk}",
        solution_id=solution.pk,
        problem_key=problem.content_hash,
        problem=problem.text,
        steps=solution.steps,
        generator=solution.generator,
        subset=solution.subset,
        reference_answer=problem.reference_answer,
        final_answer=solution.final_answer,
        final_answer_correct=solution.final_answer_correct,
        imported_label=solution.imported_label,
        final_label=_final_label_record(solution),
        annotations=_annotation_records(annotations),
        suggestions=_suggestion_records(suggestions),
        judge_critiques=tuple(
            JudgeCritiqueRecord(label=item.label, critique=item.rationale, model_name=item.model_name)
            for item in judge_suggestions
            if item.label is not None  # always: judge critiques are read with a label
        ),
    )
