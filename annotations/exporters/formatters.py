"""Export formatters: one per format, each a pure function from a `SolutionRecord` to a JSON-ready dict.

Every formatter also declares the Arrow schema of its records (for Parquet and the dataset card) and
whether it needs a final label. Training formats keep the steps up to and including the earliest error
(see `training_steps`). A record a format cannot represent raises `UnrepresentableRow`; the pipeline
skips it and counts the reason.
"""

import json
from datetime import datetime
from typing import Any

import pyarrow as pa

from annotations.exporters.base import FormattedRows, Formatter, UnrepresentableRow
from annotations.exporters.critic import CRITIC_FORMATTERS
from annotations.exporters.records import SolutionRecord, training_steps

__all__ = ["FORMATTERS", "FormattedRows", "Formatter", "UnrepresentableRow"]

MATH_SHEPHERD_TAG = "ки"
QWEN_PRM_SEPARATOR = "<extra_0>"


def _final_label(row: SolutionRecord) -> int:
    if row.final_label is None:  # Formatter.format refuses such rows first
        raise UnrepresentableRow("no final label")
    return row.final_label.label


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _reject_marker(row: SolutionRecord, marker: str) -> None:
    if marker in row.problem or any(marker in step for step in row.steps):
        raise UnrepresentableRow(f"text contains the marker {marker!r}")


def processbench_record(row: SolutionRecord) -> dict[str, Any]:
    """Return a ProcessBench record: id, generator, problem, steps, final_answer_correct, label (in that order)."""
    return {
        "id": row.id,
        "generator": row.generator,
        "problem": row.problem,
        "steps": list(row.steps),
        "final_answer_correct": row.final_answer_correct,
        "label": _final_label(row),
    }


def trl_record(row: SolutionRecord) -> dict[str, Any]:
    """Return a TRL stepwise-supervision record: prompt, completions (the kept steps), labels (bools)."""
    steps, correct = training_steps(row.steps, _final_label(row))
    return {"prompt": row.problem, "completions": steps, "labels": correct}


def math_shepherd_record(row: SolutionRecord) -> dict[str, Any]:
    """Return a Math-Shepherd record: `input` with each step tagged `ки`, `label` with `+`/`-` in its place.

    `value` holds the same `+`/`-` labels as a list (OpenRLHF's PRM dataset reads a list under
    `--label_key value`); `task` is the solution's subset.
    """
    _reject_marker(row, MATH_SHEPHERD_TAG)
    steps, correct = training_steps(row.steps, _final_label(row))
    marks = ["+" if ok else "-" for ok in correct]
    tagged = "\n".join(f"Step {index}: {step} {MATH_SHEPHERD_TAG}" for index, step in enumerate(steps, 1))
    labelled = "\n".join(
        f"Step {index}: {step} {mark}" for index, (step, mark) in enumerate(zip(steps, marks, strict=True), 1)
    )
    return {
        "input": f"{row.problem} {tagged}",
        "label": f"{row.problem} {labelled}",
        "task": row.subset,
        "value": marks,
    }


def qwen_prm_record(row: SolutionRecord) -> dict[str, Any]:
    """Return a Qwen2.5-Math-PRM record: the steps joined and ended by `<extra_0>`, one 1/0 label per separator."""
    _reject_marker(row, QWEN_PRM_SEPARATOR)
    steps, correct = training_steps(row.steps, _final_label(row))
    return {
        "id": row.id,
        "query": row.problem,
        "response": "".join(step + QWEN_PRM_SEPARATOR for step in steps),
        "labels": [1 if ok else 0 for ok in correct],
    }


def annotations_record(row: SolutionRecord) -> dict[str, Any]:
    """Return every annotation and suggestion of a solution with provenance (full steps, nothing dropped).

    Suggestion `parameters` are JSON-encoded strings, so that records of different methods share a schema.
    """
    final = row.final_label
    return {
        "id": row.id,
        "solution_id": row.solution_id,
        "subset": row.subset,
        "generator": row.generator,
        "problem": row.problem,
        "reference_answer": row.reference_answer,
        "steps": list(row.steps),
        "final_answer": row.final_answer,
        "final_answer_correct": row.final_answer_correct,
        "imported_label": row.imported_label,
        "final_label": None
        if final is None
        else {
            "label": final.label,
            "source": final.source,
            "agreement": final.agreement,
            "decided_by": final.decided_by,
            "decided_at": _iso(final.decided_at),
            "explanation": final.explanation,
            "error_type": final.error_type,
            "explanation_source": final.explanation_source,
            "explanation_annotator": final.explanation_annotator,
        },
        "annotations": [
            {
                "annotator": item.annotator,
                "earliest_error_step": item.earliest_error_step,
                "rationale": item.rationale,
                "error_type": item.error_type,
                "step_notes": [dict(note) for note in item.step_notes],
                "flag_ambiguous": item.flag_ambiguous,
                "flag_reference_wrong": item.flag_reference_wrong,
                "flag_unsure": item.flag_unsure,
                "seconds_spent": item.seconds_spent,
                "suggestions_visible": item.suggestions_visible,
                "created_at": _iso(item.created_at),
                "updated_at": _iso(item.updated_at),
            }
            for item in row.annotations
        ],
        "suggestions": [
            {
                "method": item.method,
                "config_key": item.config_key,
                "engine": item.engine,
                "model_name": item.model_name,
                "parameters": json.dumps(item.parameters, ensure_ascii=False, sort_keys=True),
                "status": item.status,
                "error": item.error,
                "label": item.label,
                "step_scores": list(item.step_scores),
                "confidence": item.confidence,
                "rationale": item.rationale,
                "rollouts": item.rollouts,
                "prompt_tokens": item.prompt_tokens,
                "generated_tokens": item.generated_tokens,
                "seconds": item.seconds,
                "created_at": _iso(item.created_at),
                "updated_at": _iso(item.updated_at),
            }
            for item in row.suggestions
        ],
    }


_STR = pa.string()
_INT = pa.int64()
_FLOAT = pa.float64()
_BOOL = pa.bool_()

_ANNOTATION_TYPE = pa.struct(
    [
        ("annotator", _STR),
        ("earliest_error_step", _INT),
        ("rationale", _STR),
        ("error_type", _STR),
        ("step_notes", pa.list_(pa.struct([("step", _INT), ("note", _STR)]))),
        ("flag_ambiguous", _BOOL),
        ("flag_reference_wrong", _BOOL),
        ("flag_unsure", _BOOL),
        ("seconds_spent", _FLOAT),
        ("suggestions_visible", _BOOL),
        ("created_at", _STR),
        ("updated_at", _STR),
    ]
)
_SUGGESTION_TYPE = pa.struct(
    [
        ("method", _STR),
        ("config_key", _STR),
        ("engine", _STR),
        ("model_name", _STR),
        ("parameters", _STR),
        ("status", _STR),
        ("error", _STR),
        ("label", _INT),
        ("step_scores", pa.list_(_FLOAT)),
        ("confidence", _FLOAT),
        ("rationale", _STR),
        ("rollouts", _INT),
        ("prompt_tokens", _INT),
        ("generated_tokens", _INT),
        ("seconds", _FLOAT),
        ("created_at", _STR),
        ("updated_at", _STR),
    ]
)
_FINAL_LABEL_TYPE = pa.struct(
    [
        ("label", _INT),
        ("source", _STR),
        ("agreement", _FLOAT),
        ("decided_by", _STR),
        ("decided_at", _STR),
        ("explanation", _STR),
        ("error_type", _STR),
        ("explanation_source", _STR),
        ("explanation_annotator", _STR),
    ]
)

FORMATTERS: dict[str, Formatter] = {
    formatter.name: formatter
    for formatter in (
        Formatter(
            name="processbench",
            description="ProcessBench records: the full solution and the earliest error step (-1 = all correct).",
            schema=pa.schema(
                [
                    ("id", _STR),
                    ("generator", _STR),
                    ("problem", _STR),
                    ("steps", pa.list_(_STR)),
                    ("final_answer_correct", _BOOL),
                    ("label", _INT),
                ]
            ),
            requires_final_label=True,
            to_record=processbench_record,
        ),
        Formatter(
            name="trl",
            description="TRL stepwise supervision (PRMTrainer): prompt, completions, one boolean label per step.",
            schema=pa.schema([("prompt", _STR), ("completions", pa.list_(_STR)), ("labels", pa.list_(_BOOL))]),
            requires_final_label=True,
            to_record=trl_record,
        ),
        Formatter(
            name="math_shepherd",
            description="Math-Shepherd columns (input with `ки` after each step, label with `+`/`-`), "
            "plus `value`, the labels as a list for OpenRLHF.",
            schema=pa.schema([("input", _STR), ("label", _STR), ("task", _STR), ("value", pa.list_(_STR))]),
            requires_final_label=True,
            to_record=math_shepherd_record,
        ),
        Formatter(
            name="qwen_prm",
            description="Qwen2.5-Math-PRM: steps joined and ended by `<extra_0>`, one 1/0 label per separator.",
            schema=pa.schema([("id", _STR), ("query", _STR), ("response", _STR), ("labels", pa.list_(_INT))]),
            requires_final_label=True,
            to_record=qwen_prm_record,
        ),
        Formatter(
            name="annotations",
            description="Every annotation and suggestion with provenance, for audits and research.",
            schema=pa.schema(
                [
                    ("id", _STR),
                    ("solution_id", _INT),
                    ("subset", _STR),
                    ("generator", _STR),
                    ("problem", _STR),
                    ("reference_answer", _STR),
                    ("steps", pa.list_(_STR)),
                    ("final_answer", _STR),
                    ("final_answer_correct", _BOOL),
                    ("imported_label", _INT),
                    ("final_label", _FINAL_LABEL_TYPE),
                    ("annotations", pa.list_(_ANNOTATION_TYPE)),
                    ("suggestions", pa.list_(_SUGGESTION_TYPE)),
                ]
            ),
            requires_final_label=False,
            to_record=annotations_record,
        ),
        *CRITIC_FORMATTERS,
    )
}
