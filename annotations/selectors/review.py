"""What reviewers see: the datasets they review and one solution with every opinion side by side.

The review page costs a fixed number of queries (solution, annotations, suggestions, history, next in
queue) whatever the dataset size. Stored text is rendered to safe HTML here (`annotations.rendering`,
the workbench's renderer; math is typeset in the browser by the same KaTeX script). The queue itself is
`annotations.selectors.review_queue`.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, QuerySet

from annotations import protocol, suggestion_methods
from annotations.critique import ErrorType, error_type_entries, error_type_title, step_notes_as_mapping
from annotations.models import (
    Annotation,
    Dataset,
    FinalLabel,
    FinalLabelChange,
    MembershipRole,
    Solution,
    SolutionStatus,
    Suggestion,
)
from annotations.rendering import render_answer, render_markdown
from annotations.selectors.annotation_page import ScoreBar, suggestion_verdict
from annotations.selectors.datasets import AnyUser, user_id_of, user_is_staff
from annotations.selectors.review_critique import FinalCritiqueView, agreed_explanation_authors, final_critique_view
from annotations.selectors.review_queue import DEFAULT_SORT, label_text, next_needing_review
from prmweb.errors import NotFoundError


def datasets_for_reviewer(*, user: AnyUser) -> QuerySet[Dataset]:
    """Return the datasets whose review queue the user may open (staff: all), by name."""
    datasets = Dataset.objects.all()
    if not user_is_staff(user):
        datasets = datasets.filter(
            memberships__user_id=user_id_of(user),
            memberships__role__in=[MembershipRole.REVIEWER, MembershipRole.MANAGER],
        )
    return datasets.order_by("name", "pk")


def review_counts_by_dataset(*, dataset_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Return {dataset id: {status: solutions}} for several datasets (one query)."""
    counts: dict[int, dict[str, int]] = {
        dataset_id: {status.value: 0 for status in SolutionStatus} for dataset_id in dataset_ids
    }
    rows = (
        Solution.objects.filter(dataset_id__in=dataset_ids).values_list("dataset_id", "status").annotate(n=Count("id"))
    )
    for dataset_id, status, count in rows.order_by():
        counts[dataset_id][status] = count
    return counts


def review_queue_counts(*, dataset: Dataset) -> dict[str, int]:
    """Return how many of the dataset's solutions are in each status (one query)."""
    return review_counts_by_dataset(dataset_ids=[dataset.pk])[dataset.pk]


@dataclass(frozen=True)
class AnnotationView:
    annotation_id: int
    annotator: str
    label: int
    rationale_html: str
    has_explanation: bool
    error_type_title: str
    step_notes: list[tuple[int, str]]  # (step number, from 1; note)
    flags: list[str]
    seconds_spent: float
    suggestions_visible: bool
    created_at: datetime
    updated_at: datetime

    @property
    def label_text(self) -> str:
        return label_text(self.label)


def cost_text(*, rollouts: int, prompt_tokens: int, generated_tokens: int, seconds: float) -> str:
    """Return a suggestion's cost in words, leaving out what it did not use ("32 rollouts · 1.5 s")."""
    parts = []
    if rollouts:
        parts.append(f"{rollouts} rollout{'' if rollouts == 1 else 's'}")
    if prompt_tokens:
        parts.append(f"{prompt_tokens} prompt token{'' if prompt_tokens == 1 else 's'}")
    if generated_tokens:
        parts.append(f"{generated_tokens} generated token{'' if generated_tokens == 1 else 's'}")
    if round(seconds, 1) > 0:
        parts.append(f"{seconds:.1f} s")
    return " · ".join(parts)


@dataclass(frozen=True)
class SuggestionView:
    method: str
    title: str
    config_key: str
    model_name: str
    status: str
    label: int | None
    verdict: str
    confidence: float | None
    rationale_html: str
    error: str
    cost: str


@dataclass(frozen=True)
class Opinion:
    """One annotator's label of a step (or of "all correct"), with why: explanation and error type."""

    annotation_id: int
    annotator: str
    rationale_html: str
    has_explanation: bool
    error_type_title: str
    flags: list[str]


@dataclass
class StepRow:
    """One step with who marked it as the earliest error (and why) and each method's score of it."""

    index: int
    html: str
    opinions: list[Opinion] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    scores: list[ScoreBar] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)  # (annotator, their note on this step)
    agreed_explanation_by: str = ""  # whose explanation goes with this step's label by default

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class ReviewPage:
    solution: Solution
    dataset: Dataset
    problem_html: str
    reference_answer_html: str
    final_answer_html: str
    steps: list[StepRow]
    all_correct_opinions: list[Opinion]
    all_correct_methods: list[str]
    all_correct_agreed_by: str
    error_types: list[ErrorType]
    final_critique: FinalCritiqueView | None
    annotations: list[AnnotationView]
    suggestions: list[SuggestionView]
    final_label: FinalLabel | None
    history: list[FinalLabelChange]
    protocol_reason: str
    next_solution_id: int | None

    @property
    def can_reopen(self) -> bool:
        return self.solution.status in (SolutionStatus.FINAL, SolutionStatus.DISCARDED)


def _flags(annotation: Annotation) -> list[str]:
    flags = [
        ("ambiguous problem", annotation.flag_ambiguous),
        ("reference looks wrong", annotation.flag_reference_wrong),
        ("unsure", annotation.flag_unsure),
    ]
    return [name for name, on in flags if on]


def _numbered_notes(annotation: Annotation) -> list[tuple[int, str]]:
    return [(step + 1, note) for step, note in sorted(step_notes_as_mapping(annotation.step_notes).items())]


def _annotation_views(annotations: list[Annotation], taxonomy: object) -> list[AnnotationView]:
    return [
        AnnotationView(
            annotation_id=annotation.pk,
            annotator=annotation.annotator.get_username(),
            label=annotation.earliest_error_step,
            rationale_html=render_markdown(annotation.rationale),
            has_explanation=bool(annotation.rationale),
            error_type_title=error_type_title(annotation.error_type, taxonomy),
            step_notes=_numbered_notes(annotation),
            flags=_flags(annotation),
            seconds_spent=annotation.seconds_spent,
            suggestions_visible=annotation.suggestions_visible,
            created_at=annotation.created_at,
            updated_at=annotation.updated_at,
        )
        for annotation in annotations
    ]


def _suggestion_views(suggestions: list[Suggestion]) -> list[SuggestionView]:
    return [
        SuggestionView(
            method=suggestion.method,
            title=suggestion_methods.method_title(suggestion.method),
            config_key=suggestion.config_key,
            model_name=suggestion.model_name,
            status=suggestion.status,
            label=suggestion.label,
            verdict=suggestion_verdict(suggestion.method, suggestion.label),
            confidence=suggestion.confidence,
            rationale_html=render_markdown(suggestion.rationale),
            error=suggestion.error,
            cost=cost_text(
                rollouts=suggestion.rollouts,
                prompt_tokens=suggestion.prompt_tokens,
                generated_tokens=suggestion.generated_tokens,
                seconds=suggestion.seconds,
            ),
        )
        for suggestion in suggestions
    ]


def _opinion(view: AnnotationView) -> Opinion:
    return Opinion(
        annotation_id=view.annotation_id,
        annotator=view.annotator,
        rationale_html=view.rationale_html,
        has_explanation=view.has_explanation,
        error_type_title=view.error_type_title,
        flags=view.flags,
    )


def _add_opinions(rows: list[StepRow], views: list[AnnotationView]) -> None:
    """Put each annotator's label on its step, and their notes on the steps they are about."""
    for view in views:
        if 0 <= view.label < len(rows):
            rows[view.label].opinions.append(_opinion(view))
        for number, note in view.step_notes:
            if 0 < number <= len(rows):
                rows[number - 1].notes.append((view.annotator, note))


def _step_rows(
    solution: Solution, views: list[AnnotationView], suggestions: list[Suggestion], agreed_by: dict[int, str]
) -> list[StepRow]:
    rows = [
        StepRow(index=index, html=render_markdown(str(text)), agreed_explanation_by=agreed_by.get(index, ""))
        for index, text in enumerate(solution.steps)
    ]
    _add_opinions(rows, views)
    for suggestion in suggestions:
        if suggestion.status != "succeeded":
            continue
        if suggestion.label is not None and 0 <= suggestion.label < len(rows):
            rows[suggestion.label].methods.append(suggestion.method)
        scores = suggestion.step_scores if isinstance(suggestion.step_scores, list) else []
        if len(scores) == len(rows):
            for row, score in zip(rows, scores, strict=True):
                if isinstance(score, int | float):
                    row.scores.append(ScoreBar(suggestion.method, suggestion.model_name, float(score)))
    return rows


def _solution_for_review(solution_id: int) -> Solution:
    """Return the solution with its dataset, problem and final label (with the critique's provenance)."""
    solution = (
        Solution.objects.select_related(
            "dataset",
            "problem",
            "final_label",
            "final_label__decided_by",
            "final_label__explanation_annotation__annotator",
            "final_label__explanation_suggestion",
        )
        .filter(pk=solution_id)
        .first()
    )
    if solution is None:
        raise NotFoundError(f"Solution {solution_id} not found.", errors={"solution": ["No such solution."]})
    return solution


def review_page_get(*, solution_id: int, sort: str = DEFAULT_SORT) -> ReviewPage:
    """Return everything the review page shows for one solution; NotFoundError when it does not exist.

    `next_solution_id` is the first other solution needing review in the queue's `sort` order.
    """
    solution = _solution_for_review(solution_id)
    annotations = list(Annotation.objects.filter(solution=solution).select_related("annotator").order_by("created_at"))
    suggestions = list(Suggestion.objects.filter(solution=solution).order_by("method", "config_key"))
    history = list(
        FinalLabelChange.objects.filter(solution=solution).select_related("changed_by").order_by("-changed_at", "-id")
    )
    labels = [annotation.earliest_error_step for annotation in annotations]
    decision = protocol.decide(
        protocol.protocol_for(solution.dataset), labels, final_answer_correct=solution.final_answer_correct
    )
    taxonomy = solution.dataset.error_types
    views = _annotation_views(annotations, taxonomy)
    agreed_by = agreed_explanation_authors(annotations)
    final_label = getattr(solution, "final_label", None)
    return ReviewPage(
        solution=solution,
        dataset=solution.dataset,
        problem_html=render_markdown(solution.problem.text),
        reference_answer_html=render_answer(solution.problem.reference_answer),
        final_answer_html=render_answer(solution.final_answer),
        steps=_step_rows(solution, views, suggestions, agreed_by),
        all_correct_opinions=[_opinion(view) for view in views if view.label == -1],
        all_correct_methods=[s.method for s in suggestions if s.status == "succeeded" and s.label == -1],
        all_correct_agreed_by=agreed_by.get(-1, ""),
        error_types=error_type_entries(taxonomy),
        final_critique=final_critique_view(final_label, taxonomy),
        annotations=views,
        suggestions=_suggestion_views(suggestions),
        final_label=final_label,
        history=history,
        protocol_reason=decision.reason,
        next_solution_id=next_needing_review(dataset_id=solution.dataset_id, exclude_id=solution.pk, sort=sort),
    )
