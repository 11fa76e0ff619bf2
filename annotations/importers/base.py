"""What every file parser yields, and a reader for files holding JSON values one after another."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TextIO

from annotations.importers.labels import ImportedLabels
from annotations.solution_input import Errors, SolutionInput

READ_CHUNK_CHARS = 1 << 20


@dataclass(frozen=True)
class ParsedRecord:
    """One record of an import file: a solution to ingest, or why it is rejected or skipped.

    `locator` says where the record is in the file ("record 3 (id gsm8k-2)", "line 7"), for messages.
    A record with `errors` is invalid (the whole import is refused); one with a `skip_reason` is valid
    but carries nothing to store (e.g. a PRM800K labeler gave up) and is reported, not stored. `labels`
    (from an `annotations` export) are the annotations and final-label critique stored with a new solution.
    """

    locator: str
    item: SolutionInput | None = None
    errors: Errors = field(default_factory=dict)
    skip_reason: str = ""
    labels: ImportedLabels | None = None


def file_error(message: str, locator: str = "file") -> ParsedRecord:
    """Return a record that rejects the whole file (unreadable, wrong top-level shape)."""
    return ParsedRecord(locator=locator, errors={"file": [message]})


def iter_json_values(stream: TextIO) -> Iterator[tuple[int, Any]]:
    """Yield (line number, value) for each JSON value in the stream: JSON Lines or pretty-printed objects.

    Values may be separated by any whitespace, so one-object-per-line files and concatenated,
    indented objects (as in the public PRM800K samples) both work. Reads the stream in chunks.
    Raises ValueError naming the line of the first value that is not valid JSON.
    """
    decoder = json.JSONDecoder()
    buffer = ""
    position = 0
    line = 1
    at_end = False
    while True:
        start = _skip_whitespace(buffer, position)
        line += buffer.count("\n", position, start)
        position = start
        if position >= len(buffer):
            if at_end:
                return
            buffer, position, at_end = _read_more(stream, buffer, position)
            continue
        try:
            value, end = decoder.raw_decode(buffer, position)
        except json.JSONDecodeError as exc:
            if not at_end:
                buffer, position, at_end = _read_more(stream, buffer, position)
                continue
            error_line = line + buffer.count("\n", position, exc.pos)
            raise ValueError(f"Not valid JSON at line {error_line}: {exc.msg}.") from exc
        if end == len(buffer) and not at_end and not isinstance(value, dict | list):
            # A bare number or literal may continue in the next chunk ("12" + "34"): read on first.
            buffer, position, at_end = _read_more(stream, buffer, position)
            continue
        yield line, value
        line += buffer.count("\n", position, end)
        position = end


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n\ufeff":
        position += 1
    return position


def _read_more(stream: TextIO, buffer: str, position: int) -> tuple[str, int, bool]:
    """Drop what was consumed and append the next chunk; return the new buffer, position and end flag."""
    chunk = stream.read(READ_CHUNK_CHARS)
    return buffer[position:] + chunk, 0, not chunk
