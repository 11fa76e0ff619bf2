"""File importers: pure parsers that turn import files into ParsedRecords for `solutions_import`."""

import json
from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

from annotations.importers.annotations_export import parse_annotations_export, parse_annotations_path
from annotations.importers.base import ParsedRecord, iter_json_values
from annotations.importers.batch_problems import BatchProblem, load_batch_problems
from annotations.importers.jsonl import parse_jsonl
from annotations.importers.openai_batch import parse_openai_batch
from annotations.importers.prm800k import parse_prm800k
from annotations.importers.processbench import load_reference_answers, parse_processbench
from annotations.importers.responses import parse_responses

FORMATS = ("processbench", "prm800k", "jsonl", "responses", "openai-batch", "annotations")
RESPONSE_FORMATS = ("jsonl", "responses", "openai-batch")  # formats whose records may hold a response to split


def parser_for(
    file_format: str,
    *,
    answers: Mapping[str, str] | None = None,
    problems: Mapping[str, BatchProblem] | None = None,
    skip_failed: bool = False,
) -> Callable[[TextIO], Iterator[ParsedRecord]]:
    """Return the parser of a format.

    `answers` (id -> reference answer) applies to ProcessBench only; `problems` (custom id -> problem,
    required) and `skip_failed` to OpenAI batch output only.
    """
    if file_format == "processbench":
        return lambda stream: parse_processbench(stream, answers=answers)
    if file_format == "prm800k":
        return parse_prm800k
    if file_format == "jsonl":
        return parse_jsonl
    if file_format == "responses":
        return parse_responses
    if file_format == "openai-batch":
        if problems is None:
            raise ValueError("The openai-batch format needs the problems of its custom ids.")
        return lambda stream: parse_openai_batch(stream, problems=problems, skip_failed=skip_failed)
    if file_format == "annotations":
        return parse_annotations_export
    raise ValueError(f"Unknown import format {file_format!r}; choose one of {', '.join(FORMATS)}.")


def count_records(file_format: str, stream: TextIO) -> int | None:
    """Return how many records the parser of this format will yield (a progress total); None when unreadable.

    One quick read of the file: ProcessBench's array is decoded, JSON Lines are counted (a batch output
    line counts its choices), PRM800K values parsed. An `annotations` export (a folder, or gzip) has none.
    """
    if file_format == "annotations":
        return None
    try:
        if file_format == "processbench":
            data = json.load(stream)
            return len(data) if isinstance(data, list) else None
        if file_format == "openai-batch":
            return sum(_batch_line_records(line) for line in stream if line.strip())
        if file_format in RESPONSE_FORMATS:
            return sum(1 for line in stream if line.strip())
        return sum(1 for _ in iter_json_values(stream))
    except ValueError:  # not JSON, or not UTF-8 (UnicodeDecodeError): the import itself reports why
        return None


def _batch_line_records(line: str) -> int:
    """Return how many records one batch output line yields: one per choice, else one (an error or a skip)."""
    try:
        record = json.loads(line)
        choices = record["response"]["body"]["choices"]
    except (ValueError, TypeError, KeyError):
        return 1
    return len(choices) if isinstance(choices, list) and choices else 1


__all__ = [
    "FORMATS",
    "RESPONSE_FORMATS",
    "BatchProblem",
    "ParsedRecord",
    "count_records",
    "load_batch_problems",
    "load_reference_answers",
    "parse_annotations_path",
    "parser_for",
]
