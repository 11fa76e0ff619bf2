"""Turn decoded JSON into solution inputs and say everything that is wrong with them, by field.

Pure Python, no database: shared by REST ingestion, the file importers and the admin. Field names in
error keys are the ones a client sends (`id`, `problem`, `steps[3]`, ...).
"""

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from annotations.segmentation import REFORMAT

MAX_BATCH_ITEMS = 10_000
MAX_STEPS = 200
MAX_STEP_CHARS = 20_000
MAX_PROBLEM_CHARS = 50_000
MAX_TEXT_CHARS = 50_000
MAX_SHORT_CHARS = 200
MAX_SUBSET_CHARS = 100
MAX_METADATA_BYTES = 20_000
MAX_METADATA_DEPTH = 16
MAX_RESPONSE_CHARS = 500_000

REQUIRED_FIELDS = ("problem",)
STEP_SOURCE_FIELDS = ("steps", "response")  # exactly one of them: steps as a list, or a response to split
OPTIONAL_FIELDS = (
    "segmentation",
    "id",
    "generator",
    "subset",
    "reference_answer",
    "reference_solution",
    "final_answer",
    "final_answer_correct",
    "label",
    "metadata",
)
INPUT_FIELDS = REQUIRED_FIELDS + STEP_SOURCE_FIELDS + OPTIONAL_FIELDS

Errors = dict[str, list[str]]

REFORMAT_LABEL = (
    "Cannot be given with segmentation 'reformat': the steps are known only once the judge has split the response."
)

_SUBSET_IN_ID = re.compile(r"^(?P<subset>.+)-\d+$")


@dataclass(frozen=True)
class SolutionInput:
    """One solution to ingest, as plain data (from JSON, a file record or a form).

    Either `steps` is given, or `response` (the generated text) with an optional `segmentation` mode;
    `annotations.services.response_input.segment_input` then fills `steps`, `step_offsets` and the
    mode it used. `step_offsets is None` means "not split yet".
    """

    problem: str
    steps: list[str] = field(default_factory=list)
    response: str | None = None
    segmentation: str | None = None
    step_offsets: list[tuple[int, int]] | None = None
    external_id: str = ""
    generator: str = ""
    subset: str = ""
    reference_answer: str = ""
    reference_solution: str = ""
    final_answer: str = ""
    final_answer_correct: bool | None = None
    label: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


def subset_from_id(external_id: str) -> str:
    """Return the subset an id names ("gsm8k-12" -> "gsm8k", "olympiadbench-3" -> "olympiadbench"), else "".

    The id must end in "-<digits>" (ProcessBench's ids do) and the part before must fit the subset field.
    """
    match = _SUBSET_IN_ID.match(external_id) if isinstance(external_id, str) else None
    if match is None or len(match.group("subset")) > MAX_SUBSET_CHARS:
        return ""
    return match.group("subset")


def _unstorable(value: str) -> str | None:
    if "\x00" in value:
        return "Must not contain NUL characters."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "Must be valid Unicode (it contains an unpaired surrogate)."
    return None


def _text_errors(value: Any, limit: int, *, required: bool) -> list[str]:
    if not isinstance(value, str):
        return ["Must be a string."]
    if required and not value.strip():
        return ["This field may not be blank."]
    if len(value) > limit:
        return [f"Ensure this field has no more than {limit} characters (it has {len(value)})."]
    problem = _unstorable(value)
    return [problem] if problem else []


def _steps_errors(steps: Any) -> Errors:
    if not isinstance(steps, list) or not steps:
        return {"steps": ["Must be a non-empty list of non-empty strings."]}
    if len(steps) > MAX_STEPS:
        return {"steps": [f"Ensure this list has no more than {MAX_STEPS} steps (it has {len(steps)})."]}
    errors: Errors = {}
    for index, step in enumerate(steps):
        if found := _text_errors(step, MAX_STEP_CHARS, required=True):
            errors[f"steps[{index}]"] = found
    return errors


def _label_errors(item: "SolutionInput") -> list[str]:
    label, steps = item.label, item.steps
    if label is None:
        return []
    if isinstance(label, bool) or not isinstance(label, int):
        return ["Must be an integer."]
    if item.response is not None and item.segmentation == REFORMAT:
        return [REFORMAT_LABEL]
    if isinstance(steps, list) and steps and not -1 <= label < len(steps):
        split = f" ({_split_into(item)})" if item.response is not None else ""
        return [f"Must be -1 (all steps correct) or a step index from 0 to {len(steps) - 1}{split}."]
    return []


def _split_into(item: "SolutionInput") -> str:
    if item.segmentation == REFORMAT:  # checked on the paragraphs it falls back to; the judge splits it later
        return f"segmentation 'reformat' falls back to paragraphs, which split it into {len(item.steps)} steps"
    return f"segmentation {item.segmentation!r} split the response into {len(item.steps)} steps"


def _response_errors(item: "SolutionInput") -> Errors:
    """Return the errors of a solution sent as a response: its text, then the steps it was split into."""
    if found := _text_errors(item.response, MAX_RESPONSE_CHARS, required=True):
        return {"response": found}
    if item.step_offsets is None:
        return {"response": ["Was not split into steps."]}
    split = _split_into(item)
    split = split[0].upper() + split[1:]
    if not item.steps:
        return {"response": [f"{split}; a solution needs at least 1."]}
    if len(item.steps) > MAX_STEPS:
        return {"response": [f"{split}; a solution has at most {MAX_STEPS}."]}
    too_long = [
        f"{split}; steps[{index}] (characters {start} to {end}) has {end - start} characters, at most {MAX_STEP_CHARS}."
        for index, (start, end) in enumerate(item.step_offsets)
        if end - start > MAX_STEP_CHARS
    ]
    return {"response": too_long} if too_long else {}


def _json_value_problem(value: Any, depth: int = 0) -> str | None:
    """Return why a JSON value cannot be stored (NUL, surrogate, NaN, too deep), else None."""
    if depth > MAX_METADATA_DEPTH:
        return f"Must not be nested deeper than {MAX_METADATA_DEPTH} levels."
    if isinstance(value, str):
        return _unstorable(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "Must not contain NaN or infinite numbers."
    children: list[Any] = []
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    for child in children:
        if problem := _json_value_problem(child, depth + 1):
            return problem
    return None


def _metadata_errors(metadata: Any) -> list[str]:
    if not isinstance(metadata, dict):
        return ["Must be a JSON object."]
    if not metadata:
        return []
    if problem := _json_value_problem(metadata):
        return [problem]
    if len(json.dumps(metadata, ensure_ascii=False)) > MAX_METADATA_BYTES:
        return [f"Must serialize to at most {MAX_METADATA_BYTES} characters."]
    return []


_TEXT_LIMITS = (
    ("problem", "problem", MAX_PROBLEM_CHARS, True),
    ("external_id", "id", MAX_SHORT_CHARS, False),
    ("generator", "generator", MAX_SHORT_CHARS, False),
    ("subset", "subset", MAX_SUBSET_CHARS, False),
    ("reference_answer", "reference_answer", MAX_TEXT_CHARS, False),
    ("reference_solution", "reference_solution", MAX_TEXT_CHARS, False),
    ("final_answer", "final_answer", MAX_TEXT_CHARS, False),
)


def validate_solution_input(item: SolutionInput) -> Errors:
    """Return {field: [messages]} for everything wrong with one item (empty when it is valid)."""
    if _plainly_valid(item):
        return {}
    return _item_errors(item)


def _plainly_valid(item: SolutionInput) -> bool:
    """Return True when the item has nothing wrong, by a few checks over all its text at once; False: look closer.

    The common case (steps given, every field as it should be) then costs a handful of C calls instead of a
    check per field and step. Never True for an item `_item_errors` would refuse (a test holds them together).
    """
    steps, metadata, label = item.steps, item.metadata, item.label
    if item.response is not None or item.segmentation is not None or type(steps) is not list:
        return False
    if not 0 < len(steps) <= MAX_STEPS or type(metadata) is not dict:
        return False
    texts = (item.external_id, item.generator, item.subset, item.reference_answer, item.reference_solution)
    try:
        joined = "".join((item.problem, item.final_answer, *texts, *steps))  # TypeError: a value is not text
    except TypeError:
        return False
    if "\x00" in joined or not (joined.isascii() or _encodes(joined)):
        return False
    if not _within_limits(item) or max(map(len, steps)) > MAX_STEP_CHARS:
        return False
    if not all(steps) or any(map(str.isspace, steps)):  # blank: what `not step.strip()` finds
        return False
    if label is not None and (type(label) is not int or not -1 <= label < len(steps)):
        return False
    if item.final_answer_correct is not None and type(item.final_answer_correct) is not bool:
        return False
    return not metadata or not _metadata_errors(metadata)


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _within_limits(item: SolutionInput) -> bool:
    """Return True when every text field is within its limit of `_TEXT_LIMITS` and the required ones are not blank."""
    for attribute, _, limit, required in _TEXT_LIMITS:
        value = getattr(item, attribute)
        if len(value) > limit or (required and (not value or value.isspace())):
            return False
    return True


def _item_errors(item: SolutionInput) -> Errors:
    """Return {field: [messages]} for everything wrong with one item, field by field."""
    errors: Errors = {}
    for attribute, name, limit, required in _TEXT_LIMITS:
        if found := _text_errors(getattr(item, attribute), limit, required=required):
            errors[name] = found
    if item.response is None:
        errors.update(_steps_errors(item.steps))
        if item.segmentation is not None:
            errors["segmentation"] = ["Applies only with response; steps are stored as sent."]
    else:
        errors.update(_response_errors(item))
    if found := _label_errors(item):
        errors["label"] = found
    if item.final_answer_correct is not None and not isinstance(item.final_answer_correct, bool):
        errors["final_answer_correct"] = ["Must be a boolean."]
    if found := _metadata_errors(item.metadata):
        errors["metadata"] = found
    return errors


def validate_batch(items: Sequence[SolutionInput | None]) -> dict[str, Errors]:
    """Return {index: {field: [messages]}} for every invalid item, and duplicate ids within the batch.

    None stands for a record that could not be read at all; it keeps its index and is skipped here.
    """
    errors: dict[str, Errors] = {}
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(items):
        if item is None:
            continue
        item_errors = validate_solution_input(item)
        if item.external_id and isinstance(item.external_id, str):
            if item.external_id in seen_ids:
                item_errors.setdefault("id", []).append(
                    f"Duplicate id {item.external_id!r} in this batch (also item {seen_ids[item.external_id]})."
                )
            else:
                seen_ids[item.external_id] = index
        if item_errors:
            errors[str(index)] = item_errors
    return errors


def solution_input_from_mapping(record: Any) -> tuple[SolutionInput | None, Errors]:
    """Build a SolutionInput from one decoded JSON object; return (input, structural errors).

    Structural errors are unknown fields, missing required fields (`problem`; `steps` or `response`),
    both `steps` and `response`, and a record that is not an object.
    An optional field sent as null counts as absent. Values are not type-checked here: that is
    `validate_solution_input`'s job, so one pass reports everything.
    """
    if not isinstance(record, Mapping):
        return None, {"non_field_errors": ["Must be a JSON object (one solution)."]}
    errors: Errors = {}
    for name in record:
        if name not in INPUT_FIELDS:
            errors[str(name)] = [f"Unknown field. Allowed fields: {', '.join(INPUT_FIELDS)}."]
    for name in REQUIRED_FIELDS:
        if record.get(name) is None:
            errors[name] = ["This field is required."]
    steps, response = record.get("steps"), record.get("response")
    if steps is None and response is None:
        errors["steps"] = ["This field is required (or send response: the text to split into steps)."]
    elif steps is not None and response is not None:
        errors["response"] = ["Send either steps or response, not both."]
    values = {name: record[name] for name in OPTIONAL_FIELDS if record.get(name) is not None}
    external_id = values.pop("id", "")
    item = SolutionInput(
        problem=record.get("problem", ""),
        steps=steps if steps is not None else [],
        response=response,
        external_id=external_id,
        **values,
    )
    return item, errors
