"""Authentication backend that refuses password guessing (every login form, the admin's included)."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from annotations.selectors.datasets import session_user_get
from annotations.services.login_attempts import login_failure_record, login_failures_clear, login_is_locked


def _address(request: HttpRequest | None) -> str:
    return str(request.META.get("REMOTE_ADDR", "")) if request is not None else ""


class ThrottledModelBackend(ModelBackend):
    """Django's ModelBackend with a failure counter per username and client address.

    While a username+address is locked (`annotations.services.login_attempts`), authentication is refused
    without checking the password; each wrong password counts one failure; a success clears the count.
    The session's user is loaded with `may_review` (see `session_user_get`) for the page header.
    """

    def get_user(self, user_id: int) -> User | None:
        user = session_user_get(user_id=user_id)
        return user if user is not None and self.user_can_authenticate(user) else None

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if not username or password is None:
            return None
        address = _address(request)
        if login_is_locked(username=username, address=address):
            raise PermissionDenied("Too many failed login attempts.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failure_record(username=username, address=address)
        else:
            login_failures_clear(username=username, address=address)
        return user
