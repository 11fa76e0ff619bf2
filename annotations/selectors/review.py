"""What reviewers see: the review queue of a dataset and one solution with every opinion side by side.

The review page costs a fixed number of queries (solution, annotations, suggestions, history, next in
queue) whatever the dataset size. Stored text is rendered to safe HTML here (`annotations.rendering`,
the workbench's renderer; math is typeset in the browser by the same KaTeX script).
"""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from annotations import protocol, suggestion_methods
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
from annotations.selectors.annotation_page import ScoreBar, verdict_text
from annotations.selectors.datasets import AnyUser, user_id_of, user_is_staff
from prmweb.errors import NotFoundError

REVIEW_STATUSES = (SolutionStatus.NEEDS_REVIEW, SolutionStatus.FINAL, SolutionStatus.DISCARDED, SolutionStatus.OPEN)


def label_text(label: int | None) -> str:
    """Return a label in words for tables ("step 3", "all correct", "none")."""
    if label is None:
        return "none"
    return "all correct" if label == -1 else f"step {label + 1}"


def review_queue_list(*, dataset: Dataset, status: str = SolutionStatus.NEEDS_REVIEW) -> QuerySet[Solution]:
    """Return the dataset's solutions in `status`, oldest first, with final label and annotation labels loaded.

    Two queries per page of results (solutions, then the page's annotations).
    """
    if status not in REVIEW_STATUSES:
        raise NotFoundError(
            f"Unknown status {status!r}.", errors={"status": [f"One of: {', '.join(REVIEW_STATUSES)}."]}
        )
    labels_only = Annotation.objects.only("id", "solution_id", "earliest_error_step").order_by("id")
    return (
        Solution.objects.filter(dataset=dataset, status=status)
        .select_related("final_label")
        .prefetch_related(Prefetch("annotations", queryset=labels_only, to_attr="review_annotations"))
        .order_by("id")
    )


def label_summary(solution: Solution) -> str:
    """Return the annotators' labels of a queue row, most voted first ("step 2: 2, all correct: 1")."""
    annotations = getattr(solution, "review_annotations", [])
    counts = Counter(annotation.earliest_error_step for annotation in annotations)
    return ", ".join(f"{label_text(label)}: {count}" for label, count in counts.most_common())


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
    annotator: str
    label: int
    rationale_html: str
    flags: list[str]
    seconds_spent: float
    suggestions_visible: bool
    created_at: datetime
    updated_at: datetime

    @property
    def label_text(self) -> str:
        return label_text(self.label)


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
    rollouts: int
    generated_tokens: int
    seconds: float


@dataclass
class StepRow:
    """One step with who marked it as the earliest error and each method's score of it."""

    index: int
    html: str
    annotators: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    scores: list[ScoreBar] = field(default_factory=list)

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
    all_correct_annotators: list[str]
    all_correct_methods: list[str]
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
    ]
    flags.append(("unsure", annotation.flag_unsure))
    return [name for name, on in flags if on]


def _annotation_views(annotations: list[Annotation]) -> list[AnnotationView]:
    return [
        AnnotationView(
            annotator=annotation.annotator.get_username(),
            label=annotation.earliest_error_step,
            rationale_html=render_markdown(annotation.rationale),
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
            verdict=verdict_text(suggestion.label),
            confidence=suggestion.confidence,
            rationale_html=render_markdown(suggestion.rationale),
            error=suggestion.error,
            rollouts=suggestion.rollouts,
            generated_tokens=suggestion.generated_tokens,
            seconds=suggestion.seconds,
        )
        for suggestion in suggestions
    ]


def _step_rows(solution: Solution, annotations: list[Annotation], suggestions: list[Suggestion]) -> list[StepRow]:
    rows = [StepRow(index=index, html=render_markdown(str(text))) for index, text in enumerate(solution.steps)]
    for annotation in annotations:
        if 0 <= annotation.earliest_error_step < len(rows):
            rows[annotation.earliest_error_step].annotators.append(annotation.annotator.get_username())
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


def _next_in_queue(solution: Solution) -> int | None:
    return (
        Solution.objects.filter(dataset_id=solution.dataset_id, status=SolutionStatus.NEEDS_REVIEW)
        .exclude(pk=solution.pk)
        .order_by("id")
        .values_list("id", flat=True)
        .first()
    )


def review_page_get(*, solution_id: int) -> ReviewPage:
    """Return everything the review page shows for one solution; NotFoundError when it does not exist."""
    solution = (
        Solution.objects.select_related("dataset", "problem", "final_label", "final_label__decided_by")
        .filter(pk=solution_id)
        .first()
    )
    if solution is None:
        raise NotFoundError(f"Solution {solution_id} not found.", errors={"solution": ["No such solution."]})
    annotations = list(Annotation.objects.filter(solution=solution).select_related("annotator").order_by("created_at"))
    suggestions = list(Suggestion.objects.filter(solution=solution).order_by("method", "config_key"))
    history = list(
        FinalLabelChange.objects.filter(solution=solution).select_related("changed_by").order_by("-changed_at", "-id")
    )
    labels = [annotation.earliest_error_step for annotation in annotations]
    decision = protocol.decide(
        protocol.protocol_for(solution.dataset), labels, final_answer_correct=solution.final_answer_correct
    )
    final_label = getattr(solution, "final_label", None)
    return ReviewPage(
        solution=solution,
        dataset=solution.dataset,
        problem_html=render_markdown(solution.problem.text),
        reference_answer_html=render_answer(solution.problem.reference_answer),
        final_answer_html=render_answer(solution.final_answer),
        steps=_step_rows(solution, annotations, suggestions),
        all_correct_annotators=[a.annotator.get_username() for a in annotations if a.earliest_error_step == -1],
        all_correct_methods=[s.method for s in suggestions if s.status == "succeeded" and s.label == -1],
        annotations=_annotation_views(annotations),
        suggestions=_suggestion_views(suggestions),
        final_label=final_label,
        history=history,
        protocol_reason=decision.reason,
        next_solution_id=_next_in_queue(solution),
    )
