"""Everything the annotation page shows for one solution, gathered in a fixed number of queries.

Three queries whatever the dataset size: the solution (with problem, dataset, final label, membership
check, my claim, and my progress and back-links riding along as subqueries), my own annotation, and
(unless the dataset is blind) the solution's succeeded suggestions; a fourth, the problem's drawn
figures, only for a problem with `[asy]` diagrams.
Stored text is rendered to safe HTML here (`annotations.rendering`); the template only displays it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from django.contrib.auth.models import User
from django.utils import timezone

from annotations import suggestion_methods
from annotations.figures.blocks import asy_digest, asy_sources, insert_figures
from annotations.models import Annotation, Dataset, FinalLabelSource, Problem, Solution, SolutionStatus, Suggestion
from annotations.rendering import render_answer, render_markdown
from annotations.selectors.figures import problem_figures_get
from annotations.selectors.gold import annotation_editable
from annotations.selectors.progress import LEFT_FOR_ME_CAP
from annotations.selectors.workbench import (
    my_annotation_get,
    solution_for_workbench,
    suggestions_for_workbench,
)


class PageMode(StrEnum):
    NEW = "new"  # I hold a claim and have not annotated yet
    EDIT = "edit"  # I annotated; the solution is still open or in review
    READ_ONLY = "read_only"  # I annotated; the label is final (or the solution was discarded)
    UNCLAIMED = "unclaimed"  # neither claimed nor annotated by me: the page is not mine to show


@dataclass(frozen=True)
class ScoreBar:
    """One method's score of one step, for a small bar beside the step."""

    method: str
    model_name: str
    score: float

    @property
    def percent(self) -> int:
        return round(100 * min(max(self.score, 0.0), 1.0))

    @property
    def text(self) -> str:
        return f"{self.score:.2f}"


@dataclass(frozen=True)
class StepView:
    index: int
    html: str
    suggested_by: list[str] = field(default_factory=list)
    scores: list[ScoreBar] = field(default_factory=list)

    @property
    def number(self) -> int:
        return self.index + 1


@dataclass(frozen=True)
class SuggestionView:
    method: str
    title: str
    model_name: str
    label: int | None
    verdict: str
    rationale_html: str
    confidence: float | None
    has_step_scores: bool
    rationale_title: str = "Details"
    rationale_open: bool = False


@dataclass(frozen=True)
class Progress:
    """Where I stand in the dataset: done today, left for me (this solution included while I hold it)."""

    done_today: int
    left_for_me: int
    previous_solution_ids: tuple[int, ...] = ()  # my annotations made before this one's, newest first

    @property
    def left_text(self) -> str:
        return f"{LEFT_FOR_ME_CAP}+" if self.left_for_me > LEFT_FOR_ME_CAP else str(self.left_for_me)


@dataclass(frozen=True)
class AnnotationPage:
    solution: Solution
    dataset: Dataset
    mode: PageMode
    annotation: Annotation | None
    claim_expires_at: datetime | None
    problem_html: str
    reference_answer_html: str
    final_answer_html: str
    reference_solution_html: str
    guidelines_html: str
    steps: list[StepView]
    suggestions: list[SuggestionView]
    progress: Progress
    settled_reason: str = ""
    figures_missing: bool = False  # the problem has [asy] blocks never queued for drawing

    @property
    def show_suggestions(self) -> bool:
        return bool(self.suggestions)

    @property
    def final_answer_wrong(self) -> bool:
        return self.solution.final_answer_correct is False

    @property
    def editable(self) -> bool:
        return self.mode in (PageMode.NEW, PageMode.EDIT)


def verdict_text(label: int | None) -> str:
    """Return a suggestion label in words ("Step 3 is the earliest error", "All steps correct")."""
    if label is None:
        return "No verdict"
    if label == -1:
        return "All steps correct"
    return f"Step {label + 1} is the earliest error"


def suggestion_verdict(method: str, label: int | None) -> str:
    """Return a suggestion's label in words, as far as its method can tell (an arithmetic check finds slips)."""
    registered = suggestion_methods.method_get(method)
    if registered is None or label is None or not (registered.verdict_all_correct and registered.verdict_error):
        return verdict_text(label)
    if label == -1:
        return registered.verdict_all_correct
    return registered.verdict_error.format(step=label + 1)


def _scores(suggestion: Suggestion, num_steps: int) -> list[float | None]:
    scores = suggestion.step_scores if isinstance(suggestion.step_scores, list) else []
    if len(scores) != num_steps:
        return []
    return [float(score) if isinstance(score, int | float) else None for score in scores]


def _steps(solution: Solution, suggestions: list[Suggestion]) -> list[StepView]:
    steps = [StepView(index=index, html=render_markdown(str(text))) for index, text in enumerate(solution.steps)]
    for suggestion in suggestions:
        if suggestion.label is not None and 0 <= suggestion.label < len(steps):
            steps[suggestion.label].suggested_by.append(suggestion.method)
        for index, score in enumerate(_scores(suggestion, len(steps))):
            if score is not None:
                steps[index].scores.append(ScoreBar(suggestion.method, suggestion.model_name, score))
    return steps


def _latest_per_method(suggestions: list[Suggestion]) -> list[Suggestion]:
    """Keep the newest suggestion of each method (the list comes ordered by method, newest first)."""
    latest: dict[str, Suggestion] = {}
    for suggestion in suggestions:
        latest.setdefault(suggestion.method, suggestion)
    return list(latest.values())


def _suggestion_view(suggestion: Suggestion, num_steps: int) -> SuggestionView:
    method = suggestion_methods.method_get(suggestion.method)
    return SuggestionView(
        method=suggestion.method,
        title=method.title if method is not None else suggestion.method,
        model_name=suggestion.model_name,
        label=suggestion.label,
        verdict=suggestion_verdict(suggestion.method, suggestion.label),
        rationale_html=render_markdown(suggestion.rationale),
        confidence=suggestion.confidence,
        has_step_scores=any(score is not None for score in _scores(suggestion, num_steps)),
        rationale_title=method.rationale_title if method is not None else "Details",
        rationale_open=method.rationale_open if method is not None else False,
    )


SETTLED_BECAUSE = {
    FinalLabelSource.UNANIMOUS: "its annotators agreed unanimously",
    FinalLabelSource.MAJORITY: "a majority of its annotators agreed",
    FinalLabelSource.REVIEW: "a reviewer decided it",
    FinalLabelSource.CONSENSUS_AUTO: "the machine methods agreed at triage",
    FinalLabelSource.IMPORTED: "it came with the data",
}


def settled_reason(solution: Solution) -> str:
    """Return why my annotation of this settled solution is read-only, and what was settled ("" while editable).

    A settled gold solution says so only where the dataset reveals gold results (`gold_feedback`).
    """
    if annotation_editable(solution):
        return ""
    if solution.is_gold:
        detail = " (a gold item: its label came with the data)" if solution.dataset.gold_feedback else ""
        return f"This solution's label is final{detail}: your annotation is read-only."
    if solution.status == SolutionStatus.DISCARDED:
        return "This solution was discarded (its annotators did not agree): your annotation is read-only."
    final = getattr(solution, "final_label", None)
    because = SETTLED_BECAUSE.get(final.source, "") if final is not None else ""
    detail = f" ({because})" if because else ""
    if final is None:
        return f"This solution's label is final{detail}: your annotation is read-only."
    label = "all steps correct" if final.label == -1 else f"step {final.label + 1}"
    return f"This solution's label is final{detail}: your annotation is read-only. The final label: {label}."


def _progress(solution: Solution, mode: "PageMode") -> Progress:
    previous = (getattr(solution, "previous_solution_id", None), getattr(solution, "before_previous_solution_id", None))
    return Progress(
        done_today=getattr(solution, "done_today", 0),
        left_for_me=getattr(solution, "left_for_me", 0) + (1 if mode is PageMode.NEW else 0),
        previous_solution_ids=tuple(solution_id for solution_id in previous if solution_id is not None),
    )


def _mode(solution: Solution, annotation: Annotation | None) -> PageMode:
    if annotation is not None:
        return PageMode.EDIT if annotation_editable(solution) else PageMode.READ_ONLY  # gold: see selectors.gold
    if getattr(solution, "my_claim_expires_at", None) is not None:
        return PageMode.NEW
    return PageMode.UNCLAIMED


def _digests(problem: Problem) -> set[str]:
    return {asy_digest(source) for source in asy_sources(problem.text) + asy_sources(problem.reference_solution)}


def _figures(problem: Problem) -> dict[str, str | None]:
    """Return the problem's figures by digest: one query, only for a problem that has `[asy]` blocks."""
    return problem_figures_get(problem_id=problem.pk) if _digests(problem) else {}


def annotation_page_get(*, solution_id: int, user: User, now: datetime | None = None) -> AnnotationPage:
    """Return the annotation page of a solution for a member of its dataset; NotFoundError otherwise."""
    solution = solution_for_workbench(solution_id=solution_id, user=user, now=now or timezone.now())
    dataset, problem = solution.dataset, solution.problem
    annotation = my_annotation_get(solution_id=solution.pk, user=user)
    suggestions = [] if dataset.blind else _latest_per_method(suggestions_for_workbench(solution_id=solution.pk))
    mode = _mode(solution, annotation)
    figures = _figures(problem)
    drawn = {digest: svg for digest, svg in figures.items() if svg}
    return AnnotationPage(
        solution=solution,
        dataset=dataset,
        mode=mode,
        annotation=annotation,
        claim_expires_at=getattr(solution, "my_claim_expires_at", None),
        problem_html=insert_figures(render_markdown(problem.text), drawn),
        reference_answer_html=render_answer(problem.reference_answer) if dataset.show_reference else "",
        final_answer_html=render_answer(solution.final_answer),
        reference_solution_html=(
            insert_figures(render_markdown(problem.reference_solution), drawn) if dataset.show_reference else ""
        ),
        guidelines_html=render_markdown(dataset.guidelines),
        figures_missing=any(digest not in figures for digest in _digests(problem)),
        steps=_steps(solution, suggestions),
        suggestions=[_suggestion_view(suggestion, solution.num_steps) for suggestion in suggestions],
        progress=_progress(solution, mode),
        settled_reason=settled_reason(solution) if mode is PageMode.READ_ONLY else "",
    )
