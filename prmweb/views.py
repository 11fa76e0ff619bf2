"""Project-level views: health, and the error pages (the site's own, or JSON under /api/)."""

from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotFound,
    HttpResponseServerError,
    JsonResponse,
)
from django.template import loader


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # embedded default: no broker to check
    try:
        from prmweb.celery import app

        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


def health(request: HttpRequest) -> JsonResponse:
    """Report whether the database and (if configured) the broker answer; 503 when one does not."""
    database = _database_ok()
    broker = _broker_ok()
    healthy = database and broker is not False
    body = {"status": "ok" if healthy else "unavailable", "database": database, "broker": broker}
    return JsonResponse(body, status=200 if healthy else 503)


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def _detail(exception: Exception | None) -> str:
    """Return the message an error was raised with, when it has one meant for people (not a resolver's dict)."""
    message = exception.args[0] if exception is not None and exception.args else ""
    return message if isinstance(message, str) else ""


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 404 in the API's error shape under /api/, else with the site's page (header and a way back)."""
    if _wants_json(request):
        why = "No API endpoint has this path; ids in paths are whole numbers (the endpoints: /api/docs/)."
        return JsonResponse({"message": f"Not found: {request.path}", "errors": {"path": [why]}}, status=404)
    context = {"request_path": quote(request.path), "detail": _detail(exception)}
    return HttpResponseNotFound(loader.render_to_string("404.html", context, request))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 403 in the API's error shape under /api/, else with the site's page saying why."""
    detail = _detail(exception)
    if _wants_json(request):
        return JsonResponse({"message": detail or "Permission denied.", "errors": {}}, status=403)
    return HttpResponseForbidden(loader.render_to_string("403.html", {"detail": detail}, request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """Answer a refused form (expired page, cookies off) with the site's 403 page and what to do."""
    if _wants_json(request):
        return JsonResponse({"message": f"CSRF check failed: {reason}", "errors": {}}, status=403)
    context = {
        "title": "This form has expired",
        "detail": "The page was open too long, you logged in or out in another tab, or cookies are off.",
        "hint": "Go back, reload the page and send the form again (copy any long text first).",
        "reason": f"CSRF check failed: {reason}" if reason else "CSRF check failed.",
    }
    return HttpResponseForbidden(loader.render_to_string("403.html", context, request))


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer 500 in the API's error shape under /api/ (never a traceback), else with the site's page.

    The page is rendered without the request or any context processor, so it needs no database.
    """
    if _wants_json(request):
        return JsonResponse({"message": "Internal server error.", "errors": {}}, status=500)
    return HttpResponseServerError(loader.get_template("500.html").render())


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 400 in the API's error shape under /api/ (e.g. a body over the size limit), else the site's page."""
    if _wants_json(request):
        return JsonResponse({"message": "Bad request.", "errors": {}}, status=400)
    return HttpResponseBadRequest(loader.get_template("400.html").render())
