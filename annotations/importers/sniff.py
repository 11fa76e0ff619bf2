"""Recognise an import file's format from its first record, to say which `--format` a refused file needs.

Pure: reads the beginning of a text stream (1 MiB), never the whole file. Only the first record is
looked at, so a file that starts right but goes wrong later is not recognised as something else.
"""

import json
from typing import Any, TextIO

from annotations.solution_input import INPUT_FIELDS

SNIFF_CHARS = 1 << 20
PROCESSBENCH_KEYS = frozenset({"id", "problem", "steps", "label"})


def _record_kind(record: Any) -> str | None:
    """Return the kind of one decoded record: "processbench", "prm800k", "solution" (our JSON Lines object),
    "response" (a generated response to split) or "batch" (a line of an OpenAI/vLLM batch output file)."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("question"), dict) and isinstance(record.get("label"), dict):
        return "prm800k"
    if set(record) >= PROCESSBENCH_KEYS:
        return "processbench"
    if {"problem", "steps"} <= set(record) and set(record) <= set(INPUT_FIELDS):
        return "solution"
    if {"problem", "response"} <= set(record) and set(record) <= set(INPUT_FIELDS):
        return "response"
    if "custom_id" in record and ("response" in record or "error" in record):
        return "batch"
    return None


def _first_value(text: str, start: int) -> Any:
    decoder = json.JSONDecoder()
    while start < len(text) and text[start] in " \t\r\n\ufeff":
        start += 1
    try:
        return decoder.raw_decode(text, start)[0]
    except json.JSONDecodeError:  # cut off by the sniffing window, or not JSON at all
        return None


# (format that reads it, hint); a format of None: no format reads the file as it is, only reshaped.
_IN_AN_ARRAY: dict[str, tuple[str | None, str]] = {
    "processbench": ("processbench", "this file is a JSON array of ProcessBench records: try --format processbench"),
    "prm800k": (
        None,
        "this file is a JSON array of PRM800K records: --format prm800k reads them one after another, "
        "not in an array (jq -c '.[]' FILE > FILE.jsonl)",
    ),
    "solution": (
        None,
        "this file is a JSON array of solution objects: --format jsonl reads one per line "
        "(jq -c '.[]' FILE > FILE.jsonl)",
    ),
    "response": (
        None,
        "this file is a JSON array of responses: --format responses reads one per line (jq -c '.[]' FILE > FILE.jsonl)",
    ),
}
_ONE_AFTER_ANOTHER: dict[str, tuple[str | None, str]] = {
    "processbench": ("jsonl", "this file holds one solution object per line (ProcessBench's keys): try --format jsonl"),
    "prm800k": ("prm800k", "this file holds PRM800K records: try --format prm800k"),
    "solution": ("jsonl", "this file holds one solution object per line: try --format jsonl"),
    "response": ("responses", "this file holds one response per line: try --format responses"),
    "batch": (
        "openai-batch",
        "this file is an OpenAI/vLLM batch output: try --format openai-batch --problems FILE",
    ),
}


def sniff_format(stream: TextIO) -> tuple[str | None, str] | None:
    """Return (format that reads it, hint) from the stream's first record; None when it looks like none.

    The format is None for a file no format reads as it is (a JSON array of PRM800K records).
    """
    text = stream.read(SNIFF_CHARS).lstrip(" \t\r\n\ufeff")
    if text.startswith("["):
        kind = _record_kind(_first_value(text, 1))
        return _IN_AN_ARRAY.get(kind) if kind else None
    if text.startswith("{"):
        kind = _record_kind(_first_value(text, 0))
        return _ONE_AFTER_ANOTHER.get(kind) if kind else None
    return None


def format_hint(stream: TextIO, used_format: str) -> str:
    """Return what to do for a file refused under `used_format` when it looks like something else, else ""."""
    found = sniff_format(stream)
    if found is None or found[0] == used_format:
        return ""
    return found[1]
