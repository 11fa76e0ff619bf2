"""Checks shared by the API, the admin and the services, so each interface refuses the same values.

`scoring_methods` names suggestion methods, which live in `scoring`. The annotations app does not
import scoring's internals: the known names come from the SCORING_METHOD_NAMES setting, read on each
call (a test in tests/scoring/ keeps the setting equal to the method registry).
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from annotations.critique import error_types_errors

MAX_ECHOED_CHARS = 40


def scoring_method_names() -> tuple[str, ...]:
    """Return the names of the known suggestion methods (the SCORING_METHOD_NAMES setting)."""
    return tuple(settings.SCORING_METHOD_NAMES)


def _quoted(name: str) -> str:
    return repr(name if len(name) <= MAX_ECHOED_CHARS else name[:MAX_ECHOED_CHARS] + "...")


def scoring_methods_errors(value: Any) -> list[str]:
    """Return what is wrong with a `scoring_methods` value; empty for a list of distinct known names."""
    allowed = scoring_method_names()
    allowed_text = f"Allowed methods: {', '.join(allowed)}."
    if not isinstance(value, list):
        return [f"Must be a list of method names. {allowed_text}"]
    if not all(isinstance(name, str) for name in value):
        return [f"Each method must be a string. {allowed_text}"]
    errors = []
    unknown = [name for name in dict.fromkeys(value) if name not in allowed]
    if unknown:
        noun = "method" if len(unknown) == 1 else "methods"
        errors.append(f"Unknown {noun}: {', '.join(_quoted(name) for name in unknown)}. {allowed_text}")
    if len(set(value)) != len(value):
        errors.append("List each method once.")
    return errors


def validate_scoring_methods(value: Any) -> None:
    """Raise Django's ValidationError (forms, the admin) when `value` is not a list of distinct known methods."""
    errors = scoring_methods_errors(value)
    if errors:
        raise ValidationError(errors)


def validate_error_types(value: Any) -> None:
    """Raise Django's ValidationError (forms, the admin) when `value` is not a valid error-type taxonomy."""
    errors = error_types_errors(value)
    if errors:
        raise ValidationError(errors)
