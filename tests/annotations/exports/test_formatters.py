"""Formatters on real ProcessBench records: exact shapes, and the label at the error step in every format."""

import json
from dataclasses import replace
from datetime import UTC, datetime

import pyarrow as pa
import pytest

from annotations.exporters import FORMATTERS, UnrepresentableRow, training_steps
from annotations.exporters.records import AnnotationRecord, SuggestionRecord
from tests.annotations.exports.conftest import as_solution_record, processbench_records

RECORDS = processbench_records()
ERRONEOUS = [record for record in RECORDS if record["label"] >= 0]
ALL_CORRECT = [record for record in RECORDS if record["label"] == -1]


def by_id(record_id: str) -> dict:
    return next(record for record in RECORDS if record["id"] == record_id)


def test_fixture_covers_first_middle_last_step_errors_and_all_correct():
    labels = {(record["label"], len(record["steps"])) for record in RECORDS}
    assert any(label == 0 for label, _ in labels)
    assert any(0 < label < steps - 1 for label, steps in labels)
    assert any(label == steps - 1 for label, steps in labels)
    assert ALL_CORRECT


def test_training_steps_keep_up_to_the_earliest_error():
    assert training_steps(["a", "b", "c", "d"], 2) == (["a", "b", "c"], [True, True, False])
    assert training_steps(["a", "b"], 0) == (["a"], [False])
    assert training_steps(["a", "b"], -1) == (["a", "b"], [True, True])
    with pytest.raises(ValueError, match="label 2 is not -1 or a step index of a 2-step solution"):
        training_steps(["a", "b"], 2)


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_processbench_record_is_the_original_record(record):
    assert FORMATTERS["processbench"].format(as_solution_record(record)) == record
    assert list(FORMATTERS["processbench"].format(as_solution_record(record))) == [
        "id",
        "generator",
        "problem",
        "steps",
        "final_answer_correct",
        "label",
    ]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_trl_labels_turn_false_exactly_at_the_error_step(record):
    out = FORMATTERS["trl"].format(as_solution_record(record))
    assert list(out) == ["prompt", "completions", "labels"]
    assert out["prompt"] == record["problem"]
    label = record["label"]
    if label == -1:
        assert out["completions"] == record["steps"]
        assert out["labels"] == [True] * len(record["steps"])
    else:
        assert out["completions"] == record["steps"][: label + 1]
        assert out["labels"] == [True] * label + [False]
        assert out["completions"][-1] == record["steps"][label]


def test_trl_on_gsm8k_76_error_at_step_4_of_5():
    record = by_id("gsm8k-76")
    out = FORMATTERS["trl"].format(as_solution_record(record))
    assert record["label"] == 4
    assert out["labels"] == [True, True, True, True, False]
    assert out["completions"] == record["steps"]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_math_shepherd_tags_each_kept_step_and_labels_the_error_minus(record):
    out = FORMATTERS["math_shepherd"].format(as_solution_record(record))
    assert list(out) == ["input", "label", "task", "value"]
    kept = len(record["steps"]) if record["label"] == -1 else record["label"] + 1
    assert out["input"].count(" ки") == kept
    assert out["input"].startswith(record["problem"] + " Step 1: " + record["steps"][0])
    expected = ["+"] * kept if record["label"] == -1 else ["+"] * record["label"] + ["-"]
    assert out["value"] == expected
    pieces = out["input"].split(" ки")
    assert pieces[-1] == ""
    assert out["label"] == "".join(piece + f" {mark}" for piece, mark in zip(pieces, expected, strict=False))
    assert out["task"] == record["id"].split("-")[0]


def test_math_shepherd_exact_text_for_math_38_error_at_step_0():
    record = by_id("math-38")
    out = FORMATTERS["math_shepherd"].format(as_solution_record(record))
    assert record["label"] == 0
    assert out["input"] == f"{record['problem']} Step 1: {record['steps'][0]} ки"
    assert out["label"] == f"{record['problem']} Step 1: {record['steps'][0]} -"
    assert out["value"] == ["-"]


@pytest.mark.parametrize("record", RECORDS, ids=lambda record: record["id"])
def test_qwen_prm_one_label_per_separator_zero_at_the_error(record):
    out = FORMATTERS["qwen_prm"].format(as_solution_record(record))
    assert list(out) == ["id", "query", "response", "labels"]
    pieces = out["response"].split("<extra_0>")
    assert pieces[-1] == ""  # the response ends with a separator
    assert len(pieces) - 1 == len(out["labels"])
    if record["label"] == -1:
        assert out["labels"] == [1] * len(record["steps"])
    else:
        assert out["labels"] == [1] * record["label"] + [0]
        assert pieces[record["label"]] == record["steps"][record["label"]]


@pytest.mark.parametrize("name", ["math_shepherd", "qwen_prm"])
def test_text_containing_the_marker_is_refused_not_mislabelled(name):
    marker = "ки" if name == "math_shepherd" else "<extra_0>"
    row = as_solution_record(by_id("gsm8k-0"))
    row = replace(row, steps=[*row.steps[:1], f"see {marker} here", *row.steps[2:]])
    with pytest.raises(UnrepresentableRow, match="marker"):
        FORMATTERS[name].format(row)


@pytest.mark.parametrize("name", ["processbench", "trl", "math_shepherd", "qwen_prm"])
def test_training_formats_need_a_final_label(name):
    row = replace(as_solution_record(by_id("gsm8k-0")), final_label=None)
    with pytest.raises(UnrepresentableRow, match="no final label"):
        FORMATTERS[name].format(row)


def test_annotations_format_keeps_full_provenance():
    moment = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    record = by_id("gsm8k-33")
    row = replace(
        as_solution_record(record, source="majority"),
        annotations=[
            AnnotationRecord("alice", 2, "2+2 is not 5", False, False, True, 41.5, True, moment, moment),
            AnnotationRecord("bob", 2, "", True, False, False, 12.0, False, moment, moment),
        ],
        suggestions=[
            SuggestionRecord(
                method="mc",
                config_key="abc",
                engine="vllm",
                model_name="Qwen/Qwen2.5-Math-7B-Instruct",
                parameters={"rollouts": 8, "temperature": 0.7},
                status="succeeded",
                error="",
                label=2,
                step_scores=[1.0, 0.5, 0.0, None],
                confidence=None,
                rationale="",
                rollouts=24,
                prompt_tokens=900,
                generated_tokens=4000,
                seconds=3.25,
                created_at=moment,
                updated_at=moment,
            )
        ],
    )
    out = FORMATTERS["annotations"].format(row)
    assert out["steps"] == record["steps"]  # nothing dropped
    assert out["final_label"] == {
        "label": record["label"],
        "source": "majority",
        "agreement": None,
        "decided_by": "",
        "decided_at": "2025-01-01T00:00:00+00:00",
        "explanation": "",
        "error_type": None,
        "explanation_source": "",
        "explanation_annotator": "",
    }
    assert out["annotations"][0] == {
        "annotator": "alice",
        "earliest_error_step": 2,
        "rationale": "2+2 is not 5",
        "error_type": None,
        "step_notes": [],
        "flag_ambiguous": False,
        "flag_reference_wrong": False,
        "flag_unsure": True,
        "seconds_spent": 41.5,
        "suggestions_visible": True,
        "created_at": "2025-03-01T12:30:00+00:00",
        "updated_at": "2025-03-01T12:30:00+00:00",
    }
    suggestion = out["suggestions"][0]
    assert json.loads(suggestion["parameters"]) == {"rollouts": 8, "temperature": 0.7}
    assert suggestion["step_scores"] == [1.0, 0.5, 0.0, None]
    assert (suggestion["method"], suggestion["model_name"], suggestion["rollouts"]) == (
        "mc",
        "Qwen/Qwen2.5-Math-7B-Instruct",
        24,
    )


def test_annotations_format_without_a_final_label():
    row = replace(as_solution_record(by_id("gsm8k-0")), final_label=None)
    assert FORMATTERS["annotations"].format(row)["final_label"] is None


@pytest.mark.parametrize("name", [name for name, formatter in FORMATTERS.items() if not formatter.critique_sources])
def test_every_record_fits_its_declared_arrow_schema(name):  # the critic formats: test_critic.py
    formatter = FORMATTERS[name]
    rows = [formatter.format(as_solution_record(record)) for record in RECORDS]
    table = pa.Table.from_pylist(rows, schema=formatter.schema)
    assert table.num_rows == len(RECORDS)
    assert table.to_pylist() == rows
