"""Project-level views: health."""

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:
        return False


def _broker_ok() -> bool | None:
    if not settings.CELERY_BROKER_URL:
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
