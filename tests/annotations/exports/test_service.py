"""The export service on real ProcessBench records ingested through the ingestion service."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Export, FinalLabel, Solution
from annotations.services import exports as export_services
from annotations.services.exports import export_create, export_run
from prmweb.api.errors import http_status
from prmweb.errors import ApplicationError, ServiceUnavailableError
from tests.annotations.exports.conftest import load_folder
from tests.factories import AnnotationFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db


def run(dataset, export_format="processbench", **kwargs) -> Export:
    export = export_create(dataset=dataset, created_by=None, export_format=export_format, enqueue=False, **kwargs)
    return export_run(export_id=export.pk)


def exported_rows(export: Export) -> list[dict]:
    rows = []
    for entry in export.files:
        if entry["split"]:
            lines = (Path(export.output_dir) / entry["path"]).read_text(encoding="utf-8").splitlines()
            rows += [json.loads(line) for line in lines]
    return rows


def test_processbench_export_round_trips_the_real_records_exactly(pb_dataset, pb_records, export_root, tmp_path):
    export = run(pb_dataset, seed=5)
    assert export.status == "succeeded", export.error
    assert export.rows_done == export.rows_total == 30
    assert sum(export.row_counts.values()) == 30
    assert sorted(exported_rows(export), key=lambda row: row["id"]) == sorted(pb_records, key=lambda row: row["id"])
    loaded = load_folder(Path(export.output_dir), tmp_path / "cache")
    assert set(loaded) == {"train", "validation", "test"}
    by_split = {split: {row["problem"] for row in loaded[split]} for split in loaded}
    assert not (by_split["train"] & by_split["validation"] or by_split["train"] & by_split["test"])
    assert not by_split["validation"] & by_split["test"]
    assert Path(export.output_dir) == export_root / "pb-sample" / f"export-{export.pk:06d}-processbench"


def test_solutions_of_one_problem_share_a_split(pb_dataset, export_root):
    export = run(pb_dataset, export_format="qwen_prm", seed=11)
    split_of = {}
    for entry in export.files:
        if entry["split"]:
            for line in (Path(export.output_dir) / entry["path"]).read_text().splitlines():
                split_of[json.loads(line)["id"]] = entry["split"]
    assert split_of["gsm8k-76"] == split_of["gsm8k-271"] == split_of["gsm8k-399"]
    assert split_of["math-35"] == split_of["math-542"]


def test_export_row_records_files_with_hashes_and_sizes(pb_dataset, export_root):
    export = run(pb_dataset, export_format="trl", file_format="parquet")
    paths = [entry["path"] for entry in export.files]
    assert "README.md" in paths and "manifest.json" in paths
    for entry in export.files:
        path = Path(export.output_dir) / entry["path"]
        assert entry["bytes"] == path.stat().st_size
        assert len(entry["sha256"]) == 64
    manifest = json.loads((Path(export.output_dir) / "manifest.json").read_text())
    assert manifest["export_id"] == export.pk
    assert manifest["file_format"] == "parquet"


def test_same_seed_gives_the_same_files(pb_dataset, export_root):
    first, second = run(pb_dataset, seed=3), run(pb_dataset, seed=3)
    data = [
        [(entry["path"], entry["sha256"]) for entry in export.files if entry["split"]] for export in (first, second)
    ]
    assert data[0] == data[1]


def test_solutions_without_final_label_are_not_exported(pb_dataset, export_root):
    FinalLabel.objects.filter(solution__external_id__in=["gsm8k-0", "math-0"]).delete()
    export = run(pb_dataset)
    ids = {row["id"] for row in exported_rows(export)}
    assert len(ids) == 28 and "gsm8k-0" not in ids


def _set_label(external_id: str, **fields) -> None:
    FinalLabel.objects.filter(solution__external_id=external_id).update(**fields)


def test_filter_label_sources_and_min_agreement(pb_dataset, export_root):
    _set_label("gsm8k-0", source="unanimous", agreement=1.0)
    _set_label("gsm8k-6", source="majority", agreement=0.6)
    _set_label("gsm8k-8", source="review", agreement=0.4)
    assert {row["id"] for row in exported_rows(run(pb_dataset, filters={"label_sources": ["majority", "review"]}))} == {
        "gsm8k-6",
        "gsm8k-8",
    }
    assert {row["id"] for row in exported_rows(run(pb_dataset, filters={"min_agreement": 0.6}))} == {
        "gsm8k-0",
        "gsm8k-6",
    }  # imported labels have no agreement, so they do not pass a minimum


def test_filter_exclude_flagged(pb_dataset, export_root):
    solution = Solution.objects.get(external_id="math-83")
    AnnotationFactory(solution=solution, earliest_error_step=3, flag_reference_wrong=True)
    AnnotationFactory(solution=Solution.objects.get(external_id="math-62"), earliest_error_step=2)
    ids = {row["id"] for row in exported_rows(run(pb_dataset, filters={"exclude_flagged": True}))}
    assert "math-83" not in ids and "math-62" in ids and len(ids) == 29


def test_filter_subsets_and_generators(pb_dataset, export_root):
    ids = {row["id"] for row in exported_rows(run(pb_dataset, filters={"subsets": ["math"]}))}
    assert len(ids) == 15 and all(record_id.startswith("math-") for record_id in ids)
    rows = exported_rows(run(pb_dataset, filters={"generators": ["Qwen2-7B-Instruct", "Qwen2-72B-Instruct"]}))
    assert {row["generator"] for row in rows} == {"Qwen2-7B-Instruct", "Qwen2-72B-Instruct"} and len(rows) == 4


def test_filter_decided_date_range(pb_dataset, export_root):
    _set_label("gsm8k-0", decided_at=datetime(2024, 12, 31, 23, 0, tzinfo=UTC))
    _set_label("gsm8k-6", decided_at=datetime(2025, 1, 15, tzinfo=UTC))
    FinalLabel.objects.exclude(solution__external_id__in=["gsm8k-0", "gsm8k-6"]).update(
        decided_at=datetime(2025, 3, 1, tzinfo=UTC)
    )
    rows = exported_rows(run(pb_dataset, filters={"decided_after": "2025-01-01", "decided_before": "2025-02-01"}))
    assert [row["id"] for row in rows] == ["gsm8k-6"]


def test_annotations_format_exports_annotated_and_suggested_solutions_with_provenance(dataset, export_root):
    annotated = SolutionFactory(dataset=dataset, external_id="a")
    suggested = SolutionFactory(dataset=dataset, external_id="s")
    SolutionFactory(dataset=dataset, external_id="untouched")
    alice = UserFactory(username="alice")
    AnnotationFactory(solution=annotated, annotator=alice, earliest_error_step=1, seconds_spent=30, flag_unsure=True)
    SuggestionFactory(
        solution=suggested, method="mc", label=2, step_scores=[1.0, 0.75, 0.0], parameters={"rollouts": 4}, rollouts=12
    )
    export = run(dataset, export_format="annotations")
    rows = {row["id"]: row for row in exported_rows(export)}
    assert set(rows) == {"a", "s"}
    assert rows["a"]["final_label"] is None
    assert rows["a"]["annotations"][0]["annotator"] == "alice"
    assert rows["a"]["annotations"][0]["flag_unsure"] is True
    assert rows["a"]["annotations"][0]["seconds_spent"] == 30
    assert rows["s"]["suggestions"][0]["step_scores"] == [1.0, 0.75, 0.0]
    assert json.loads(rows["s"]["suggestions"][0]["parameters"]) == {"rollouts": 4}
    assert rows["s"]["suggestions"][0]["rollouts"] == 12


def test_annotations_export_queries_do_not_grow_with_rows(dataset, export_root):
    def queries_for(count: int) -> int:
        for _ in range(count):
            solution = SolutionFactory(dataset=dataset)
            AnnotationFactory(solution=solution)
            SuggestionFactory(solution=solution)
        export = export_create(dataset=dataset, created_by=None, export_format="annotations", enqueue=False)
        with CaptureQueriesContext(connection) as captured:
            export_run(export_id=export.pk)
        return len(captured)

    assert queries_for(3) == queries_for(20)


@pytest.mark.parametrize(
    "kwargs, field, message",
    [
        ({"export_format": "csv"}, "format", "Unknown format 'csv'; use one of processbench, trl, math_shepherd, "),
        ({"file_format": "xlsx"}, "file_format", "Unknown file format 'xlsx'; use one of jsonl, jsonl.gz, parquet."),
        ({"split_ratios": "0.9,0.2,0.1"}, "split_ratios", "Ratios must sum to 1 (they sum to 1.2)."),
        ({"seed": -1}, "seed", "Must be an integer from 0 to 2147483647."),
        ({"filters": {"min_agreement": 2}}, "filters.min_agreement", "Must be a number from 0 to 1 (got 2)."),
    ],
)
def test_create_names_the_bad_field(pb_dataset, kwargs, field, message):
    arguments = {"export_format": "trl", **kwargs}
    with pytest.raises(ApplicationError) as caught:
        export_create(dataset=pb_dataset, created_by=None, enqueue=False, **arguments)
    assert caught.value.errors[field][0].startswith(message)
    assert caught.value.message.startswith(f"Invalid export: {field}: ")
    assert not Export.objects.exists()


def test_create_refuses_a_non_empty_output_folder(pb_dataset, tmp_path):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    with pytest.raises(ApplicationError) as caught:
        export_create(
            dataset=pb_dataset, created_by=None, export_format="trl", output_dir=tmp_path / "taken", enqueue=False
        )
    assert caught.value.errors == {
        "output_dir": [f"{tmp_path / 'taken'} already exists and is not an empty folder; choose a new folder."]
    }


def test_failure_is_recorded_on_the_row_and_leaves_no_folder(pb_dataset, export_root, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_services, "write_export_folder", broken)
    export = run(pb_dataset)
    assert export.status == "failed"
    assert export.error == "OSError: disk full"
    assert export.finished_at is not None
    assert not Path(export.output_dir).exists()
    assert not list((export_root / "pb-sample").iterdir())  # the temporary folder is gone too


def test_run_is_idempotent_once_finished(pb_dataset, export_root):
    export = run(pb_dataset)
    finished_at = export.finished_at
    again = export_run(export_id=export.pk)
    assert again.status == "succeeded" and again.finished_at == finished_at


def test_a_run_left_running_by_a_lost_worker_runs_again(pb_dataset, export_root):
    export = export_create(dataset=pb_dataset, created_by=None, export_format="trl", enqueue=False)
    Export.objects.filter(pk=export.pk).update(status="running", rows_total=30, rows_done=12)
    assert export_run(export_id=export.pk).status == "succeeded"


def test_progress_is_reported(pb_dataset, export_root):
    seen = []
    export = export_create(dataset=pb_dataset, created_by=None, export_format="trl", enqueue=False)
    export_run(export_id=export.pk, on_progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (30, 30)


def test_create_enqueues_after_commit(pb_dataset, export_root, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        export = export_create(dataset=pb_dataset, created_by=None, export_format="trl")
    assert len(callbacks) == 1
    export.refresh_from_db()
    assert export.status == "succeeded"  # CELERY_TASK_ALWAYS_EAGER in tests: the task ran in-process


def test_broker_down_refuses_the_export_and_keeps_no_row(
    pb_dataset, export_root, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    from annotations import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379")

    monkeypatch.setattr(tasks.run_export, "delay", unreachable)
    with pytest.raises(ServiceUnavailableError) as refused, django_capture_on_commit_callbacks(execute=True):
        export_create(dataset=pb_dataset, created_by=None, export_format="trl")
    assert refused.value.message == (
        "The export could not be queued: the task queue is unavailable. Nothing was started; try again shortly."
    )
    assert refused.value.errors == {"queue": ["The task queue is unavailable; nothing was started."]}
    assert http_status(refused.value) == 503
    assert not Export.objects.exists()
    assert not list(export_root.rglob("*"))
    assert "redis:6379" in caplog.text  # the log keeps the detail the client never sees
