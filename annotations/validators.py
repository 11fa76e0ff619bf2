"""Checks shared by the API, the admin and the services, so each interface refuses the same values.

`scoring_methods` names suggestion methods, which live in `scoring`. The annotations app does not
import scoring: the known names are those the scoring app registered (`annotations.suggestion_methods`),
read on each call.

`segmentation` and `segmentation_pattern` are checked by `annotations.segmentation` (the registry of
modes, and the pattern's compile, empty-match and backtracking checks).
"""

from typing import Any

from django.core.exceptions import ValidationError

from annotations import suggestion_methods
from annotations.critique import error_types_errors
from annotations.segmentation import PATTERN, SEGMENTATIONS, pattern_errors

MAX_ECHOED_CHARS = 40


def scoring_method_names() -> tuple[str, ...]:
    """Return the names of the known suggestion methods (those the scoring app registered)."""
    return suggestion_methods.method_names()


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


def segmentation_errors(segmentation: Any, pattern: Any) -> dict[str, list[str]]:
    """Return {field: messages} for a dataset's `segmentation` and `segmentation_pattern` (empty when valid).

    The pattern is checked whenever it is set; the mode `pattern` needs one.
    """
    errors: dict[str, list[str]] = {}
    if segmentation not in SEGMENTATIONS:
        errors["segmentation"] = [f"Must be one of: {', '.join(SEGMENTATIONS)}."]
    if pattern:
        if found := pattern_errors(pattern):
            errors["segmentation_pattern"] = found
    elif segmentation == PATTERN:
        errors["segmentation_pattern"] = ["Required when segmentation is pattern."]
    return errors


def validate_segmentation_pattern(value: Any) -> None:
    """Raise Django's ValidationError (forms, the admin) for a pattern that cannot split responses safely."""
    if value and (errors := pattern_errors(value)):
        raise ValidationError(errors)


def validate_error_types(value: Any) -> None:
    """Raise Django's ValidationError (forms, the admin) when `value` is not a valid error-type taxonomy."""
    errors = error_types_errors(value)
    if errors:
        raise ValidationError(errors)
