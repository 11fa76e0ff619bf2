"""Reads for exports: the solutions an export takes, streamed as plain records, and export rows by user."""

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection
from django.db.models import BooleanField, Exists, Expression, F, OuterRef, Q, QuerySet

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

_Record = TypeVar("_Record", AnnotationRecord, SuggestionRecord, JudgeCritiqueRecord)


class _SolutionIdAnyOf(Expression):
    """`solution_id = ANY(%s)` with the ids as one array parameter, for PostgreSQL.

    An `IN` list of a chunk's 2,000 ids is 2,000 parameters to merge into the query text and for the server
    to parse: about 10x the time of the query itself. The plan is the same index scan.
    """

    def __init__(self, ids: list[int]) -> None:
        super().__init__(output_field=BooleanField())
        self.column: Any = F("solution_id")
        self.ids = ids

    def get_source_expressions(self) -> list[Any]:
        return [self.column]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.column,) = exprs

    def resolve_expression(self, *args: Any, **kwargs: Any) -> "_SolutionIdAnyOf":
        clone = self.copy()
        clone.column = self.column.resolve_expression(*args, **kwargs)
        return clone

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        column, params = compiler.compile(self.column)
        return f"{column} = ANY(%s)", (*params, self.ids)


def _of_solutions(ids: list[int]) -> Q | Expression:
    """Return the condition "the row's solution_id is one of `ids`" (one array parameter on PostgreSQL)."""
    if connection.vendor == "postgresql":
        return _SolutionIdAnyOf(ids)
    return Q(solution_id__in=ids)


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


def _judge_critiques(ids: list[int]) -> dict[int, tuple[JudgeCritiqueRecord, ...]]:
    """Return the succeeded judge suggestions with a critique of these solutions, newest first, by solution id.

    Only the solution ids are tested in SQL, the rest here: with the method and status in the query, a
    planner without statistics reads every judge suggestion of the table through their index for each chunk.
    """
    methods = suggestion_methods.critique_method_names()
    rows = (
        Suggestion.objects.filter(_of_solutions(ids))
        .order_by("solution_id", "-updated_at", "-id")
        .values_list("solution_id", "method", "status", "label", "rationale", "model_name")
    )
    return _by_solution(
        (
            (solution_id, label, rationale, model_name)
            for solution_id, method, status, label, rationale, model_name in rows
            if method in methods and status == SuggestionStatus.SUCCEEDED and label is not None and rationale
        ),
        JudgeCritiqueRecord,
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
    annotators) and suggestions. `solution_records` reads problems, final labels, deciders and (with
    `provenance` or `critique`) the annotation a final label's explanation came from in the same query as
    the solutions. `judge_critiques`: their succeeded judge suggestions with a critique, newest first.
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


# Every record is read as tuples of plain values (no model instances): the columns each part needs, by name.
_SOLUTION_COLUMNS = (
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
# The final label's critique and the annotation its explanation came from (provenance and critic formats).
_CRITIQUE_COLUMNS = (
    "final_label__explanation",
    "final_label__error_type",
    "final_label__explanation_source",
    "final_label__explanation_annotation__annotator__username",
    "final_label__explanation_annotation__step_notes",
)
_ANNOTATION_COLUMNS = (
    "solution_id",
    "annotator__username",
    "earliest_error_step",
    "rationale",
    "error_type",
    "step_notes",
    "flag_ambiguous",
    "flag_reference_wrong",
    "flag_unsure",
    "seconds_spent",
    "suggestions_visible",
    "created_at",
    "updated_at",
)
_SUGGESTION_COLUMNS = (
    "solution_id",
    "method",
    "config_key",
    "engine",
    "model_name",
    "parameters",
    "status",
    "error",
    "label",
    "step_scores",
    "confidence",
    "rationale",
    "rollouts",
    "prompt_tokens",
    "generated_tokens",
    "seconds",
    "created_at",
    "updated_at",
)


def solution_records(
    solutions: ExportSelection | QuerySet[Solution], *, provenance: bool, chunk_size: int, critique: bool = False
) -> Iterator[SolutionRecord]:
    """Yield the solutions as exporter records in (problem, id) order, `chunk_size` candidates at a time.

    Keyset pagination: per chunk, one indexed range scan for the keys after the last one seen, the
    selection's checks on those ids, the rows of the chunk's key range, and related rows by id; memory
    stays flat and no plan depends on planner statistics (a server-side cursor over the EXISTS filter
    stalled for minutes without them). Every query reads only the columns the records need, as tuples.
    """
    selection = solutions if isinstance(solutions, ExportSelection) else ExportSelection(solutions=solutions)
    base = selection.solutions.order_by("problem_id", "pk")
    columns = _SOLUTION_COLUMNS + (_CRITIQUE_COLUMNS if provenance or critique else ())
    for ids, span in _chunk_ids(selection, chunk_size):
        rows = base.filter(span).values_list(*columns)  # the chunk's key range: no list of ids to send
        kept = set(ids)
        if not (provenance or critique or selection.judge_critiques):
            yield from (_record(row) for row in rows if row[0] in kept)
            continue
        related = _related_rows(ids, provenance=provenance, judge_critiques=selection.judge_critiques)
        for row in rows:
            if row[0] in kept:
                yield _record(
                    row,
                    annotations=related.annotations.get(row[0], ()),
                    suggestions=related.suggestions.get(row[0], ()),
                    judge_critiques=related.judge_critiques.get(row[0], ()),
                )


@dataclass(frozen=True)
class _Related:
    annotations: dict[int, tuple[AnnotationRecord, ...]]
    suggestions: dict[int, tuple[SuggestionRecord, ...]]
    judge_critiques: dict[int, tuple[JudgeCritiqueRecord, ...]]


def _by_solution(rows: Iterable[tuple[Any, ...]], make: Callable[..., _Record]) -> dict[int, tuple[_Record, ...]]:
    """Return `make(*row[1:])` for each row, grouped by the row's first value (its solution id), in order."""
    grouped: dict[int, list[_Record]] = defaultdict(list)
    for solution_id, *values in rows:
        grouped[solution_id].append(make(*values))
    return {solution_id: tuple(records) for solution_id, records in grouped.items()}


def _related_rows(ids: list[int], *, provenance: bool, judge_critiques: bool) -> _Related:
    """Return a chunk's annotations, suggestions and judge critiques as records, by solution id, in order."""
    annotations: dict[int, tuple[AnnotationRecord, ...]] = {}
    suggestions: dict[int, tuple[SuggestionRecord, ...]] = {}
    judges: dict[int, tuple[JudgeCritiqueRecord, ...]] = {}
    if provenance:
        annotations = _by_solution(
            Annotation.objects.filter(_of_solutions(ids))
            .order_by("solution_id", "created_at", "pk")
            .values_list(*_ANNOTATION_COLUMNS),
            _annotation_record,
        )
        suggestions = _by_solution(
            Suggestion.objects.filter(_of_solutions(ids))
            .order_by("solution_id", "method", "config_key", "pk")
            .values_list(*_SUGGESTION_COLUMNS),
            _suggestion_record,
        )
    if judge_critiques:
        judges = _judge_critiques(ids)
    return _Related(annotations=annotations, suggestions=suggestions, judge_critiques=judges)


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
        active = set(FinalLabel.objects.filter(_of_solutions(ids)).values_list("solution_id", flat=True))
        for related in (Annotation, Suggestion):
            rest = [pk for pk in ids if pk not in active]
            if rest:
                active.update(related.objects.filter(_of_solutions(rest)).values_list("solution_id", flat=True))
        ids = [pk for pk in ids if pk in active]
    if selection.exclude_flagged and ids:
        dropped = set(Annotation.objects.filter(_flagged(), _of_solutions(ids)).values_list("solution_id", flat=True))
        ids = [pk for pk in ids if pk not in dropped]
    return ids


def _record(
    row: tuple[Any, ...],
    *,
    annotations: Sequence[AnnotationRecord] = (),
    suggestions: Sequence[SuggestionRecord] = (),
    judge_critiques: Sequence[JudgeCritiqueRecord] = (),
) -> SolutionRecord:
    """Return a solution's record from its `_SOLUTION_COLUMNS` (and `_CRITIQUE_COLUMNS`, when read) values."""
    (pk, external_id, steps, generator, subset, final_answer, final_answer_correct, imported_label) = row[:8]
    problem_key, problem, reference_answer = row[8:11]
    return SolutionRecord(
        id=external_id or f"solution-{pk}",
        solution_id=pk,
        problem_key=problem_key,
        problem=problem,
        steps=steps,
        generator=generator,
        subset=subset,
        reference_answer=reference_answer,
        final_answer=final_answer,
        final_answer_correct=final_answer_correct,
        imported_label=imported_label,
        final_label=None if row[11] is None else _final_label_record(row),
        annotations=annotations,
        suggestions=suggestions,
        judge_critiques=judge_critiques,
    )


def _final_label_record(row: tuple[Any, ...]) -> FinalLabelRecord:
    label, source, agreement, decided_at, decided_by = row[11:16]
    if len(row) == len(_SOLUTION_COLUMNS):
        return FinalLabelRecord(
            label=label, source=source, agreement=agreement, decided_by=decided_by or "", decided_at=decided_at
        )
    explanation, error_type, explanation_source, explanation_annotator, explanation_step_notes = row[16:]
    return FinalLabelRecord(
        label=label,
        source=source,
        agreement=agreement,
        decided_by=decided_by or "",
        decided_at=decided_at,
        explanation=explanation,
        error_type=error_type,
        explanation_source=explanation_source,
        explanation_annotator=explanation_annotator or "",
        explanation_step_notes=tuple(explanation_step_notes or ()),
    )


def _annotation_record(
    annotator: str,
    earliest_error_step: int,
    rationale: str,
    error_type: str | None,
    step_notes: list[dict[str, Any]] | None,
    flag_ambiguous: bool,
    flag_reference_wrong: bool,
    flag_unsure: bool,
    seconds_spent: float,
    suggestions_visible: bool,
    created_at: datetime,
    updated_at: datetime,
) -> AnnotationRecord:
    return AnnotationRecord(
        annotator=annotator,
        earliest_error_step=earliest_error_step,
        rationale=rationale,
        error_type=error_type,
        step_notes=tuple(step_notes or ()),
        flag_ambiguous=flag_ambiguous,
        flag_reference_wrong=flag_reference_wrong,
        flag_unsure=flag_unsure,
        seconds_spent=seconds_spent,
        suggestions_visible=suggestions_visible,
        created_at=created_at,
        updated_at=updated_at,
    )


def _suggestion_record(
    method: str, config_key: str, engine: str, model_name: str, parameters: dict[str, Any], status: str, error: str,
    label: int | None, step_scores: list[float | None] | None, confidence: float | None, rationale: str,
    rollouts: int, prompt_tokens: int, generated_tokens: int, seconds: float, created_at: datetime,
    updated_at: datetime,
) -> SuggestionRecord:  # fmt: skip
    return SuggestionRecord(
        method=method,
        config_key=config_key,
        engine=engine,
        model_name=model_name,
        parameters=parameters,
        status=status,
        error=error,
        label=label,
        step_scores=list(step_scores or []),
        confidence=confidence,
        rationale=rationale,
        rollouts=rollouts,
        prompt_tokens=prompt_tokens,
        generated_tokens=generated_tokens,
        seconds=seconds,
        created_at=created_at,
        updated_at=updated_at,
    )
