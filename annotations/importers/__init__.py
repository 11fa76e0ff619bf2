"""File importers: pure parsers that turn import files into ParsedRecords for `solutions_import`."""

from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

from annotations.importers.base import ParsedRecord
from annotations.importers.batch_problems import BatchProblem, load_batch_problems
from annotations.importers.jsonl import parse_jsonl
from annotations.importers.openai_batch import parse_openai_batch
from annotations.importers.prm800k import parse_prm800k
from annotations.importers.processbench import load_reference_answers, parse_processbench
from annotations.importers.responses import parse_responses

FORMATS = ("processbench", "prm800k", "jsonl", "responses", "openai-batch")
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
    raise ValueError(f"Unknown import format {file_format!r}; choose one of {', '.join(FORMATS)}.")


__all__ = [
    "FORMATS",
    "RESPONSE_FORMATS",
    "BatchProblem",
    "ParsedRecord",
    "load_batch_problems",
    "load_reference_answers",
    "parser_for",
]
