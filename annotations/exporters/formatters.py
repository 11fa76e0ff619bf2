"""Export formatters: one per format, each a pure function from a `SolutionRecord` to a JSON-ready dict.

Every formatter also declares the Arrow schema of its records (for Parquet and the dataset card) and
whether it needs a final label. Training formats keep the steps up to and including the earliest error
(see `training_steps`). A record a format cannot represent raises `UnrepresentableRow`; the pipeline
skips it and counts the reason.
"""

import functools
import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from annotations.exporters.base import FormattedRows, Formatter, UnrepresentableRow
from annotations.exporters.critic import CRITIC_FORMATTERS
from annotations.exporters.records import SolutionRecord, training_steps

if TYPE_CHECKING:
    import pyarrow as pa

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


# Arrow schemas are built on first use: importing pyarrow costs a web process start-up time and memory.


@functools.cache
def _processbench_schema() -> "pa.Schema":
    import pyarrow as pa

    text = pa.string()
    return pa.schema(
        [
            ("id", text),
            ("generator", text),
            ("problem", text),
            ("steps", pa.list_(text)),
            ("final_answer_correct", pa.bool_()),
            ("label", pa.int64()),
        ]
    )


@functools.cache
def _trl_schema() -> "pa.Schema":
    import pyarrow as pa

    return pa.schema(
        [("prompt", pa.string()), ("completions", pa.list_(pa.string())), ("labels", pa.list_(pa.bool_()))]
    )


@functools.cache
def _math_shepherd_schema() -> "pa.Schema":
    import pyarrow as pa

    text = pa.string()
    return pa.schema([("input", text), ("label", text), ("task", text), ("value", pa.list_(text))])


@functools.cache
def _qwen_prm_schema() -> "pa.Schema":
    import pyarrow as pa

    text = pa.string()
    return pa.schema([("id", text), ("query", text), ("response", text), ("labels", pa.list_(pa.int64()))])


@functools.cache
def _annotations_schema() -> "pa.Schema":
    import pyarrow as pa

    text = pa.string()
    integer = pa.int64()
    real = pa.float64()
    boolean = pa.bool_()
    annotation = pa.struct(
        [
            ("annotator", text),
            ("earliest_error_step", integer),
            ("rationale", text),
            ("error_type", text),
            ("step_notes", pa.list_(pa.struct([("step", integer), ("note", text)]))),
            ("flag_ambiguous", boolean),
            ("flag_reference_wrong", boolean),
            ("flag_unsure", boolean),
            ("seconds_spent", real),
            ("suggestions_visible", boolean),
            ("created_at", text),
            ("updated_at", text),
        ]
    )
    suggestion = pa.struct(
        [
            ("method", text),
            ("config_key", text),
            ("engine", text),
            ("model_name", text),
            ("parameters", text),
            ("status", text),
            ("error", text),
            ("label", integer),
            ("step_scores", pa.list_(real)),
            ("confidence", real),
            ("rationale", text),
            ("rollouts", integer),
            ("prompt_tokens", integer),
            ("generated_tokens", integer),
            ("seconds", real),
            ("created_at", text),
            ("updated_at", text),
        ]
    )
    final_label = pa.struct(
        [
            ("label", integer),
            ("source", text),
            ("agreement", real),
            ("decided_by", text),
            ("decided_at", text),
            ("explanation", text),
            ("error_type", text),
            ("explanation_source", text),
            ("explanation_annotator", text),
        ]
    )
    return pa.schema(
        [
            ("id", text),
            ("solution_id", integer),
            ("subset", text),
            ("generator", text),
            ("problem", text),
            ("reference_answer", text),
            ("steps", pa.list_(text)),
            ("final_answer", text),
            ("final_answer_correct", boolean),
            ("imported_label", integer),
            ("final_label", final_label),
            ("annotations", pa.list_(annotation)),
            ("suggestions", pa.list_(suggestion)),
        ]
    )


FORMATTERS: dict[str, Formatter] = {
    formatter.name: formatter
    for formatter in (
        Formatter(
            name="processbench",
            description="ProcessBench records: the full solution and the earliest error step (-1 = all correct).",
            schema_factory=_processbench_schema,
            requires_final_label=True,
            to_record=processbench_record,
        ),
        Formatter(
            name="trl",
            description="TRL stepwise supervision (PRMTrainer): prompt, completions, one boolean label per step.",
            schema_factory=_trl_schema,
            requires_final_label=True,
            to_record=trl_record,
        ),
        Formatter(
            name="math_shepherd",
            description="Math-Shepherd columns (input with `ки` after each step, label with `+`/`-`), "
            "plus `value`, the labels as a list for OpenRLHF.",
            schema_factory=_math_shepherd_schema,
            requires_final_label=True,
            to_record=math_shepherd_record,
        ),
        Formatter(
            name="qwen_prm",
            description="Qwen2.5-Math-PRM: steps joined and ended by `<extra_0>`, one 1/0 label per separator.",
            schema_factory=_qwen_prm_schema,
            requires_final_label=True,
            to_record=qwen_prm_record,
        ),
        Formatter(
            name="annotations",
            description="Every annotation and suggestion with provenance, for audits and research.",
            schema_factory=_annotations_schema,
            requires_final_label=False,
            to_record=annotations_record,
        ),
        *CRITIC_FORMATTERS,
    )
}
