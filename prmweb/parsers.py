"""A JSON parser that turns every malformed or hostile body into a 400 naming where the problem is."""

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser

from prmweb import errors  # the module, not its names: errors imports DRF, whose settings import this

MAX_JSON_DEPTH = 32


def _bad_string(value: str) -> str | None:
    if "\x00" in value:
        return "contains a NUL character."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains an unpaired surrogate, which is not valid Unicode."
    return None


def find_bad_text(value: Any, path: str = "", depth: int = 0) -> tuple[str, str] | None:
    """Return (path, problem) for the first string the database could not store, or over-deep nesting."""
    if depth > MAX_JSON_DEPTH:
        return path or "(root)", f"is nested deeper than {MAX_JSON_DEPTH} levels."
    if isinstance(value, str):
        problem = _bad_string(value)
        return (path or "(root)", problem) if problem else None
    children: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            children += [(sub, key), (sub, item)]
    elif isinstance(value, list):
        children = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    for sub, child in children:
        found = find_bad_text(child, sub, depth + 1)
        if found:
            return found
    return None


class StrictJSONParser(JSONParser):
    """Parse JSON; refuse NaN, NUL bytes, lone surrogates and deep nesting with a clear 400."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        raw = _read_limited(stream, (parser_context or {}).get("request"))
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
        found = find_bad_text(data)
        if found:
            field, problem = found
            raise ValidationError({field: [f"This value {problem}"]})
        return data


def _read_limited(stream: Any, request: Any) -> bytes:
    """Read the body, refusing (413) one over DATA_UPLOAD_MAX_MEMORY_SIZE before reading it when it says its size."""
    if stream is None:
        return b""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return bytes(stream.read())
    meta = getattr(request, "META", {})
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise errors.body_too_large_error(declared, limit)
    raw = bytes(stream.read(limit + 1))  # a body without a (truthful) length is cut off here
    if len(raw) > limit:
        raise errors.body_too_large_error(None, limit)
    return raw


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
