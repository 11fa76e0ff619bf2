"""Production settings: secrets from the environment, HTTPS everywhere."""

from django.core.exceptions import ImproperlyConfigured

from prmweb.settings.base import *  # noqa: F403
from prmweb.settings.base import DEV_SECRET_KEY, env

MIN_SECRET_KEY_LENGTH = 50
# Keys published in this repository or its docs: anyone could sign sessions with them.
KNOWN_DEFAULT_SECRET_KEYS = frozenset({DEV_SECRET_KEY, "change-me", "changeme", "secret", "collectstatic-only"})


def checked_secret_key(key: str) -> str:
    """Return the key, or raise ImproperlyConfigured when it is a known default or too short to be secret."""
    how = (
        "Set SECRET_KEY to at least 50 random characters, "
        "e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'."
    )
    if key.strip().lower() in KNOWN_DEFAULT_SECRET_KEYS or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(f"SECRET_KEY is a publicly known default. {how}")
    if len(key) < MIN_SECRET_KEY_LENGTH:
        raise ImproperlyConfigured(f"SECRET_KEY is too short ({len(key)} characters). {how}")
    return key


SECRET_KEY = checked_secret_key(env("SECRET_KEY"))
DEBUG = False
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)  # noqa: F405
