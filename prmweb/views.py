"""Project-level views: health, and error pages that answer JSON under /api/."""

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import bad_request as default_bad_request
from django.views.defaults import page_not_found
from django.views.defaults import server_error as default_server_error


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


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 404 in the API's error shape under /api/, else with the site's page."""
    if _wants_json(request):
        return JsonResponse({"message": "Not found.", "errors": {}}, status=404)
    return page_not_found(request, exception or Http404())


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer 500 in the API's error shape under /api/ (never a traceback), else with the site's page."""
    if _wants_json(request):
        return JsonResponse({"message": "Internal server error.", "errors": {}}, status=500)
    return default_server_error(request)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Answer 400 in the API's error shape under /api/ (e.g. a body over the size limit)."""
    if _wants_json(request):
        return JsonResponse({"message": "Bad request.", "errors": {}}, status=400)
    return default_bad_request(request, exception or Http404())
