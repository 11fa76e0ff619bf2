"""Throttle password guessing: count failed logins per username and client address in the cache.

After `LOGIN_FAILURE_LIMIT` failures (default 5) within `LOGIN_FAILURE_WINDOW_SECONDS` (default 900), further
attempts for that username from that address are refused without checking the password, until the window
has passed since the first failure. A successful login clears the counter. With several web processes,
point `CACHE_URL` at a shared cache (Redis), or each process counts on its own.
"""

import hashlib

from django.conf import settings
from django.core.cache import cache

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_SECONDS = 15 * 60


def login_failure_limit() -> int:
    """Return how many failures are allowed per window (setting `LOGIN_FAILURE_LIMIT`)."""
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LIMIT))


def login_failure_window_seconds() -> int:
    """Return the length of the counting window in seconds (setting `LOGIN_FAILURE_WINDOW_SECONDS`)."""
    return int(getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.strip().casefold()}\x00{address}".encode()).hexdigest()
    return f"prmweb:login-failures:{digest}"


def login_is_locked(*, username: str, address: str) -> bool:
    """Return whether this username may not try to log in from this address now."""
    return int(cache.get(_key(username, address), 0)) >= login_failure_limit()


def login_failure_record(*, username: str, address: str) -> int:
    """Count one failed login for this username and address; return the failures in the current window."""
    key = _key(username, address)
    cache.add(key, 0, timeout=login_failure_window_seconds())
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=login_failure_window_seconds())
        return 1


def login_failures_clear(*, username: str, address: str) -> None:
    """Forget the failures of this username and address (after a successful login)."""
    cache.delete(_key(username, address))
