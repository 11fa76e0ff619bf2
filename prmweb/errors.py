"""One application error family: services raise these, interfaces map each kind to a response.

The errors carry no HTTP status: `prmweb.api.errors.http_status` maps the kind to one (400, 403, 404,
409, 413) for the API's exception handler and the browser views alike.
"""

from typing import Any


class ApplicationError(Exception):
    """A domain error a client can act on; `errors` maps field paths to messages."""

    def __init__(self, message: str, *, errors: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFoundError(ApplicationError):
    """What was asked for does not exist, or the caller may not know that it does."""


class ConflictError(ApplicationError):
    """The request is valid but conflicts with the current state (a final label, a lost claim, ...)."""


class PermissionDeniedError(ApplicationError):
    """The caller is known but not allowed to do this."""


class TooLargeError(ApplicationError):
    """A request body or a batch is over its limit."""


class ServiceUnavailableError(ApplicationError):
    """A service the request needs (the task queue) cannot be reached; nothing was done. Try again later."""
