"""Reads for scoring: solutions as method inputs, suggestions still to do, scoring runs a user may see."""

from collections.abc import Iterable, Sequence
from datetime import timedelta

from django.db.models import Q, QuerySet
from django.utils import timezone

from annotations.models import Dataset, MembershipRole, Solution, SolutionStatus, Suggestion, SuggestionStatus
from annotations.selectors.datasets import AnyUser, user_id_of, user_is_staff
from prmweb.errors import NotFoundError
from scoring.methods.base import MethodResult, SolutionTask
from scoring.models import ScoringRun

FINAL_STATUSES = (SuggestionStatus.SUCCEEDED, SuggestionStatus.SKIPPED, SuggestionStatus.FAILED)
DONE_STATUSES = (SuggestionStatus.SUCCEEDED, SuggestionStatus.SKIPPED)


def _with_steps() -> QuerySet[Solution]:
    """Return the solutions that have steps: not those waiting for the judge to re-split their responses."""
    return Solution.objects.exclude(status=SolutionStatus.WAITING)


def solutions_for_scoring(solution_ids: Iterable[int]) -> list[Solution]:
    """Return the existing solutions among the ids that have steps, with their problems, in id order (one query)."""
    return list(_with_steps().filter(pk__in=list(solution_ids)).select_related("problem").order_by("pk"))


def solution_task(solution: Solution) -> SolutionTask:
    """Return the plain method input for one solution (its problem must be loaded)."""
    return SolutionTask(
        solution_id=solution.pk,
        question=solution.problem.text,
        steps=tuple(solution.steps),
        reference_answer=solution.problem.reference_answer or None,
    )


def suggestions_by_solution(*, method: str, config_key: str, solution_ids: Sequence[int]) -> dict[int, Suggestion]:
    """Return {solution id: suggestion} for one method configuration (one query)."""
    rows = Suggestion.objects.filter(method=method, config_key=config_key, solution_id__in=list(solution_ids))
    return {row.solution_id: row for row in rows}


def solution_ids_to_score(*, dataset: Dataset, method: str, config_key: str, force: bool) -> QuerySet[Solution, int]:
    """Return ids of the dataset's solutions that need this configuration run (all with steps, with force)."""
    solutions = _with_steps().filter(dataset=dataset).order_by("pk")
    if not force:
        done = Suggestion.objects.filter(method=method, config_key=config_key, status__in=DONE_STATUSES)
        solutions = solutions.exclude(pk__in=done.values("solution_id"))
    return solutions.values_list("pk", flat=True)


def solution_ids_missing(*, dataset: Dataset, method: str, config_key: str, stuck_after_seconds: int) -> list[int]:
    """Return ids of solutions with steps and no suggestion for this configuration, or one queued/running too long."""
    stale = timezone.now() - timedelta(seconds=stuck_after_seconds)
    present = Suggestion.objects.filter(method=method, config_key=config_key).filter(
        Q(status__in=FINAL_STATUSES) | Q(updated_at__gte=stale)
    )
    return list(
        _with_steps().filter(dataset=dataset).exclude(pk__in=present.values("solution_id")).values_list("pk", flat=True)
    )


def latest_results(*, method: str, solution_ids: Sequence[int]) -> dict[int, tuple[Suggestion, MethodResult]]:
    """Return each solution's most recently updated finished suggestion of a method, as a MethodResult."""
    rows = (
        Suggestion.objects.filter(method=method, solution_id__in=list(solution_ids), status__in=FINAL_STATUSES)
        .order_by("solution_id", "-updated_at", "-pk")
        .only("pk", "solution_id", "status", "label", "error", "config_key", "updated_at")
    )
    latest: dict[int, tuple[Suggestion, MethodResult]] = {}
    for row in rows:
        if row.solution_id not in latest:
            result = MethodResult(solution_id=row.solution_id, status=row.status, label=row.label, error=row.error)  # type: ignore[arg-type]
            latest[row.solution_id] = (row, result)
    return latest


def scoring_run_list(*, user: AnyUser, dataset_slug: str | None = None) -> QuerySet[ScoringRun]:
    """Return the scoring runs of the datasets the user manages (staff: all), newest first."""
    runs = ScoringRun.objects.select_related("dataset", "created_by").order_by("-created_at", "-pk")
    if not user_is_staff(user):
        runs = runs.filter(
            dataset__memberships__user_id=user_id_of(user), dataset__memberships__role=MembershipRole.MANAGER
        )
    if dataset_slug:
        runs = runs.filter(dataset__slug=dataset_slug)
    return runs


def scoring_run_get(*, run_id: int, user: AnyUser) -> ScoringRun:
    """Return one visible scoring run; NotFoundError when it does not exist or is not visible."""
    run = scoring_run_list(user=user).filter(pk=run_id).first()
    if run is None:
        raise NotFoundError(
            f"Scoring run {run_id} not found.", errors={"id": ["No scoring run with this id is visible to you."]}
        )
    return run
