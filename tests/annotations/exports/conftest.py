"""Fixtures for the export tests: real ProcessBench records, ingested through the real ingestion service."""

import json
from pathlib import Path

import pytest

from annotations.exporters import SolutionRecord
from annotations.exporters.records import FinalLabelRecord
from annotations.services.ingestion import SolutionInput, solutions_ingest
from tests.annotations.exports.critic_support import label_for_critics
from tests.factories import DatasetFactory

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "processbench" / "export_records.json"


def processbench_records() -> list[dict]:
    """Return the 30 real ProcessBench records (see export_records.SOURCE.md)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def subset_of(record: dict) -> str:
    return record["id"].split("-")[0]


def as_solution_record(record: dict, *, source: str = "imported") -> SolutionRecord:
    """Return a ProcessBench record as the exporters' plain row (no database)."""
    from datetime import UTC, datetime

    return SolutionRecord(
        id=record["id"],
        solution_id=int(record["id"].split("-")[1]),
        problem_key=record["problem"],
        problem=record["problem"],
        steps=record["steps"],
        generator=record["generator"],
        subset=subset_of(record),
        final_answer_correct=record["final_answer_correct"],
        imported_label=record["label"],
        final_label=FinalLabelRecord(
            label=record["label"],
            source=source,
            agreement=None,
            decided_by="",
            decided_at=datetime(2025, 1, 1, tzinfo=UTC),
        ),
    )


@pytest.fixture
def pb_records() -> list[dict]:
    return processbench_records()


@pytest.fixture
def pb_dataset(db):
    """Return a dataset holding the 30 ProcessBench records, ingested with their labels (source: imported)."""
    dataset = DatasetFactory(name="ProcessBench sample", slug="pb-sample")
    items = [
        SolutionInput(
            problem=record["problem"],
            steps=record["steps"],
            external_id=record["id"],
            generator=record["generator"],
            subset=subset_of(record),
            final_answer_correct=record["final_answer_correct"],
            label=record["label"],
        )
        for record in processbench_records()
    ]
    result = solutions_ingest(dataset=dataset, items=items)
    assert result.created == 30
    return dataset


@pytest.fixture
def critic_dataset(pb_dataset, pb_records):
    """Return the 30 records labelled for the critic exports, and the plan (see critic_support.py)."""
    return pb_dataset, label_for_critics(pb_dataset, pb_records)


@pytest.fixture
def export_root(tmp_path, settings) -> Path:
    settings.EXPORT_ROOT = str(tmp_path / "exports")
    return tmp_path / "exports"


def load_folder(folder: Path, cache_dir: Path):
    """Load an export folder exactly as a user would: `datasets.load_dataset(folder)`."""
    import datasets

    return datasets.load_dataset(str(folder), cache_dir=str(cache_dir))
