"""The annotation loop: next (claim), the annotation page (show, submit), skip, and the claim heartbeat."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from annotations.critique import error_type_entries, step_notes_as_mapping
from annotations.forms import AnnotationForm, step_note_field
from annotations.models import Annotation, Dataset
from annotations.selectors.annotation_page import AnnotationPage, PageMode, annotation_page_get, verdict_text
from annotations.selectors.progress import my_latest_solution_id
from annotations.selectors.workbench import workbench_dataset_get
from annotations.services.annotations import annotation_store
from annotations.services.claims import claim_next, claim_release, claim_renew
from annotations.services.figures import problem_figures_request
from prmweb.api.errors import http_status
from prmweb.errors import ApplicationError, ConflictError, NotFoundError

DEFAULT_HEARTBEAT_SECONDS = 60
SKIPPED_SESSION_KEY = "workbench_skipped"
MAX_SKIPPED_PER_DATASET = 500


def _skipped(request: HttpRequest, dataset_id: int) -> list[int]:
    return list(request.session.get(SKIPPED_SESSION_KEY, {}).get(str(dataset_id), []))


def _remember_skip(request: HttpRequest, dataset_id: int, solution_id: int) -> None:
    skipped = request.session.get(SKIPPED_SESSION_KEY, {})
    ids = [value for value in skipped.get(str(dataset_id), []) if value != solution_id] + [solution_id]
    skipped[str(dataset_id)] = ids[-MAX_SKIPPED_PER_DATASET:]
    request.session[SKIPPED_SESSION_KEY] = skipped


def _dataset_or_404(request: HttpRequest, slug: str) -> Dataset:
    try:
        return workbench_dataset_get(user=request.user, slug=slug)  # type: ignore[arg-type]
    except NotFoundError as error:
        raise Http404(error.message) from error


def _page_or_404(request: HttpRequest, solution_id: int) -> AnnotationPage:
    """Return the page; first queue the drawing of its problem's diagrams if nobody has yet."""
    try:
        page = annotation_page_get(solution_id=solution_id, user=request.user)  # type: ignore[arg-type]
        if page.figures_missing and problem_figures_request(problem=page.solution.problem):
            page = annotation_page_get(solution_id=solution_id, user=request.user)  # type: ignore[arg-type]
    except NotFoundError as error:
        raise Http404(error.message) from error
    return page


@login_required
@require_http_methods(["GET", "POST"])
def next_solution(request: HttpRequest, slug: str) -> HttpResponse:
    """Claim the next solution of the dataset for me and open it; a "nothing left" page when none is."""
    dataset = _dataset_or_404(request, slug)
    if request.method == "POST" and request.POST.get("reset_skipped"):
        request.session.get(SKIPPED_SESSION_KEY, {}).pop(str(dataset.pk), None)
        request.session.modified = True
    skipped = _skipped(request, dataset.pk)
    claim = claim_next(dataset=dataset, annotator=request.user, skipped_ids=skipped)  # type: ignore[arg-type]
    if claim is None:
        previous = my_latest_solution_id(user_id=request.user.pk, dataset_id=dataset.pk)  # type: ignore[arg-type]
        context = {"dataset": dataset, "skipped_count": len(skipped), "previous_solution_id": previous}
        return render(request, "annotations/nothing_left.html", context)
    return redirect("annotations:annotate", solution_id=claim.solution_id)


def _selected_step(form: AnnotationForm) -> int | None:
    """Return the step the form has marked (what the annotator chose, or their stored label), if any."""
    try:
        return int(form["earliest_error_step"].value())
    except (TypeError, ValueError):
        return None


def _render_page(
    request: HttpRequest, page: AnnotationPage, form: AnnotationForm, status: int = 200, *, claim_lost: str = ""
) -> HttpResponse:
    context = {
        "page": page,
        "form": form,
        "steps": [(step, form[step_note_field(step.index)]) for step in page.steps],
        "error_types": error_type_entries(page.dataset.error_types),
        "selected_step": _selected_step(form),
        "editable": page.editable and not claim_lost,
        "claim_lost": claim_lost,
        "heartbeat_seconds": getattr(settings, "WORKBENCH_HEARTBEAT_SECONDS", DEFAULT_HEARTBEAT_SECONDS),
    }
    return render(request, "annotations/annotate.html", context, status=status)


def _initial(page: AnnotationPage) -> dict[str, object]:
    annotation = page.annotation
    if annotation is None:
        return {}
    return {
        "earliest_error_step": annotation.earliest_error_step,
        "rationale": annotation.rationale,
        "error_type": annotation.error_type or "",
        "flag_ambiguous": annotation.flag_ambiguous,
        "flag_reference_wrong": annotation.flag_reference_wrong,
        "flag_unsure": annotation.flag_unsure,
        "confirm_all_correct": annotation.earliest_error_step == -1 and page.final_answer_wrong,
        **{step_note_field(step): note for step, note in step_notes_as_mapping(annotation.step_notes).items()},
    }


def _add_errors(form: AnnotationForm, error: ApplicationError) -> None:
    """Show a service error on the form: under the fields it names, else as the page's error message."""
    named = {field: texts for field, texts in error.errors.items() if field in form.fields}
    for field, field_messages in named.items():
        for message in field_messages:
            form.add_error(field, message)
    if not named:
        form.add_error(None, error.message)


@login_required
@require_http_methods(["GET", "POST"])
def annotate(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Show a solution I hold (or annotated) with its steps; on POST store my label and go on in the queue.

    A POST without my claim on the solution is refused (409) and shows what I posted, read-only, with the
    way on; a change of my earlier annotation needs no claim and returns to where I was in the queue.
    A POST goes straight to the service (the page is read only to show a refusal), so a submit costs the
    service's statements and the session's, nothing more.
    """
    if request.method == "POST":
        return _submit(request, solution_id)
    page = _page_or_404(request, solution_id)
    if page.mode is PageMode.UNCLAIMED:
        messages.warning(request, "That solution is not assigned to you. Here is the next one for you.")
        return redirect("annotations:next", slug=page.dataset.slug)
    form = AnnotationForm(initial=_initial(page), num_steps=page.solution.num_steps)
    return _render_page(request, page, form)


def _store(request: HttpRequest, solution_id: int, form: AnnotationForm) -> tuple[Annotation, bool]:
    """Store the form's label through the service; an unknown solution is a 404, other refusals propagate."""
    try:
        return annotation_store(
            solution_id=solution_id,
            annotator=request.user,  # type: ignore[arg-type]
            data=form.to_input(),
        )
    except NotFoundError as error:
        raise Http404(error.message) from error


def _submit(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Store my label when the post is valid as it stands; else answer as `_submit_on_page` does."""
    form = AnnotationForm(request.POST, num_steps=None)  # the service checks steps against the solution
    if not form.is_valid():
        return _submit_on_page(request, solution_id)
    try:
        annotation, created = _store(request, solution_id, form)
    except ApplicationError:
        return _submit_on_page(request, solution_id)  # refused: answer with the page, as it tells why
    return _stored(request, annotation, created=created)


def _stored(request: HttpRequest, annotation: Annotation, *, created: bool) -> HttpResponse:
    """Say what was stored and go on in the queue."""
    verdict = verdict_text(annotation.earliest_error_step).lower()
    if created:
        messages.success(request, f"Saved: {verdict}.")
    else:
        text = f"Annotation of solution {annotation.solution_id} changed: {verdict}. Back to your queue."
        messages.success(request, text)
    return redirect("annotations:next", slug=annotation.solution.dataset.slug)


def _submit_on_page(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Answer a submit that was refused or invalid: read the page, check the form against it, say why."""
    page = _page_or_404(request, solution_id)
    if page.mode is PageMode.READ_ONLY:
        messages.error(request, page.settled_reason)
        return redirect("annotations:annotate", solution_id=solution_id)
    form = AnnotationForm(request.POST, num_steps=page.solution.num_steps)
    if not form.is_valid():
        return _render_page(request, page, form, status=400)
    try:
        annotation, created = _store(request, solution_id, form)
    except ApplicationError as error:
        if isinstance(error, ConflictError) and "claim" in error.errors:
            return _render_page(request, page, form, status=http_status(error), claim_lost=error.message)
        _add_errors(form, error)
        return _render_page(request, page, form, status=http_status(error))
    return _stored(request, annotation, created=created)


@login_required
@require_POST
def skip(request: HttpRequest, solution_id: int) -> HttpResponse:
    """Release my claim on the solution (it goes back to the queue) and open the next one."""
    page = _page_or_404(request, solution_id)
    claim_release(solution_id=solution_id, annotator=request.user)  # type: ignore[arg-type]
    _remember_skip(request, page.dataset.pk, solution_id)
    messages.info(request, f"Skipped solution {solution_id}; it went back to the queue.")
    return redirect("annotations:next", slug=page.dataset.slug)


@login_required
@require_POST
def heartbeat(request: HttpRequest, solution_id: int) -> JsonResponse:
    """Renew my claim on the solution (the page calls this every minute); 409 when it is lost."""
    try:
        claim = claim_renew(solution_id=solution_id, annotator=request.user)  # type: ignore[arg-type]
    except ApplicationError as error:
        return JsonResponse({"message": error.message, "errors": error.errors}, status=http_status(error))
    return JsonResponse({"solution": solution_id, "expires_at": claim.expires_at.isoformat()})
