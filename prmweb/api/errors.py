"""The API's error responses: one body (`{"message", "errors"}`) and one mapping of error kinds to statuses."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, ParseError, UnsupportedMediaType, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

from prmweb.errors import (
    ApplicationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ServiceUnavailableError,
    TooLargeError,
)

logger = logging.getLogger(__name__)

HTTP_STATUS: dict[type[ApplicationError], int] = {
    NotFoundError: status.HTTP_404_NOT_FOUND,
    ConflictError: status.HTTP_409_CONFLICT,
    PermissionDeniedError: status.HTTP_403_FORBIDDEN,
    TooLargeError: status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    ServiceUnavailableError: status.HTTP_503_SERVICE_UNAVAILABLE,
}
ERROR_DESCRIPTIONS = {
    400: "Invalid input; `errors` names each field (by item index for a list).",
    401: "No valid token or session.",
    403: "Authenticated but not allowed.",
    404: "Not found, or a dataset you are not a member of.",
    409: "Conflicts with the current state; `errors` names the field.",
    413: "Request body or batch over its limit.",
    503: "A service the request needs (the task queue) is unavailable; nothing was done. Retry later.",
}


def http_status(error: ApplicationError) -> int:
    """Return the HTTP status of an application error (400 unless its kind maps to another)."""
    for kind in type(error).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return status.HTTP_400_BAD_REQUEST


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence for people and the problems by field (by item index for a bulk)."""

    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Return the documented error responses for `extend_schema(responses=...)`."""
    return {code: OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]) for code in codes}


def body_too_large_error(size: int | None, limit: int) -> TooLargeError:
    """Return the 413 for a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (size None: not declared)."""
    has = f"{size} bytes" if size is not None else "more than that"
    message = f"The request body is too large: the limit is {limit} bytes (it has {has}). Send smaller batches."
    return TooLargeError(message, errors={"body": [message]})


def _declared_length(context: dict[str, Any]) -> int | None:
    meta = getattr(context.get("request"), "META", {})
    try:
        return int(meta["CONTENT_LENGTH"])
    except (KeyError, TypeError, ValueError):
        return None


def _first_message(errors: Any, path: str = "") -> str:
    """Return "field: message" for the first error in a nested DRF error structure."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            sub = f"{path}.{key}" if path else str(key)
            if key == "non_field_errors":
                sub = path
            return _first_message(value, sub)
    if isinstance(errors, list) and errors:
        first = errors[0]
        if isinstance(first, dict | list):
            return _first_message(first, path)
        return f"{path}: {first}" if path else str(first)
    return f"{path}: {errors}" if path else str(errors)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Render every API error as {"message": ..., "errors": ...}; unknown errors are logged 500s."""
    if isinstance(exc, RequestDataTooBig):
        # DRF reads `request.body` for JSON; Django refuses, from CONTENT_LENGTH alone, a body over the limit.
        exc = body_too_large_error(_declared_length(context), settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
    if isinstance(exc, ApplicationError):
        headers = {"Retry-After": "30"} if isinstance(exc, ServiceUnavailableError) else None
        return Response({"message": exc.message, "errors": exc.errors}, status=http_status(exc), headers=headers)
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable during API call", exc_info=True)
        return Response(
            {"message": "The database is unavailable; try again shortly.", "errors": {}},
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    response = exception_handler(exc, context)
    if response is None:
        logger.exception("unhandled API error", exc_info=exc)
        return Response(
            {"message": "Internal server error.", "errors": {}}, status=status.HTTP_500_INTERNAL_SERVER_ERROR
        )
    if isinstance(exc, ValidationError):
        detail = response.data
        response.data = {"message": f"Invalid input. {_first_message(detail)}", "errors": detail}
    elif isinstance(exc, NotAuthenticated):
        response.data = _not_authenticated_body(context)
    elif isinstance(exc, ParseError | UnsupportedMediaType):  # the body as a whole: unreadable, or not JSON
        response.data = {"message": str(exc.detail), "errors": {"body": [str(exc.detail)]}}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"message": str(detail), "errors": {}}
    return response


TOKEN_HINT = (
    "Send the header `Authorization: Token <key>` (a key from `manage.py drf_create_token <username>`), or log in."
)


def _not_authenticated_body(context: dict[str, Any]) -> dict[str, Any]:
    """Name the header a token goes in, and what the request sent instead when it looks like a key."""
    request = context.get("request")
    meta = getattr(request, "META", {})
    sent = meta.get("HTTP_AUTHORIZATION", "")
    message = "Authentication credentials were not provided."
    if sent:
        scheme = sent.split(" ", 1)[0] if " " in sent.strip() else "(none)"
        message = f"{message} The Authorization header's scheme is {scheme[:20]!r}; it must be 'Token'."
    elif meta.get("HTTP_X_API_KEY") or "token" in getattr(request, "query_params", {}):
        message = f"{message} A key is read only from the Authorization header, never from X-Api-Key or ?token=."
    return {"message": message, "errors": {"Authorization": [TOKEN_HINT]}}
