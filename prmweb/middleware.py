"""Cross-cutting HTTP concerns: request ids, a clean 503 when the database is away, CSP, unreadable requests,
API paths without their trailing slash."""

import logging
import re
import uuid
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.http import escape_leading_slashes

from prmweb.logging import request_id_var

logger = logging.getLogger(__name__)

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


class RequestIdMiddleware:
    """Give each request an id (or keep a sane incoming X-Request-ID) for logs and the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response["X-Request-ID"] = request_id
        return response


class DatabaseUnavailableMiddleware:
    """Answer 503 instead of a traceback while the database cannot be reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError):
            return self._unavailable()

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OperationalError | InterfaceError):
            return self._unavailable()
        return None

    @staticmethod
    def _unavailable() -> HttpResponse:
        logger.warning("database unavailable", exc_info=True)
        # Drop broken connections now so the next request reconnects without a restart.
        close_old_connections()
        response = JsonResponse(
            {"message": "The database is unavailable; try again shortly.", "errors": {}}, status=503
        )
        response["Retry-After"] = "5"
        return response


class ContentSecurityPolicyMiddleware:
    """Send a Content-Security-Policy header: stored text may be shown, never executed."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)
        return response


class QueryStringGuardMiddleware:
    """Refuse query parameters the database cannot hold (NUL characters) with a 400 naming them.

    PostgreSQL rejects NUL in text, so a filter like `?dataset=%00` would otherwise end as a 500
    wherever a view passes a parameter into a query.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                field = name.replace("\x00", "\\x00")
                message = "This parameter contains a NUL character."
                return JsonResponse(
                    {"message": f"Invalid input. {field}: {message}", "errors": {field: [message]}}, status=400
                )
        return self.get_response(request)


class LengthRequiredMiddleware:
    """Refuse a request body sent without a Content-Length (chunked transfer encoding) with a 411.

    Django reads a body by its Content-Length; a chunked body (which gunicorn passes on with a
    Transfer-Encoding header and no length) would be read as empty and, e.g., create an empty object.
    """

    MESSAGE = (
        "Send the request body with a Content-Length header: chunked transfer encoding is not supported "
        "(the body was not read)."
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("HTTP_TRANSFER_ENCODING", "").strip():
            return JsonResponse({"message": self.MESSAGE, "errors": {"body": [self.MESSAGE]}}, status=411)
        return self.get_response(request)


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's, except that an API path missing its trailing slash gets a 308 with a JSON body.

    Django answers 301, which clients follow as a GET without the body: a POST to `/api/v1/.../solutions`
    would then read the list and look successful while storing nothing. 308 keeps the method and body.
    """

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if (
            response.status_code == 404
            and request.path_info.startswith("/api/")
            and self.should_redirect_with_slash(request)
        ):
            target = escape_leading_slashes(request.get_full_path(force_append_slash=True))
            message = (
                f"API paths end with a slash: use {target} (this answer is a 308 redirect to it, which keeps the "
                "method and the body)."
            )
            redirect = JsonResponse({"message": message, "errors": {"path": [message]}}, status=308)
            redirect["Location"] = target
            return redirect
        return super().process_response(request, response)
