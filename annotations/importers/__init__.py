"""File importers: pure parsers that turn import files into ParsedRecords for `solutions_import`."""

from collections.abc import Callable, Iterator, Mapping
from typing import TextIO

from annotations.importers.annotations_export import parse_annotations_export, parse_annotations_path
from annotations.importers.base import ParsedRecord
from annotations.importers.jsonl import parse_jsonl
from annotations.importers.prm800k import parse_prm800k
from annotations.importers.processbench import load_reference_answers, parse_processbench

FORMATS = ("processbench", "prm800k", "jsonl", "annotations")


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
    if file_format == "annotations":
        return parse_annotations_export
    raise ValueError(f"Unknown import format {file_format!r}; choose one of {', '.join(FORMATS)}.")


__all__ = ["FORMATS", "ParsedRecord", "load_reference_answers", "parse_annotations_path", "parser_for"]
