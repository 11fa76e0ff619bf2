"""Reads for exports: the solutions an export takes, streamed as plain records, and export rows by user."""

from collections.abc import Iterator
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

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


def _flagged_annotations() -> QuerySet[Annotation]:
    flagged = Q(flag_ambiguous=True) | Q(flag_reference_wrong=True) | Q(flag_unsure=True)
    return Annotation.objects.filter(flagged, solution=OuterRef("pk"))


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


def solutions_for_export(
    *,
    dataset: Dataset,
    filters: ExportFilters,
    labelled_only: bool,
    provenance: bool,
    critique: bool = False,
    judge_critiques: bool = False,
) -> QuerySet[Solution]:
    """Return the dataset's solutions an export takes, grouped by problem, ready to stream with `iterator()`.

    `labelled_only`: only solutions with a final label; otherwise solutions with a final label, an annotation
    or a suggestion; never one still waiting for its steps. `provenance`: prefetch annotations (with
    annotators) and suggestions, which Django runs once per `iterator(chunk_size=...)` chunk. Problems,
    final labels, deciders and (with `provenance` or `critique`) the annotation a final label's
    explanation came from come in the same query.
    `judge_critiques`: prefetch succeeded judge suggestions with a critique, newest first (`judge_suggestions`).
    """
    # A solution waiting for the judge's re-split has no steps (and so no label) yet: never exported.
    solutions = Solution.objects.filter(dataset=dataset).exclude(status=SolutionStatus.WAITING)
    solutions = solutions.filter(_label_filters(filters))
    if labelled_only:
        solutions = solutions.filter(final_label__isnull=False)
    else:
        solutions = solutions.filter(
            Exists(FinalLabel.objects.filter(solution=OuterRef("pk")))
            | Exists(Annotation.objects.filter(solution=OuterRef("pk")))
            | Exists(Suggestion.objects.filter(solution=OuterRef("pk")))
        )
    if filters.exclude_flagged:
        solutions = solutions.filter(~Exists(_flagged_annotations()))
    if filters.subsets:
        solutions = solutions.filter(subset__in=filters.subsets)
    if filters.generators:
        solutions = solutions.filter(generator__in=filters.generators)
    solutions = solutions.select_related("problem", "final_label", "final_label__decided_by")
    if provenance or critique:
        solutions = solutions.select_related("final_label__explanation_annotation__annotator")
    if judge_critiques:
        solutions = solutions.prefetch_related(
            Prefetch("suggestions", queryset=_judge_critiques(), to_attr="judge_suggestions")
        )
    if provenance:
        solutions = solutions.prefetch_related(
            Prefetch(
                "annotations", queryset=Annotation.objects.select_related("annotator").order_by("created_at", "pk")
            ),
            Prefetch("suggestions", queryset=Suggestion.objects.order_by("method", "config_key", "pk")),
        )
    return solutions.order_by("problem_id", "pk")


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
    solutions: QuerySet[Solution], *, provenance: bool, chunk_size: int, critique: bool = False
) -> Iterator[SolutionRecord]:
    """Yield the solutions as exporter records, fetched `chunk_size` rows at a time.

    On PostgreSQL the rows come through a server-side cursor, so memory stays flat whatever their number.
    Without provenance or critique only the needed columns are read, as values; with either, model
    instances come with what `solutions_for_export` prefetched, once per chunk.
    """
    if provenance or critique:
        for solution in solutions.iterator(chunk_size=chunk_size):
            yield solution_record(solution, provenance=provenance)
        return
    for values in solutions.values(*_RECORD_VALUES).iterator(chunk_size=chunk_size):
        yield _record_from_values(values)


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


def _annotation_records(solution: Solution) -> tuple[AnnotationRecord, ...]:
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
        for item in solution.annotations.all()
    )


def _suggestion_records(solution: Solution) -> tuple[SuggestionRecord, ...]:
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
        for item in solution.suggestions.all()
    )


def solution_record(solution: Solution, *, provenance: bool) -> SolutionRecord:
    """Return a solution as the exporters' plain record.

    Its problem and final label should be loaded, and with `provenance` its annotations and suggestions;
    prefetched `judge_suggestions` become its judge critiques.
    """
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
        annotations=_annotation_records(solution) if provenance else (),
        suggestions=_suggestion_records(solution) if provenance else (),
        judge_critiques=tuple(
            JudgeCritiqueRecord(label=item.label, critique=item.rationale, model_name=item.model_name)
            for item in getattr(solution, "judge_suggestions", ())
        ),
    )
