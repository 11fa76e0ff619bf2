"""External scores as plain data: read one decoded JSON object and say what is wrong with it, by field.

A team ingests scores computed elsewhere (its own PRM, an ORM) as suggestions of a method named by it.
Pure Python, no database: `annotations.services.external_scores` resolves the solution and checks the
scores and the label against its steps (`step_errors`). Error keys are the fields a client sends.
"""

import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MAX_SCORE_ITEMS = 1000
MAX_METHOD_CHARS = 30
MAX_CONFIG_KEY_CHARS = 64
MAX_EXTERNAL_ID_CHARS = 200
MAX_MODEL_NAME_CHARS = 300
MAX_RATIONALE_CHARS = 100_000
MAX_SCORED_STEPS = 200
MAX_ID = 2**63 - 1
DEFAULT_CONFIG_KEY = "default"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
CONFIG_KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
FIELDS = (
    "solution_id",
    "external_id",
    "method",
    "config_key",
    "step_scores",
    "label",
    "threshold",
    "model_name",
    "rationale",
    "confidence",
)

Errors = dict[str, list[str]]


@dataclass(frozen=True)
class ScoreInput:
    """One external suggestion: the solution (by id or external id), the method and its scores or label."""

    method: str
    solution_id: int | None = None
    external_id: str = ""
    config_key: str = DEFAULT_CONFIG_KEY
    step_scores: tuple[float | None, ...] = ()
    label: int | None = None
    threshold: float | None = None
    model_name: str = ""
    rationale: str = ""
    confidence: float | None = None

    def stored_label(self) -> int | None:
        """Return the label to store: the one sent, else the first scored step under `threshold` (or -1)."""
        if self.label is not None or self.threshold is None:
            return self.label
        threshold = self.threshold
        return next((i for i, s in enumerate(self.step_scores) if s is not None and s < threshold), -1)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _text_errors(value: Any, limit: int) -> list[str]:
    if not isinstance(value, str):
        return ["Must be a string."]
    if len(value) > limit:
        return [f"Ensure this field has no more than {limit} characters (it has {len(value)})."]
    if "\x00" in value:
        return ["Must not contain NUL characters."]
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return ["Must be valid Unicode (it contains an unpaired surrogate)."]
    return []


def _name_errors(value: Any, limit: int, pattern: re.Pattern[str], allowed: str) -> list[str]:
    if found := _text_errors(value, limit):
        return found
    if not pattern.match(value):
        return [f"Must start with a letter or digit and hold only letters, digits and {allowed}."]
    return []


def _method_errors(method: Any, reserved: Collection[str]) -> list[str]:
    if method is None:
        return ["This field is required: the name of your method (e.g. my-prm)."]
    if found := _name_errors(method, MAX_METHOD_CHARS, NAME_PATTERN, "_ . -"):
        return found
    built_in = sorted(reserved)
    if method.lower() in {name.lower() for name in built_in}:
        return [f"{method!r} is a built-in method of prmweb ({', '.join(built_in)}); name yours otherwise."]
    return []


def _solution_errors(record: Mapping[str, Any]) -> Errors:
    solution_id, external_id = record.get("solution_id"), record.get("external_id")
    if solution_id is None and external_id is None:
        return {"solution_id": ["Name the solution: send solution_id (its id here) or external_id (your id)."]}
    if solution_id is not None and external_id is not None:
        return {"solution_id": ["Send either solution_id or external_id, not both."]}
    if solution_id is not None and not (_is_int(solution_id) and 1 <= solution_id <= MAX_ID):
        return {"solution_id": ["Must be a positive integer (a solution id)."]}
    if external_id is not None:
        found = _text_errors(external_id, MAX_EXTERNAL_ID_CHARS) or ([] if external_id else ["Must not be empty."])
        return {"external_id": found} if found else {}
    return {}


def _probability_error(value: Any, *, allow_zero: bool = True) -> str | None:
    if not _is_number(value):
        return "Must be a number in [0, 1]." if allow_zero else "Must be a number in (0, 1]."
    if value > 1 or value < 0 or (value == 0 and not allow_zero):
        return f"{value} is outside {'[0, 1]' if allow_zero else '(0, 1]'}."
    return None


def _scores_errors(scores: Any) -> Errors:
    if not isinstance(scores, list):
        return {"step_scores": ["Must be a list with one score per step (a number in [0, 1], or null)."]}
    if len(scores) > MAX_SCORED_STEPS:
        return {"step_scores": [f"Ensure this list has no more than {MAX_SCORED_STEPS} scores (it has {len(scores)})."]}
    errors: Errors = {}
    for index, score in enumerate(scores):
        if score is None:
            continue
        if not _is_number(score):
            errors[f"step_scores[{index}]"] = ["Must be a number in [0, 1], or null (a step you did not score)."]
        elif message := _probability_error(score):
            errors[f"step_scores[{index}]"] = [message]
    return errors


def _verdict_errors(record: Mapping[str, Any]) -> Errors:
    """Return errors of label and threshold, and a suggestion that holds nothing to evaluate."""
    label, threshold, scores = record.get("label"), record.get("threshold"), record.get("step_scores")
    errors: Errors = {}
    if label is not None and not (_is_int(label) and label >= -1):
        errors["label"] = ["Must be -1 (all steps correct) or a step index (0 is the first step)."]
    if threshold is not None:
        if label is not None:
            errors["threshold"] = ["Send either label or threshold (to derive the label from step_scores), not both."]
        elif scores is None:
            errors["threshold"] = ["Needs step_scores: the label is the first step scored below it."]
        elif message := _probability_error(threshold, allow_zero=False):
            errors["threshold"] = [message]
    scored = isinstance(scores, list) and any(_is_number(score) for score in scores)
    if label is None and not scored and "step_scores" not in errors:
        errors.setdefault("step_scores", []).append(
            "Send step_scores (at least one number) or a label: there is nothing to evaluate."
        )
    return errors


def _field_errors(record: Mapping[str, Any], reserved: Collection[str]) -> Errors:
    errors: Errors = {
        str(name): [f"Unknown field. Allowed fields: {', '.join(FIELDS)}."] for name in record if name not in FIELDS
    }
    errors.update(_solution_errors(record))
    if found := _method_errors(record.get("method"), reserved):
        errors["method"] = found
    config_key = record.get("config_key")
    if config_key is not None and (
        found := _name_errors(config_key, MAX_CONFIG_KEY_CHARS, CONFIG_KEY_PATTERN, "_ . : + -")
    ):
        errors["config_key"] = found
    if record.get("step_scores") is not None:
        errors.update(_scores_errors(record["step_scores"]))
    errors.update({name: messages for name, messages in _verdict_errors(record).items() if name not in errors})
    for name, limit in (("model_name", MAX_MODEL_NAME_CHARS), ("rationale", MAX_RATIONALE_CHARS)):
        if record.get(name) is not None and (found := _text_errors(record[name], limit)):
            errors[name] = found
    confidence = record.get("confidence")
    if confidence is not None and (message := _probability_error(confidence)):
        errors["confidence"] = [message]
    return errors


def score_input_from_mapping(record: Any, *, reserved: Collection[str]) -> tuple[ScoreInput | None, Errors]:
    """Return (input, errors by field) for one decoded JSON object; the input is None when anything is wrong.

    `reserved` are the built-in method names an external method may not take (compared ignoring case).
    An optional field sent as null counts as absent.
    """
    if not isinstance(record, Mapping):
        return None, {"non_field_errors": ["Must be a JSON object (one suggestion)."]}
    if errors := _field_errors(record, reserved):
        return None, errors
    values = {name: record[name] for name in FIELDS if record.get(name) is not None}
    if "step_scores" in values:
        values["step_scores"] = tuple(None if s is None else float(s) for s in values["step_scores"])
    for name in ("threshold", "confidence"):
        if name in values:
            values[name] = float(values[name])
    return ScoreInput(**values), {}


def step_errors(item: ScoreInput, num_steps: int) -> Errors:
    """Return errors of the scores and the label against the solution's number of steps."""
    errors: Errors = {}
    if item.step_scores and len(item.step_scores) != num_steps:
        errors["step_scores"] = [
            f"Has {len(item.step_scores)} scores for a solution of {num_steps} steps; send one per step "
            "(null for a step you did not score)."
        ]
    if item.label is not None and item.label >= num_steps:
        errors["label"] = [f"Must be -1 (all steps correct) or a step index from 0 to {num_steps - 1}."]
    return errors


def duplicate_errors(keys: Sequence[tuple[int, str, str] | None]) -> dict[int, Errors]:
    """Return {index: errors} for items that repeat an earlier item's (solution, method, config_key)."""
    seen: dict[tuple[int, str, str], int] = {}
    errors: dict[int, Errors] = {}
    for index, key in enumerate(keys):
        if key is None:
            continue
        if key in seen:
            message = f"Item {seen[key]} already sends this solution's {key[1]!r} ({key[2]}) suggestion."
            errors[index] = {"method": [message]}
        else:
            seen[key] = index
    return errors
