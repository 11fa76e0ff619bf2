"""One application error family, mapped by one DRF exception handler to {"message", "errors"}."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from rest_framework import status
from rest_framework.exceptions import ParseError, UnsupportedMediaType, ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain error a client can act on; `errors` maps field paths to messages."""

    status_code = 400

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        if status_code is not None:
            self.status_code = status_code


class NotFoundError(ApplicationError):
    status_code = 404


class ConflictError(ApplicationError):
    status_code = 409


class PermissionDeniedError(ApplicationError):
    status_code = 403


class ServiceUnavailableError(ApplicationError):
    """A service the request needs (the task queue) cannot be reached; nothing was done. Try again later."""

    status_code = 503


def body_too_large_error(size: int | None, limit: int) -> ApplicationError:
    """Return the 413 for a request body over DATA_UPLOAD_MAX_MEMORY_SIZE (size None: not declared)."""
    has = f"{size} bytes" if size is not None else "more than that"
    message = f"The request body is too large: the limit is {limit} bytes (it has {has}). Send smaller batches."
    return ApplicationError(message, errors={"body": [message]}, status_code=413)


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
        return Response({"message": exc.message, "errors": exc.errors}, status=exc.status_code, headers=headers)
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
    elif isinstance(exc, ParseError | UnsupportedMediaType):  # the body as a whole: unreadable, or not JSON
        response.data = {"message": str(exc.detail), "errors": {"body": [str(exc.detail)]}}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else response.data
        response.data = {"message": str(detail), "errors": {}}
    return response
