"""The critic exports on real ProcessBench records: `critique` (conversational SFT) and `step_feedback`.

The records are labelled as `tests/annotations/exports/critic_support.py` says (fixture `critic_dataset`).
"""

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.exporters import FORMATTERS
from annotations.services.exports import export_create, export_run
from prmweb.errors import ApplicationError
from tests.annotations.exports.conftest import load_folder
from tests.annotations.exports.critic_support import explanation_of, judge_text, run
from tests.prmweb.core.test_critique import official_prompt

pytestmark = pytest.mark.django_db

LAST_BOX = re.compile(r"\\boxed\{(-?\d+)\}")


def rows_of(export) -> list[dict]:
    folder = Path(export.output_dir)
    return [json.loads(line) for path in sorted(folder.glob("data/*.jsonl")) for line in path.read_text().splitlines()]


def manifest_of(export) -> dict:
    return json.loads((Path(export.output_dir) / "manifest.json").read_text())


def test_human_critique_rows_prompt_exactly_and_box_the_final_label(critic_dataset, export_root):
    dataset, plan = critic_dataset
    rows = rows_of(run(dataset, "critique"))
    explained = {key for key, item in plan.items() if item["source"]}
    assert sorted(row["id"] for row in rows) == sorted(explained)
    for row in rows:
        item = plan[row["id"]]
        record = item["record"]
        assert row["prompt"] == [{"role": "user", "content": official_prompt(record)}]
        answer = row["completion"][0]["content"]
        assert row["completion"][0]["role"] == "assistant"
        assert answer == f"{explanation_of(record)}\n\n\\boxed{{{record['label']}}}"
        assert int(LAST_BOX.findall(answer)[-1]) == record["label"] == row["label"]
        assert (row["source"], row["error_type"]) == (item["source"], item["error_type"])
        assert (row["subset"], row["generator"]) == (record["id"].split("-")[0], record["generator"])


def test_solutions_without_an_explanation_are_left_out_and_counted(critic_dataset, export_root):
    dataset, _ = critic_dataset
    export = run(dataset, "critique")
    manifest = manifest_of(export)
    assert manifest["rows_total"] == 20
    assert manifest["rows_skipped"] == {"no explanation written by people": 10}
    assert manifest["critique_source"] == "human"
    assert manifest["critique_sources"] == {"human": 10, "reviewer": 10}
    card = (Path(export.output_dir) / "README.md").read_text()
    assert "Critique source: `human`" in card
    assert "| human | 10 |" in card and "| reviewer | 10 |" in card
    assert "- no explanation written by people: 10" in card
    assert all(row["completion"][0]["content"].strip() != f"\\boxed{{{row['label']}}}" for row in rows_of(export))


def test_judge_rows_only_where_the_judge_agreed_with_the_final_label(critic_dataset, export_root):
    dataset, plan = critic_dataset
    export = run(dataset, "critique", "judge")
    rows = rows_of(export)
    agreed = sorted(key for key, item in plan.items() if item["judge"])
    assert sorted(row["id"] for row in rows) == agreed
    assert len(agreed) == 14
    for row in rows:
        record = plan[row["id"]]["record"]
        assert row["source"] == "judge"
        assert row["completion"][0]["content"] == judge_text(record["label"])
        assert int(LAST_BOX.findall(row["completion"][0]["content"])[-1]) == record["label"]
        assert row["prompt"][0]["content"] == official_prompt(record)
    assert manifest_of(export)["rows_skipped"] == {"no judge critique agreeing with the final label": 16}


def test_both_sources_give_a_row_each_and_name_it(critic_dataset, export_root):
    dataset, plan = critic_dataset
    export = run(dataset, "critique", "both")
    rows = rows_of(export)
    assert len(rows) == 20 + 14
    by_source = {}
    for row in rows:
        by_source.setdefault(row["source"], set()).add(row["id"])
    assert by_source["judge"] == {key for key, item in plan.items() if item["judge"]}
    assert by_source["human"] | by_source["reviewer"] == {key for key, item in plan.items() if item["source"]}
    assert manifest_of(export)["critique_sources"] == {"human": 10, "judge": 14, "reviewer": 10}


def test_step_feedback_verdicts_match_the_label_on_every_row(critic_dataset, export_root):
    dataset, plan = critic_dataset
    rows = rows_of(run(dataset, "step_feedback", "both"))
    assert len(rows) == 20 + 14
    for row in rows:
        item = plan[row["id"]]
        record, label = item["record"], item["record"]["label"]
        kept = record["steps"] if label == -1 else record["steps"][: label + 1]
        assert [step["text"] for step in row["steps"]] == kept
        verdicts = [step["verdict"] for step in row["steps"]]
        assert verdicts == (["correct"] * len(kept) if label == -1 else ["correct"] * label + ["incorrect"])
        expected = explanation_of(record) if row["source"] != "judge" else judge_text(label)
        assert row["explanation"] == expected
        if label >= 0:
            assert row["steps"][label]["feedback"] == expected
        notes = [step["feedback"] for index, step in enumerate(row["steps"]) if index != label]
        noted = row["source"] == "human" and label != 0
        assert notes == (["Correct but terse."] + [None] * (len(notes) - 1) if noted else [None] * len(notes))
        assert row["error_type"] == (item["error_type"] if row["source"] != "judge" else None)


def test_step_feedback_judge_rows_only_where_the_judge_agreed(critic_dataset, export_root):
    dataset, plan = critic_dataset
    export = run(dataset, "step_feedback", "judge")
    assert sorted(row["id"] for row in rows_of(export)) == sorted(key for key, item in plan.items() if item["judge"])
    assert {row["source"] for row in rows_of(export)} == {"judge"}


@pytest.mark.parametrize("export_format", ["critique", "step_feedback"])
@pytest.mark.parametrize("file_format", ["jsonl.gz", "parquet"])
def test_datasets_loads_every_file_format(critic_dataset, export_root, tmp_path, export_format, file_format):
    dataset, _ = critic_dataset
    export = run(dataset, export_format, "both", file_format=file_format, split_ratios=[0.7, 0.3, 0])
    loaded = load_folder(Path(export.output_dir), tmp_path / "cache")
    assert sum(len(loaded[split]) for split in loaded) == 34
    names = [field.name for field in FORMATTERS[export_format].schema]
    assert all(loaded[split].column_names == names for split in loaded)
    row = loaded["train"][0]
    if export_format == "critique":
        assert row["prompt"][0]["role"] == "user" and row["completion"][0]["role"] == "assistant"
    else:
        assert set(row["steps"][0]) == {"text", "verdict", "feedback"}


def test_records_fit_the_declared_schema(critic_dataset, export_root):
    dataset, _ = critic_dataset
    for export_format in ("critique", "step_feedback"):
        rows = rows_of(run(dataset, export_format, "both"))
        table = pa.Table.from_pylist(rows, schema=FORMATTERS[export_format].schema)
        assert table.to_pylist() == rows


def test_critique_export_queries_do_not_grow_with_rows(critic_dataset, export_root, pb_records):
    dataset, _ = critic_dataset

    def queries(**filters):
        export = export_create(
            dataset=dataset,
            created_by=None,
            export_format="critique",
            critique_source="both",
            filters=filters,
            enqueue=False,
        )
        with CaptureQueriesContext(connection) as captured:
            assert export_run(export_id=export.pk).status == "succeeded"
        return len(captured)

    assert queries(subsets=["gsm8k"], generators=[pb_records[0]["generator"]]) == queries()


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"export_format": "trl", "critique_source": "human"},
            "critique_source",
            "Only the critique and step_feedback formats take a critique source.",
        ),
        (
            {"export_format": "critique", "critique_source": "people"},
            "critique_source",
            "Unknown critique source 'people'; use one of human, judge, both.",
        ),
    ],
)
def test_a_bad_critique_source_is_refused_naming_the_field(pb_dataset, kwargs, field, message):
    with pytest.raises(ApplicationError) as error:
        export_create(dataset=pb_dataset, created_by=None, enqueue=False, **kwargs)
    assert error.value.errors == {field: [message]}
    assert error.value.message == f"Invalid export: {field}: {message}"


def test_other_formats_keep_no_critique_source_and_critic_ones_default_to_human(pb_dataset):
    trl = export_create(dataset=pb_dataset, created_by=None, export_format="trl", enqueue=False)
    critique = export_create(dataset=pb_dataset, created_by=None, export_format="step_feedback", enqueue=False)
    assert (trl.critique_source, critique.critique_source) == ("", "human")


def test_an_export_where_every_solution_is_left_out_fails_clearly_and_writes_nothing(pb_dataset, export_root):
    export = export_create(dataset=pb_dataset, created_by=None, export_format="critique", enqueue=False)
    export = export_run(export_id=export.pk)
    assert export.status == "failed"
    assert export.error == (
        "30 solution(s) matched, but none gave a row (no explanation written by people: 30). Nothing was written."
    )
    assert not Path(export.output_dir).exists()
    assert list(export_root.glob("**/*")) == [export_root / "pb-sample"]
