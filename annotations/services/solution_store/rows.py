"""The rows of a batch as the database stores them: columns, per-row values, values shared by the batch."""

import json
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import connection
from django.db.models import Model

from annotations.models import FinalLabel, FinalLabelSource, Solution
from annotations.segmentation import REFORMAT
from annotations.solution_input import SolutionInput

# Solution columns that differ per row (the others are the same for the whole batch).
SOLUTION_COLUMNS = (
    "external_id",
    "content_hash",
    "steps",
    "num_steps",
    "response",
    "step_offsets",
    "segmentation",
    "status",
    "reformat_status",
    "reformat_queued_at",
    "generator",
    "subset",
    "final_answer",
    "final_answer_correct",
    "imported_label",
    "metadata",
)
NUM_STEPS, STATUS = SOLUTION_COLUMNS.index("num_steps"), SOLUTION_COLUMNS.index("status")
PROBLEM_COLUMNS = ("content_hash", "text", "reference_answer", "reference_solution")
# A problem already stored keeps its text; its blank reference fields take the new ones.
PROBLEM_CONFLICT = """
    ON CONFLICT (dataset_id, content_hash) DO UPDATE SET
        reference_answer = CASE WHEN p.reference_answer = '' THEN EXCLUDED.reference_answer
                                ELSE p.reference_answer END,
        reference_solution = CASE WHEN p.reference_solution = '' THEN EXCLUDED.reference_solution
                                  ELSE p.reference_solution END
    WHERE (p.reference_answer = '' AND EXCLUDED.reference_answer <> '')
       OR (p.reference_solution = '' AND EXCLUDED.reference_solution <> '')
"""


@dataclass(frozen=True)
class NewSolution:
    """One solution to insert: the validated item, its content hash and subset, and its status fields."""

    item: SolutionInput
    content_hash: str
    problem_hash: str
    subset: str
    status_fields: dict[str, Any]


@dataclass(frozen=True)
class InsertedSolution:
    solution_id: int
    external_id: str
    content_hash: str
    status: str


def solution_values(row: NewSolution, default_status: str) -> list[Any]:
    """Return the row's values of SOLUTION_COLUMNS, in that order, as the database stores them (JSON as text)."""
    item = row.item
    waiting = item.response is not None and item.segmentation == REFORMAT  # stored without steps: see stored_steps
    status = row.status_fields
    queued_at = status.get("reformat_queued_at")
    return [
        item.external_id,
        row.content_hash,
        "[]" if waiting else json.dumps(item.steps),
        0 if waiting else len(item.steps),
        item.response or "",
        "[]" if waiting or not item.step_offsets else json.dumps(item.step_offsets),
        item.segmentation or "",
        plain(status.get("status", default_status)),
        plain(status.get("reformat_status", "")),
        None if queued_at is None else connection.ops.adapt_datetimefield_value(queued_at),
        item.generator,
        row.subset,
        item.final_answer,
        item.final_answer_correct,
        item.label,
        json.dumps(item.metadata) if item.metadata else "{}",
    ]


def default_status() -> str:
    return str(plain(Solution._meta.get_field("status").get_default()))


def plain(value: Any) -> Any:
    """Return a choice (an Enum) as its value, which is what the column stores."""
    return value.value if isinstance(value, Enum) else value


def shared_values(instance: Model, varying: set[str], now: datetime) -> list[tuple[str, Any]]:
    """Return (column, database value) of every field not in `varying`, as a new row of `instance` stores it."""
    shared = []
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.attname in varying:
            continue
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = field.get_db_prep_save(now if auto_now else getattr(instance, field.attname), connection)
        shared.append((str(field.column), plain(value)))
    return shared


def label_shared_values(now: datetime) -> list[tuple[str, Any]]:
    """Return (column, value) of an imported final label's columns but its solution, label and step count."""
    return shared_values(FinalLabel(source=FinalLabelSource.IMPORTED), {"solution_id", "label", "step_count"}, now)
