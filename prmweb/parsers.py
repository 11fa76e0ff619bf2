"""A JSON parser that turns every malformed or hostile body into a 400 naming where the problem is."""

import json
import re
from typing import Any

from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

MAX_JSON_DEPTH = 32


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate, which is not valid Unicode."
    return None


# NUL and lone surrogates can only reach decoded JSON through \u escapes: a raw NUL is an invalid control
# character and a raw surrogate is invalid UTF-8, both refused earlier. Bodies without such an escape
# (nearly all) skip the per-string check, which would otherwise cost more than the parse itself.
_SUSPECT_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def find_bad_text(value: Any, path: str = "", depth: int = 0, *, strings: bool = True) -> tuple[str, str] | None:
    """Return (path, problem) for the first string the database could not store, or over-deep nesting.

    With `strings=False` only the nesting depth is checked.
    """
    if depth > MAX_JSON_DEPTH:
        return path or "(root)", f"is nested deeper than {MAX_JSON_DEPTH} levels."
    if isinstance(value, str):
        problem = _bad_string(value) if strings else None
        return (path or "(root)", problem) if problem else None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if strings or _nested(item):
                sub = f"{path}.{key}" if path else str(key)
                children += [(sub, key), (sub, item)] if strings else [(sub, item)]
    elif isinstance(value, list):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value) if strings or _nested(item)]
    for sub, child in children:
        found = find_bad_text(child, sub, depth + 1, strings=strings)
        if found:
            return found
    return None


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list)


class StrictJSONParser(JSONParser):
    """Parse JSON; refuse NaN, NUL bytes, lone surrogates and deep nesting with a clear 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid UTF-8 (byte {exc.start}).") from exc
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        found = find_bad_text(data, strings=bool(_SUSPECT_ESCAPE.search(text)))
        if found:
            field, problem = found
            raise ValidationError({field: [f"This value {problem}"]})
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
