"""prmweb's own JSON Lines format: one solution object per line, with exactly the REST API's fields.

`{"problem": str, "steps": [str] | "response": str, "segmentation"?, "id"?, "generator"?, "subset"?,
"reference_answer"?, "reference_solution"?, "final_answer"?, "final_answer_correct"?, "label"?,
"metadata"?}`; blank lines are ignored. Unknown fields are errors, as over REST.
"""

import json
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord
from annotations.solution_input import Errors, SolutionInput, solution_input_from_mapping

RecordBuilder = Callable[[Any], tuple[SolutionInput | None, Errors]]


def parse_jsonl(stream: TextIO) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per non-blank line; a line that is not JSON is an error naming the line."""
    return parse_json_lines(stream, solution_input_from_mapping)


def parse_json_lines(stream: TextIO, build: RecordBuilder) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per non-blank line, built from the decoded object by `build`."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        locator = f"line {number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ParsedRecord(locator=locator, errors={"line": [f"Not valid JSON: {exc.msg} (column {exc.colno})."]})
            continue
        item, errors = build(record)
        if item is not None and isinstance(item.external_id, str) and item.external_id:
            locator = f"line {number} (id {item.external_id})"
        yield ParsedRecord(locator=locator, item=item, errors=errors)
