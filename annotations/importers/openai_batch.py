"""OpenAI Batch API output files, which `vllm run-batch` also writes: one request's result per line.

An output line is `{"id", "custom_id", "response": {"status_code", "request_id", "body"} | null,
"error": null | {...}}`. `body` is a chat completion (`choices[].message.content`) or a text completion
(`choices[].text`); a request sampled with `n` has n choices, and each becomes one solution with the
external id `<custom_id>#<choice index>`, so importing the file again adds nothing.

A line with `error` set, no `response`, or a `status_code` other than 200 is a failed request: it
rejects the file, or with `skip_failed` is reported as skipped.

The output file holds no problem text: `--problems FILE` maps custom ids to problems (see
`load_batch_problems`). The generator is the problem's `generator`, else the completion's `model`.
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord
from annotations.importers.batch_problems import BatchProblem
from annotations.solution_input import Errors, SolutionInput

SOURCE = "openai-batch"


def parse_openai_batch(
    stream: TextIO, *, problems: Mapping[str, BatchProblem], skip_failed: bool = False
) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per choice of every line (or the line's error, or why it was skipped)."""
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            message = f"Not valid JSON: {exc.msg} (column {exc.colno})."
            yield ParsedRecord(locator=f"line {number}", errors={"line": [message]})
            continue
        yield from batch_output_records(number, record, problems=problems, skip_failed=skip_failed)


def batch_output_records(
    number: int, record: Any, *, problems: Mapping[str, BatchProblem], skip_failed: bool
) -> Iterator[ParsedRecord]:
    """Turn one decoded output line into ParsedRecords: one per choice, or one error, or one skip."""
    if not isinstance(record, dict):
        yield ParsedRecord(locator=f"line {number}", errors={"non_field_errors": ["Must be a JSON object."]})
        return
    custom_id = record.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        message = "This field is required and must be a non-empty string."
        yield ParsedRecord(locator=f"line {number}", errors={"custom_id": [message]})
        return
    locator = f"line {number} (custom_id {custom_id})"
    failure = _failure(record)
    if failure is not None:
        name, reason = failure
        if skip_failed:
            yield ParsedRecord(locator=locator, skip_reason=f"the request failed: {reason}")
        else:
            message = f"The request failed: {reason.rstrip('.')}. Pass --skip-failed to import the other lines."
            yield ParsedRecord(locator=locator, errors={name: [message]})
        return
    yield from _choice_records(number, custom_id, record["response"]["body"], problems)


def _error_text(error: Any) -> str:
    """Return an error object's message: a string, `{code?, message}`, or vLLM's `{"error": {...}}`."""
    if isinstance(error, str):
        return error
    if isinstance(error, dict):
        if isinstance(error.get("error"), dict | str):
            return _error_text(error["error"])
        if isinstance(error.get("message"), str):
            code = error.get("code")
            return f"{code}: {error['message']}" if code not in (None, "") else error["message"]
    return json.dumps(error, ensure_ascii=False)[:500]


def _failure(record: dict[str, Any]) -> tuple[str, str] | None:
    """Return (field, reason) when the line is a failed request, else None."""
    if record.get("error") is not None:
        return "error", _error_text(record["error"])
    response = record.get("response")
    if not isinstance(response, dict):
        return "response", "the line has neither a response nor an error"
    status = response.get("status_code")
    if status != 200:
        body = response.get("body")
        detail = f" ({_error_text(body['error'])})" if isinstance(body, dict) and "error" in body else ""
        return "response.status_code", f"status code {status}{detail}"
    return None


def _choice_records(
    number: int, custom_id: str, body: Any, problems: Mapping[str, BatchProblem]
) -> Iterator[ParsedRecord]:
    locator = f"line {number} (custom_id {custom_id})"
    choices = body.get("choices") if isinstance(body, dict) else None
    if not isinstance(choices, list) or not choices or not all(isinstance(choice, dict) for choice in choices):
        errors = {"response.body.choices": ["Must be a non-empty list of choices (a chat or text completion)."]}
        yield ParsedRecord(locator=locator, errors=errors)
        return
    problem = problems.get(custom_id)
    if problem is None:
        yield ParsedRecord(locator=locator, errors={"custom_id": ["No problem for this custom id in --problems."]})
        return
    model = body.get("model") if isinstance(body.get("model"), str) else ""
    for position, choice in enumerate(choices):
        index = choice.get("index")
        index = index if isinstance(index, int) and not isinstance(index, bool) else position
        choice_locator = f"line {number} (custom_id {custom_id}, choice {index})"
        text, errors = _choice_text(choice, position)
        if errors:
            yield ParsedRecord(locator=choice_locator, errors=errors)
            continue
        item = _solution(problem, custom_id=custom_id, index=index, text=text, model=model, choice=choice)
        yield ParsedRecord(locator=choice_locator, item=item)


def _solution(
    problem: BatchProblem, *, custom_id: str, index: int, text: str, model: str, choice: dict[str, Any]
) -> SolutionInput:
    """Return one sample as a solution to ingest: `<custom_id>#<index>`, with where it came from in metadata."""
    metadata = {
        **problem.metadata,
        "source": SOURCE,
        "custom_id": custom_id,
        "choice_index": index,
        "finish_reason": choice.get("finish_reason"),
        "model": model,
    }
    return SolutionInput(
        problem=problem.problem,
        response=text,
        external_id=f"{custom_id}#{index}",
        generator=problem.generator or model,
        subset=problem.subset,
        reference_answer=problem.reference_answer,
        reference_solution=problem.reference_solution,
        metadata=metadata,
    )


def _choice_text(choice: dict[str, Any], position: int) -> tuple[str, Errors]:
    """Return a choice's generated text: `message.content` (chat) or `text` (completions)."""
    if isinstance(choice.get("message"), dict):
        name, text = f"response.body.choices[{position}].message.content", choice["message"].get("content")
    elif "text" in choice:
        name, text = f"response.body.choices[{position}].text", choice["text"]
    else:
        return "", {
            f"response.body.choices[{position}]": ["Has neither message.content (chat) nor text (completions)."]
        }
    if not isinstance(text, str):
        return "", {name: ["Must be a string: the generated text."]}
    return text, {}
