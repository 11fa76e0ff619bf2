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


class BadKeyError(ValueError):
    """An object key the body cannot carry: a duplicate, or one with an unpaired surrogate."""


def find_bad_text(value: Any, path: str = "", depth: int = 0, *, strings: bool = True) -> tuple[str, str] | None:
    """Return (path, problem) for the first string the database could not store, or over-deep nesting.

    With `strings=False` only the nesting depth is checked. Raises BadKeyError for an object key with an
    unpaired surrogate: such a key cannot be named in a (UTF-8) error body, so the body as a whole is.
    """
    if depth > MAX_JSON_DEPTH:
        return path or "(root)", f"is nested deeper than {MAX_JSON_DEPTH} levels."
    if isinstance(value, str):
        problem = _bad_string(value) if strings else None
        return (path or "(root)", problem) if problem else None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if strings:
                _check_key(key, path)
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


def nested_deeper_than(value: Any, limit: int) -> bool:
    """Return whether an object or array lies deeper than `limit` levels (the root is level 0).

    One pass per level over the containers only, without paths: `find_bad_text` names the place when
    this says there is one.
    """
    level = [value] if _nested(value) else []
    for _depth in range(limit + 1):
        children: list[Any] = []
        for container in level:
            items = container.values() if isinstance(container, dict) else container
            children += [item for item in items if isinstance(item, dict | list)]
        if not children:
            return False
        level = children
    return True


def _check_key(key: str, path: str) -> None:
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        where = f"an object in {path}" if path else "the top-level object"
        raise BadKeyError(f"a key of {where} contains an unpaired surrogate, which is not valid Unicode.") from None


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Build an object from its key/value pairs; raise BadKeyError naming a key that appears twice."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise BadKeyError(f"duplicate key {_quoted(key)} in an object; send each key once.")
            seen.add(key)
    return result


def _quoted(key: str) -> str:
    """Return the key in JSON quotes, escaped only where UTF-8 cannot carry it (a lone surrogate)."""
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(key)
    return json.dumps(key, ensure_ascii=False)


def _nested(value: Any) -> bool:
    return isinstance(value, dict | list)


class StrictJSONParser(JSONParser):
    """Parse JSON; refuse NaN, NUL bytes, lone surrogates, duplicate keys and deep nesting with a clear 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = stream.read() if stream is not None else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - the body is not valid UTF-8 (byte {exc.start}).") from exc
        try:
            data = json.loads(text, parse_constant=_refuse_constant, object_pairs_hook=_refuse_duplicate_keys)
            if _SUSPECT_ESCAPE.search(text):
                found = find_bad_text(data)
            else:  # only the depth: the walk with paths runs when there is something to name
                found = find_bad_text(data, strings=False) if nested_deeper_than(data, MAX_JSON_DEPTH) else None
        except RecursionError as exc:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from exc
        except ValueError as exc:  # BadKeyError included: the body is named, never the unprintable key
            raise ParseError(f"JSON parse error - {exc}") from exc
        if found:
            field, problem = found
            raise ValidationError({field: [f"This value {problem}"]})
        return data


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
