"""Export formatters: one per format, each a pure function from a `SolutionRecord` to a JSON-ready dict.

Every formatter also declares the Arrow schema of its records (for Parquet and the dataset card) and
whether it needs a final label. Training formats keep the steps up to and including the earliest error
(see `training_steps`). A record a format cannot represent raises `UnrepresentableRow`; the pipeline
skips it and counts the reason.
"""

import json
from datetime import datetime
from typing import Any

from annotations.exporters.base import FormattedRows, Formatter, UnrepresentableRow
from annotations.exporters.critic import CRITIC_FORMATTERS
from annotations.exporters.records import SolutionRecord, training_steps
from annotations.exporters.schema import BOOL, FLOAT64, INT64, STRING, Columns, ListOf, Struct

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


_PROCESSBENCH_COLUMNS: Columns = (
    ("id", STRING),
    ("generator", STRING),
    ("problem", STRING),
    ("steps", ListOf(STRING)),
    ("final_answer_correct", BOOL),
    ("label", INT64),
)
_TRL_COLUMNS: Columns = (("prompt", STRING), ("completions", ListOf(STRING)), ("labels", ListOf(BOOL)))
_MATH_SHEPHERD_COLUMNS: Columns = (("input", STRING), ("label", STRING), ("task", STRING), ("value", ListOf(STRING)))
_QWEN_PRM_COLUMNS: Columns = (("id", STRING), ("query", STRING), ("response", STRING), ("labels", ListOf(INT64)))
_ANNOTATION = Struct(
    (
        ("annotator", STRING),
        ("earliest_error_step", INT64),
        ("rationale", STRING),
        ("error_type", STRING),
        ("step_notes", ListOf(Struct((("step", INT64), ("note", STRING))))),
        ("flag_ambiguous", BOOL),
        ("flag_reference_wrong", BOOL),
        ("flag_unsure", BOOL),
        ("seconds_spent", FLOAT64),
        ("suggestions_visible", BOOL),
        ("created_at", STRING),
        ("updated_at", STRING),
    )
)
_SUGGESTION = Struct(
    (
        ("method", STRING),
        ("config_key", STRING),
        ("engine", STRING),
        ("model_name", STRING),
        ("parameters", STRING),
        ("status", STRING),
        ("error", STRING),
        ("label", INT64),
        ("step_scores", ListOf(FLOAT64)),
        ("confidence", FLOAT64),
        ("rationale", STRING),
        ("rollouts", INT64),
        ("prompt_tokens", INT64),
        ("generated_tokens", INT64),
        ("seconds", FLOAT64),
        ("created_at", STRING),
        ("updated_at", STRING),
    )
)
_FINAL_LABEL = Struct(
    (
        ("label", INT64),
        ("source", STRING),
        ("agreement", FLOAT64),
        ("decided_by", STRING),
        ("decided_at", STRING),
        ("explanation", STRING),
        ("error_type", STRING),
        ("explanation_source", STRING),
        ("explanation_annotator", STRING),
    )
)
_ANNOTATIONS_COLUMNS: Columns = (
    ("id", STRING),
    ("solution_id", INT64),
    ("subset", STRING),
    ("generator", STRING),
    ("problem", STRING),
    ("reference_answer", STRING),
    ("steps", ListOf(STRING)),
    ("final_answer", STRING),
    ("final_answer_correct", BOOL),
    ("imported_label", INT64),
    ("final_label", _FINAL_LABEL),
    ("annotations", ListOf(_ANNOTATION)),
    ("suggestions", ListOf(_SUGGESTION)),
)


FORMATTERS: dict[str, Formatter] = {
    formatter.name: formatter
    for formatter in (
        Formatter(
            name="processbench",
            description="ProcessBench records: the full solution and the earliest error step (-1 = all correct).",
            columns=_PROCESSBENCH_COLUMNS,
            requires_final_label=True,
            to_record=processbench_record,
        ),
        Formatter(
            name="trl",
            description="TRL stepwise supervision (PRMTrainer): prompt, completions, one boolean label per step.",
            columns=_TRL_COLUMNS,
            requires_final_label=True,
            to_record=trl_record,
        ),
        Formatter(
            name="math_shepherd",
            description="Math-Shepherd columns (input with `ки` after each step, label with `+`/`-`), "
            "plus `value`, the labels as a list for OpenRLHF.",
            columns=_MATH_SHEPHERD_COLUMNS,
            requires_final_label=True,
            to_record=math_shepherd_record,
        ),
        Formatter(
            name="qwen_prm",
            description="Qwen2.5-Math-PRM: steps joined and ended by `<extra_0>`, one 1/0 label per separator.",
            columns=_QWEN_PRM_COLUMNS,
            requires_final_label=True,
            to_record=qwen_prm_record,
        ),
        Formatter(
            name="annotations",
            description="Every annotation and suggestion with provenance, for audits and research.",
            columns=_ANNOTATIONS_COLUMNS,
            requires_final_label=False,
            to_record=annotations_record,
        ),
        *CRITIC_FORMATTERS,
    )
}
