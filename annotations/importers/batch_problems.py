"""The problems file of `--format openai-batch`: which problem each request (custom id) was about.

JSON Lines, one object per request, in either of two shapes (blank lines are ignored):

- `{"custom_id", "problem", "reference_answer"?, "reference_solution"?, "generator"?, "subset"?,
  "metadata"?}`: the recommended shape, written next to the batch input file.
- a line of the batch INPUT file itself, `{"custom_id", "method", "url", "body"}`: the problem is then
  the text of the last user message of `body.messages` (chat) or `body.prompt` (completions), verbatim,
  so any instructions around the problem come with it, and there is no reference answer.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from prmweb.errors import ApplicationError

PROBLEM_FIELDS = ("custom_id", "problem", "reference_answer", "reference_solution", "generator", "subset", "metadata")
REQUEST_FIELDS = ("custom_id", "method", "url", "body")


@dataclass(frozen=True)
class BatchProblem:
    """What the problems file says about one request. Values are checked at ingestion, field by field."""

    problem: Any
    reference_answer: Any = ""
    reference_solution: Any = ""
    generator: Any = ""
    subset: Any = ""
    metadata: dict[str, Any] = field(default_factory=dict)


def _refuse(number: int, name: str, message: str) -> ApplicationError:
    return ApplicationError(f"line {number}: {name}: {message}", errors={f"problems line {number}": {name: [message]}})


def load_batch_problems(stream: TextIO) -> dict[str, BatchProblem]:
    """Return {custom id: BatchProblem}; raise ApplicationError naming the line and field of the first fault."""
    problems: dict[str, BatchProblem] = {}
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _refuse(number, "line", f"Not valid JSON: {exc.msg} (column {exc.colno}).") from exc
        if not isinstance(record, dict):
            raise _refuse(number, "non_field_errors", "Must be a JSON object.")
        custom_id = record.get("custom_id")
        if not isinstance(custom_id, str) or not custom_id:
            raise _refuse(number, "custom_id", "This field is required and must be a non-empty string.")
        if custom_id in problems:
            raise _refuse(number, "custom_id", f"Duplicate custom id {custom_id!r}.")
        problems[custom_id] = _problem(number, record)
    return problems


def _problem(number: int, record: dict[str, Any]) -> BatchProblem:
    if "problem" not in record and "body" in record:
        return BatchProblem(problem=_problem_from_request(number, record))
    allowed = PROBLEM_FIELDS
    unknown = [name for name in record if name not in allowed]
    if unknown:
        raise _refuse(number, str(unknown[0]), f"Unknown field. Allowed fields: {', '.join(allowed)}.")
    if record.get("problem") is None:
        raise _refuse(number, "problem", "This field is required (or give the batch input line with its body).")
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise _refuse(number, "metadata", "Must be a JSON object.")
    values = {name: record[name] for name in PROBLEM_FIELDS[2:6] if record.get(name) is not None}
    return BatchProblem(problem=record["problem"], metadata=metadata, **values)


def _problem_from_request(number: int, record: dict[str, Any]) -> str:
    """Return the problem text of a batch input line: its last user message, or its prompt."""
    body = record["body"]
    if not isinstance(body, Mapping):
        raise _refuse(number, "body", "Must be a JSON object (the request body).")
    if isinstance(body.get("prompt"), str):
        return body["prompt"]
    messages = body.get("messages")
    users = (
        [m for m in messages if isinstance(m, Mapping) and m.get("role") == "user"]
        if isinstance(messages, list)
        else []
    )
    text = _message_text(users[-1].get("content")) if users else None
    if text is None:
        raise _refuse(number, "body", "Has no user message with text (body.messages) and no prompt (body.prompt).")
    return text


def _message_text(content: Any) -> str | None:
    """Return a message's text: a string, or the text parts of a content list joined by blank lines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [part["text"] for part in content if isinstance(part, Mapping) and isinstance(part.get("text"), str)]
        return "\n\n".join(parts) if parts else None
    return None
