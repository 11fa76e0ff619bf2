"""Throttle password guessing: count failed logins per username and client address in the cache.

After `LOGIN_FAILURE_LIMIT` failures (default 5) within `LOGIN_FAILURE_WINDOW_SECONDS` (default 900), further
attempts for that username from that address are refused without checking the password, until the window
has passed since the first failure. A successful login clears the counter. With several web processes,
point `CACHE_URL` at a shared cache (Redis), or each process counts on its own.

When the shared cache cannot be reached (Redis down), logins keep working: each failure of the cache is
logged as a warning and the counting goes on in this process's memory until the cache answers again, so
guessing stays throttled (per web process) and nobody is locked out by the outage.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 5
DEFAULT_WINDOW_SECONDS = 15 * 60
# What a cache backend raises when its server is away: redis-py's errors, socket errors for the others.
CACHE_UNAVAILABLE_ERRORS = (RedisError, OSError)

_process_cache = LocMemCache("prmweb-login-failures-fallback", {"MAX_ENTRIES": 100_000})
T = TypeVar("T")


def login_failure_limit() -> int:
    """Return how many failures are allowed per window (setting `LOGIN_FAILURE_LIMIT`)."""
    return int(getattr(settings, "LOGIN_FAILURE_LIMIT", DEFAULT_LIMIT))


def login_failure_window_seconds() -> int:
    """Return the length of the counting window in seconds (setting `LOGIN_FAILURE_WINDOW_SECONDS`)."""
    return int(getattr(settings, "LOGIN_FAILURE_WINDOW_SECONDS", DEFAULT_WINDOW_SECONDS))


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.strip().casefold()}\x00{address}".encode()).hexdigest()
    return f"prmweb:login-failures:{digest}"


def _with_cache(operation: Callable[[BaseCache], T]) -> T:
    """Run the operation on the shared cache; while it cannot be reached, on this process's memory."""
    try:
        return operation(cache)
    except CACHE_UNAVAILABLE_ERRORS as error:
        logger.warning(
            "login throttle: the shared cache is unavailable (%s: %s); counting failures in this process only",
            type(error).__name__,
            error,
        )
        return operation(_process_cache)


def login_is_locked(*, username: str, address: str) -> bool:
    """Return whether this username may not try to log in from this address now."""
    failures = _with_cache(lambda store: store.get(_key(username, address), 0))
    return int(failures) >= login_failure_limit()


def _count_failure(store: BaseCache, key: str) -> int:
    store.add(key, 0, timeout=login_failure_window_seconds())
    try:
        return int(store.incr(key))
    except ValueError:  # expired between add and incr
        store.set(key, 1, timeout=login_failure_window_seconds())
        return 1


def login_failure_record(*, username: str, address: str) -> int:
    """Count one failed login for this username and address; return the failures in the current window."""
    key = _key(username, address)
    return _with_cache(lambda store: _count_failure(store, key))


def login_failures_clear(*, username: str, address: str) -> None:
    """Forget the failures of this username and address (after a successful login)."""
    key = _key(username, address)
    _with_cache(lambda store: store.delete(key))
    _process_cache.delete(key)  # counted here during an outage: a success clears that too
