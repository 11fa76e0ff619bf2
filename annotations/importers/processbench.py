"""ProcessBench files: one JSON array of `{id, generator, problem, steps, final_answer_correct, label}`.

ProcessBench records carry no reference answer; `load_reference_answers` reads a JSON object
{id: reference answer} given with `--answers`. The subset comes from the id ("gsm8k-0" -> "gsm8k") when
ingestion stores the record, by the same rule as over REST (`solution_subset`).
Labels are kept as imported labels (0-based earliest wrong step, -1 = all correct).
"""

import json
from collections.abc import Iterator, Mapping
from typing import Any, TextIO

from annotations.importers.base import ParsedRecord, file_error
from annotations.solution_input import SolutionInput
from prmweb.errors import ApplicationError

REQUIRED_KEYS = ("id", "problem", "steps", "label")
KNOWN_KEYS = (*REQUIRED_KEYS, "generator", "final_answer_correct")


def load_reference_answers(stream: TextIO) -> dict[str, str]:
    """Read a JSON object {record id: reference answer}; raise ApplicationError naming `answers` if it is not one."""
    try:
        data = json.load(stream)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ApplicationError(
            f"The answers file is not valid JSON: {exc}.", errors={"answers": [f"Not valid JSON: {exc}."]}
        ) from exc
    if not isinstance(data, dict):
        raise ApplicationError(
            "The answers file must be one JSON object mapping record ids to reference answers.",
            errors={"answers": ["Must be a JSON object {id: answer}."]},
        )
    answers: dict[str, str] = {}
    for record_id, answer in data.items():
        if isinstance(answer, int | float) and not isinstance(answer, bool):
            answer = str(answer)
        if not isinstance(answer, str):
            raise ApplicationError(
                f"The reference answer for {record_id!r} must be a string.",
                errors={f"answers.{record_id}": ["Must be a string."]},
            )
        answers[record_id] = answer
    return answers


def parse_processbench(stream: TextIO, *, answers: Mapping[str, str] | None = None) -> Iterator[ParsedRecord]:
    """Yield one ParsedRecord per ProcessBench record (or one file-level error for an unreadable file)."""
    try:
        data = json.load(stream)
    except json.JSONDecodeError as exc:
        yield file_error(f"Not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.")
        return
    if not isinstance(data, list):
        yield file_error("A ProcessBench file is one JSON array of records.")
        return
    for index, record in enumerate(data):
        yield processbench_record(index, record, answers or {})


def processbench_record(index: int, record: Any, answers: Mapping[str, str]) -> ParsedRecord:
    """Turn one decoded ProcessBench record into a ParsedRecord (structural errors by field)."""
    if not isinstance(record, dict):
        return ParsedRecord(locator=f"record {index}", errors={"non_field_errors": ["Must be a JSON object."]})
    record_id = record.get("id")
    locator = f"record {index} (id {record_id})" if isinstance(record_id, str) and record_id else f"record {index}"
    errors = {key: ["This field is required."] for key in REQUIRED_KEYS if record.get(key) is None}
    extra = {key: value for key, value in record.items() if key not in KNOWN_KEYS}
    external_id = record_id if isinstance(record_id, str) else record_id or ""
    item = SolutionInput(
        problem=record.get("problem", ""),
        steps=record.get("steps", []),
        external_id=external_id,
        generator=record.get("generator") or "",
        reference_answer=answers.get(record_id, "") if isinstance(record_id, str) else "",
        final_answer_correct=record.get("final_answer_correct"),
        label=record.get("label"),
        metadata={"source": "processbench", **extra},
    )
    return ParsedRecord(locator=locator, item=item, errors=errors)
