"""File importers: pure parsers that turn import files into ParsedRecords for `solutions_import`."""

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

from annotations.importers.base import ParsedRecord, iter_json_values
from annotations.importers.jsonl import parse_jsonl
from annotations.importers.prm800k import parse_prm800k
from annotations.importers.processbench import load_reference_answers, parse_processbench

FORMATS = ("processbench", "prm800k", "jsonl")


def parser_for(
    file_format: str, *, answers: Mapping[str, str] | None = None
) -> Callable[[TextIO], Iterator[ParsedRecord]]:
    """Return the parser of a format; `answers` (id -> reference answer) applies to ProcessBench only."""
    if file_format == "processbench":
        return lambda stream: parse_processbench(stream, answers=answers)
    if file_format == "prm800k":
        return parse_prm800k
    if file_format == "jsonl":
        return parse_jsonl
    raise ValueError(f"Unknown import format {file_format!r}; choose one of {', '.join(FORMATS)}.")


def count_records(file_format: str, stream: TextIO) -> int | None:
    """Return how many records the parser of this format will yield (a progress total); None when unreadable.

    One quick read of the file: ProcessBench's array is decoded, JSON Lines are counted, PRM800K values parsed.
    """
    try:
        if file_format == "processbench":
            data = json.load(stream)
            return len(data) if isinstance(data, list) else None
        if file_format == "jsonl":
            return sum(1 for line in stream if line.strip())
        return sum(1 for _ in iter_json_values(stream))
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError): the import itself reports why
        return None


__all__ = ["FORMATS", "ParsedRecord", "count_records", "load_reference_answers", "parser_for"]
