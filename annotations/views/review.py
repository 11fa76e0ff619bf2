"""Review pages: the datasets I review, a dataset's review queue, and one solution to decide or reopen."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from annotations.models import SolutionStatus
from annotations.selectors.review import (
    datasets_for_reviewer,
    review_counts_by_dataset,
    review_page_get,
    review_queue_counts,
)
from annotations.selectors.review_queue import (
    DEFAULT_SORT,
    QUEUE_SORTS,
    REVIEW_STATUSES,
    check_queue_params,
    label_text,
    next_needing_review,
    queue_rows,
    review_queue_list,
)
from annotations.services.review import REOPEN_TARGETS, review_decide, review_reopen
from annotations.views.reviewer_access import reviewer_access
from prmweb.api.errors import http_status
from prmweb.errors import ApplicationError, NotFoundError

QUEUE_PAGE_SIZE = 50
MAX_INDEX_DATASETS = 200
OWN_EXPLANATION = "own"  # the reviewer's choice "my own explanation" (the `explanation` box)


@login_required
@require_GET
def review_index(request: HttpRequest) -> HttpResponse:
    """List the datasets I review or manage, with how many solutions wait for review in each."""
    datasets = list(datasets_for_reviewer(user=request.user)[:MAX_INDEX_DATASETS])
    counts = review_counts_by_dataset(dataset_ids=[dataset.pk for dataset in datasets])
    rows = [(dataset, counts.get(dataset.pk, {})) for dataset in datasets]
    return render(request, "annotations/review/index.html", {"rows": rows})


def _solution_url(solution_id: int, sort: str) -> str:
    """Return the review page's address, keeping a sort other than the default."""
    url = reverse("annotations:review_solution", args=[solution_id])
    return url if sort == DEFAULT_SORT else f"{url}?{urlencode({'sort': sort})}"


@login_required
@require_GET
def review_queue(request: HttpRequest, slug: str) -> HttpResponse:
    """List a dataset's solutions in one status (needs review by default), 50 per page, by age or by spread."""
    access = reviewer_access(request, slug)
    status = request.GET.get("status", SolutionStatus.NEEDS_REVIEW)
    sort = request.GET.get("sort", DEFAULT_SORT)
    try:
        solutions = review_queue_list(dataset=access.dataset, status=status, sort=sort)
    except NotFoundError as error:
        raise Http404(error.message) from error
    page = Paginator(solutions, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = review_queue_counts(dataset=access.dataset)
    first_id = next_needing_review(dataset_id=access.dataset.pk, sort=sort)
    context = {
        "dataset": access.dataset,
        "status": status,
        "sort": sort,
        "statuses": [(value, SolutionStatus(value).label, counts[value]) for value in REVIEW_STATUSES],
        "sorts": [(value, name) for value, (name, _ordering) in QUEUE_SORTS.items()],
        "page": page,
        "rows": queue_rows(page.object_list),
        "sort_query": "" if sort == DEFAULT_SORT else urlencode({"sort": sort}),
        "first_url": _solution_url(first_id, sort) if first_id is not None else "",
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
    """Return the posted `explanation_annotation` (the id of the annotation whose explanation is taken), if any.

    Empty means none picked; `own` means the reviewer's own explanation, which must then be written.
    """
    if not (raw or "").strip() or raw == OWN_EXPLANATION:
        return None
    try:
        return int(raw or "")
    except ValueError:
        message = "Pick one of the annotators' explanations."
        raise ApplicationError(message, errors={"explanation_annotation": [message]}) from None


def _explanation(request: HttpRequest) -> str:
    """Return the reviewer's own explanation; refuse "my own" chosen with nothing written."""
    explanation = request.POST.get("explanation", "")
    if request.POST.get("explanation_annotation") == OWN_EXPLANATION and not explanation.strip():
        message = "Write your explanation, or pick an annotator's."
        raise ApplicationError(message, errors={"explanation": [message]})
    return explanation


def _decide(request: HttpRequest, solution_id: int, num_steps: int) -> str:
    label = _parse_label(request.POST.get("label"), num_steps)
    review_decide(
        solution_id=solution_id,
        reviewer=request.user,  # type: ignore[arg-type]
        label=label,
        note=request.POST.get("note", ""),
        explanation=_explanation(request),
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


def _chosen_text(raw: str | None, num_steps: int) -> str:
    """Return what the decision bar says is chosen: a refused form keeps the reviewer's valid choice."""
    try:
        return label_text(_parse_label(raw, num_steps)).capitalize()
    except ApplicationError:
        return "none chosen"


def _render(
    request: HttpRequest, solution_id: int, sort: str, *, error: ApplicationError | None = None
) -> HttpResponse:
    page = review_page_get(solution_id=solution_id, sort=sort)
    context = {
        "page": page,
        "sort": sort,
        "next_url": _solution_url(page.next_solution_id, sort) if page.next_solution_id is not None else "",
        "error_lines": _error_lines(error),
        "error_fields": set(error.errors or {}) if error else set(),  # the boxes to mark as refused
        "posted": request.POST if error else {},
        "chosen_text": _chosen_text(request.POST.get("label") if error else None, page.solution.num_steps),
        "reopen_targets": [(value, SolutionStatus(value).label) for value in REOPEN_TARGETS],
    }
    return render(request, "annotations/review/solution.html", context, status=http_status(error) if error else 200)


def _sort_or_404(request: HttpRequest) -> str:
    sort = request.GET.get("sort", DEFAULT_SORT)
    try:
        check_queue_params(status=SolutionStatus.NEEDS_REVIEW, sort=sort)
    except NotFoundError as error:
        raise Http404(error.message) from error
    return sort


@login_required
@require_http_methods(["GET", "POST"])
def review_solution(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Show one solution with every annotation and suggestion; POST decides its label or reopens it.

    After a decision the next solution needing review opens, in the queue order given by `?sort=`.
    """
    sort = _sort_or_404(request)
    try:
        page = review_page_get(solution_id=solution_id, sort=sort)
    except NotFoundError as error:
        raise Http404(error.message) from error
    reviewer_access(request, page.dataset.slug)
    if request.method == "GET":
        return _render(request, solution_id, sort)
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
        return _render(request, solution_id, sort, error=error)
    messages.success(request, done)
    return HttpResponseRedirect(_solution_url(next_id if next_id is not None else solution_id, sort))
