"""Export folders (no database): `datasets.load_dataset(folder)` reads every file format, split by problem."""

import hashlib
import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from annotations.exporters import FORMATTERS, SplitRatios
from annotations.exporters.card import ExportDescription, labels_by_step
from annotations.exporters.folder import write_export_folder
from tests.annotations.exports.conftest import as_solution_record, load_folder, processbench_records

RECORDS = processbench_records()


def describe(format_name: str = "processbench", file_format: str = "jsonl", **overrides) -> ExportDescription:
    values: dict[str, Any] = {
        "export_id": 12,
        "dataset_name": "ProcessBench sample",
        "dataset_slug": "pb-sample",
        "dataset_description": "",
        "formatter": FORMATTERS[format_name],
        "file_format": file_format,
        "filters": {"label_sources": ["imported"]},
        "ratios": SplitRatios(0.5, 0.25, 0.25),
        "seed": 1,
        "protocol": {"annotations per solution": 3},
        "created_at": datetime(2025, 5, 1, 9, 0, tzinfo=UTC),
        "prmweb_version": "0.1.0",
    }
    values.update(overrides)
    return ExportDescription(**values)


def rows_grouped_by_problem():
    return [as_solution_record(record) for record in sorted(RECORDS, key=lambda record: record["problem"])]


@pytest.mark.parametrize("file_format", ["jsonl", "jsonl.gz", "parquet"])
def test_load_dataset_reads_the_folder_with_three_splits_and_no_shared_problem(tmp_path, file_format):
    folder = tmp_path / "export"
    outcome = write_export_folder(folder, rows_grouped_by_problem(), description=describe(file_format=file_format))
    loaded = load_folder(folder, tmp_path / "cache")
    assert set(loaded) == {"train", "validation", "test"}
    problems = {split: {row["problem"] for row in loaded[split]} for split in loaded}
    assert not problems["train"] & problems["validation"]
    assert not problems["train"] & problems["test"]
    assert not problems["validation"] & problems["test"]
    assert sum(len(loaded[split]) for split in loaded) == 30
    assert {split: len(loaded[split]) for split in loaded} == outcome.result.stats.row_counts()
    exported = {row["id"]: row for split in loaded for row in loaded[split]}
    assert exported == {record["id"]: record for record in RECORDS}  # exact round trip, every file format
    paths = sorted(item.path for item in outcome.files)
    assert paths == sorted(
        [f"data/{split}-00000-of-00001.{file_format}" for split in ("train", "validation", "test")]
        + ["README.md", "manifest.json"]
    )


def test_manifest_records_every_file_with_its_sha256(tmp_path):
    folder = tmp_path / "export"
    write_export_folder(folder, rows_grouped_by_problem(), description=describe())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == "processbench"
    assert manifest["filters"] == {"label_sources": ["imported"]}
    assert manifest["prmweb_version"] == "0.1.0"
    assert sum(manifest["row_counts"].values()) == 30
    assert manifest["label_sources"] == {"imported": 30}
    assert list(manifest["label_counts"].items()) == [  # by step number, not by the text of the key
        ("all correct (-1)", 8),
        ("error at step 0", 7),
        ("error at step 1", 3),
        ("error at step 2", 7),
        ("error at step 3", 2),
        ("error at step 4", 1),
        ("error at step 5", 1),
        ("error at step 6", 1),
    ]
    listed = {entry["path"]: entry for entry in manifest["files"]}
    on_disk = {path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()}
    assert set(listed) | {"manifest.json"} == on_disk
    for path, entry in listed.items():
        data = (folder / path).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)


def test_card_has_a_hub_yaml_header_and_the_counts(tmp_path):
    folder = tmp_path / "export"
    outcome = write_export_folder(folder, rows_grouped_by_problem(), description=describe(format_name="trl"))
    card = (folder / "README.md").read_text()
    header = yaml.safe_load(card.split("---\n")[1])
    assert header["configs"] == [
        {
            "config_name": "default",
            "data_files": [
                {"split": "train", "path": "data/train-*"},
                {"split": "validation", "path": "data/validation-*"},
                {"split": "test", "path": "data/test-*"},
            ],
        }
    ]
    assert header["dataset_info"]["features"] == [
        {"name": "prompt", "dtype": "string"},
        {"name": "completions", "list": "string"},
        {"name": "labels", "list": "bool"},
    ]
    counts = outcome.result.stats
    assert f"| train | {counts.rows_by_split['train']} | {counts.problems_by_split['train']} | 0.5 |" in card
    assert "| imported | 30 |" in card
    assert "| Meta-Llama-3-70B-Instruct | 7 |" in card
    assert "| all correct (-1) | 8 |" in card
    assert "- annotations per solution: 3" in card
    assert "2025-05-01T09:00:00+00:00" in card


def test_label_counts_sort_by_step_number_past_step_9():
    labels = Counter({"error at step 10": 1, "unlabelled": 4, "error at step 2": 3, "all correct (-1)": 2})
    assert list(labels_by_step(labels)) == ["all correct (-1)", "error at step 2", "error at step 10", "unlabelled"]


def test_card_says_how_steps_are_numbered_and_lists_labels_by_step(tmp_path):
    folder = tmp_path / "export"
    write_export_folder(folder, rows_grouped_by_problem(), description=describe())
    card = (folder / "README.md").read_text()
    assert (
        "Steps are numbered from 0 in these files and from 1 in the prmweb interface: `error at step 2` "
        "(label 2) is the third step, shown there as Step 3."
    ) in card
    table = card.split("| label | rows |\n| --- | ---: |\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert table[:3] == ["| all correct (-1) | 8 |", "| error at step 0 | 7 |", "| error at step 1 | 3 |"]
    assert table[-1] == "| error at step 6 | 1 |"


def test_problem_counts_follow_the_problems(tmp_path):
    outcome = write_export_folder(tmp_path / "export", rows_grouped_by_problem(), description=describe())
    assert sum(outcome.result.stats.problem_counts().values()) == len({record["problem"] for record in RECORDS})


def test_an_empty_split_gets_no_file_and_still_loads(tmp_path):
    folder = tmp_path / "export"
    write_export_folder(folder, rows_grouped_by_problem(), description=describe(ratios=SplitRatios(1, 0, 0)))
    loaded = load_folder(folder, tmp_path / "cache")
    assert list(loaded) == ["train"]
    assert len(loaded["train"]) == 30
    assert sorted(path.name for path in (folder / "data").iterdir()) == ["train-00000-of-00001.jsonl"]


def test_shards_roll_over_and_all_load(tmp_path):
    folder = tmp_path / "export"
    outcome = write_export_folder(
        folder,
        rows_grouped_by_problem(),
        description=describe(file_format="parquet", ratios=SplitRatios(1, 0, 0)),
        rows_per_shard=8,
        batch_rows=3,
    )
    names = sorted(item.path for item in outcome.files if item.split)
    assert names == [f"data/train-0000{index}-of-00004.parquet" for index in range(4)]
    assert [item.rows for item in sorted(outcome.files, key=lambda item: item.path) if item.split] == [8, 8, 8, 6]
    assert pq.ParquetFile(folder / names[0]).metadata.num_row_groups == 3  # batches of 3 rows: 3 + 3 + 2
    assert len(load_folder(folder, tmp_path / "cache")["train"]) == 30


def test_gzip_output_is_deterministic(tmp_path):
    first = write_export_folder(tmp_path / "a", rows_grouped_by_problem(), description=describe(file_format="jsonl.gz"))
    second = write_export_folder(
        tmp_path / "b", rows_grouped_by_problem(), description=describe(file_format="jsonl.gz")
    )
    assert [item.sha256 for item in first.files] == [item.sha256 for item in second.files]


def test_a_failing_row_aborts_and_propagates(tmp_path):
    def broken_rows():
        yield from rows_grouped_by_problem()[:3]
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError, match="database went away"):
        write_export_folder(tmp_path / "export", broken_rows(), description=describe())
    assert not (tmp_path / "export" / "README.md").exists()


def test_every_format_loads(tmp_path):
    for name in (name for name, formatter in FORMATTERS.items() if not formatter.critique_sources):
        folder = tmp_path / name
        write_export_folder(folder, rows_grouped_by_problem(), description=describe(format_name=name))
        loaded = load_folder(folder, tmp_path / "cache")
        assert sum(len(loaded[split]) for split in loaded) == 30, name
        assert Path(folder / "manifest.json").exists()
    # the critic formats load too (tests/annotations/exports/test_critic.py), on records with explanations
