"""Review pages: the datasets I review, a dataset's review queue, and one solution to decide or reopen."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from annotations.models import SolutionStatus
from annotations.selectors.review import (
    REVIEW_STATUSES,
    datasets_for_reviewer,
    label_summary,
    label_text,
    review_counts_by_dataset,
    review_page_get,
    review_queue_counts,
    review_queue_list,
)
from annotations.services.review import REOPEN_TARGETS, review_decide, review_reopen
from annotations.views.reviewer_access import reviewer_access
from prmweb.errors import ApplicationError, NotFoundError

QUEUE_PAGE_SIZE = 50
MAX_INDEX_DATASETS = 200


@login_required
@require_GET
def review_index(request: HttpRequest) -> HttpResponse:
    """List the datasets I review or manage, with how many solutions wait for review in each."""
    datasets = list(datasets_for_reviewer(user=request.user)[:MAX_INDEX_DATASETS])
    counts = review_counts_by_dataset(dataset_ids=[dataset.pk for dataset in datasets])
    rows = [(dataset, counts.get(dataset.pk, {})) for dataset in datasets]
    return render(request, "annotations/review/index.html", {"rows": rows})


@login_required
@require_GET
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """List a dataset's solutions in one status (needs review by default), 50 per page, oldest first."""
    access = reviewer_access(request, slug)
    status = request.GET.get("status", SolutionStatus.NEEDS_REVIEW)
    try:
        solutions = review_queue_list(dataset=access.dataset, status=status)
    except NotFoundError as error:
        raise Http404(error.message) from error
    page = Paginator(solutions, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {"solution": solution, "labels": label_summary(solution), "final": getattr(solution, "final_label", None)}
        for solution in page.object_list
    ]
    counts = review_queue_counts(dataset=access.dataset)
    context = {
        "dataset": access.dataset,
        "status": status,
        "statuses": [(value, SolutionStatus(value).label, counts[value]) for value in REVIEW_STATUSES],
        "page": page,
        "rows": rows,
    }
    return render(request, "annotations/review/queue.html", context)


def _parse_label(raw: str | None, num_steps: int) -> int:
    """Return the posted label (-1 or a 0-based step index); refuse anything else in the page's own words.

    The page numbers steps from 1, so its message does too; `review_decide` keeps the 0-based message
    that API clients and scripts get.
    """
    try:
        label = int(raw or "")
    except ValueError:
        label = None
    if label is None or not -1 <= label < num_steps:
        message = f"Pick the earliest wrong step (Step 1 to Step {num_steps}) or mark all steps correct."
        raise ApplicationError(message, errors={"label": [message]})
    return label


def _parse_annotation_id(raw: str | None) -> int | None:
    """Return the posted `explanation_annotation` (the id of the annotation whose explanation is taken), if any."""
    if not (raw or "").strip():
        return None
    try:
        return int(raw or "")
    except ValueError:
        message = "Pick one of the annotators' explanations."
        raise ApplicationError(message, errors={"explanation_annotation": [message]}) from None


def _decide(request: HttpRequest, solution_id: int, num_steps: int) -> str:
    label = _parse_label(request.POST.get("label"), num_steps)
    review_decide(
        solution_id=solution_id,
        reviewer=request.user,  # type: ignore[arg-type]
        label=label,
        note=request.POST.get("note", ""),
        explanation=request.POST.get("explanation", ""),
        explanation_annotation_id=_parse_annotation_id(request.POST.get("explanation_annotation")),
        error_type=request.POST.get("error_type", "").strip() or None,
    )
    return f"Solution {solution_id}: final label {label_text(label)} (review)."


def _reopen(request: HttpRequest, solution_id: int) -> str:
    target = request.POST.get("target", "")
    review_reopen(
        solution_id=solution_id,
        reviewer=request.user,  # type: ignore[arg-type]
        target=target,
        reason=request.POST.get("reason", ""),
    )
    where = "back to annotators" if target == SolutionStatus.OPEN else "back to review"
    return f"Solution {solution_id} reopened: {where}."


def _error_lines(error: ApplicationError | None) -> list[str]:
    """Return what the page says about a refused form: the message, then each field's problem not already said."""
    if error is None:
        return []
    lines = [error.message]
    for field, problems in (error.errors or {}).items():
        lines.extend(f"{field}: {problem}" for problem in problems if problem != error.message)
    return lines


def _render(request: HttpRequest, solution_id: int, *, error: ApplicationError | None = None) -> HttpResponse:
    page = review_page_get(solution_id=solution_id)
    context = {
        "page": page,
        "error_lines": _error_lines(error),
        "posted": request.POST if error else {},
        "reopen_targets": [(value, SolutionStatus(value).label) for value in REOPEN_TARGETS],
    }
    return render(request, "annotations/review/solution.html", context, status=error.status_code if error else 200)


@login_required
@require_http_methods(["GET", "POST"])
def review_solution(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Show one solution with every annotation and suggestion; POST decides its label or reopens it."""
    try:
        page = review_page_get(solution_id=solution_id)
    except NotFoundError as error:
        raise Http404(error.message) from error
    reviewer_access(request, page.dataset.slug)
    if request.method == "GET":
        return _render(request, solution_id)
    action = request.POST.get("action")
    try:
        if action == "decide":
            done = _decide(request, solution_id, page.solution.num_steps)
            next_id = page.next_solution_id
        elif action == "reopen":
            done = _reopen(request, solution_id)
            next_id = None
        else:
            raise ApplicationError("Unknown action.", errors={"action": ["Must be decide or reopen."]})
    except ApplicationError as error:
        return _render(request, solution_id, error=error)
    messages.success(request, done)
    if next_id is not None:
        return redirect("annotations:review_solution", solution_id=next_id)
    return redirect("annotations:review_solution", solution_id=solution_id)
