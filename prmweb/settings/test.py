"""Test settings: fast hashing, PostgreSQL when DATABASE_URL points there (CI does)."""

import tempfile
from pathlib import Path

from prmweb.settings.base import *  # noqa: F403
from prmweb.settings.base import env

# A connection per request, as before persistent ones became the default on PostgreSQL: test threads and
# worker processes then hold no connection between requests and tasks, so the test database drops cleanly.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)  # noqa: F405

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve app static files straight from the finders: tests never run collectstatic.
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Exports started by tests without their own folder (e.g. the API fuzzer) go to the temp dir, not the checkout.
EXPORT_ROOT = str(Path(tempfile.gettempdir()) / "prmweb-test-exports")
