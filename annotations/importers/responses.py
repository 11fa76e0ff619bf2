"""Generated responses as JSON Lines: `{"problem", "response", "id"?, "reference_answer"?, "generator"?, "metadata"?}`.

One object per line (blank lines are ignored), the shape a sampling script writes. The response is
split into steps at ingestion (the record's `segmentation`, else `--segmentation`, else the dataset's).
Every other field of the REST API's solution object is accepted too (`segmentation`, `subset`,
`label`, ...), except `steps`: use `--format jsonl` for solutions already split into steps.
"""

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord
from annotations.importers.jsonl import parse_json_lines
from annotations.solution_input import Errors, SolutionInput, solution_input_from_mapping


def parse_responses(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per non-blank line; a line that is not JSON is an error naming the line."""
    return parse_json_lines(stream, response_record)


def response_record(record: Any) -> tuple[SolutionInput | None, Errors]:
    """Build a SolutionInput from one responses-file object; `response` is required, `steps` refused."""
    item, errors = solution_input_from_mapping(record)
    if not isinstance(record, Mapping):
        return item, errors
    errors.pop("steps", None)
    if record.get("steps") is not None:
        errors.pop("response", None)
        errors["steps"] = ["Not part of --format responses (send the response); use --format jsonl for step lists."]
    elif record.get("response") is None and item is not None:
        errors["response"] = ["This field is required."]
        item = replace(item, response="")  # checked as a response, so only `response` is reported
    return item, errors
