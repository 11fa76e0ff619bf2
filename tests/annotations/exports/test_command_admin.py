"""`manage.py export_labels` and the admin actions on datasets."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Export
from tests.annotations.exports.conftest import load_folder
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_command_exports_into_the_given_folder(pb_dataset, tmp_path):
    out = io.StringIO()
    call_command(
        "export_labels",
        "--dataset=pb-sample",
        "--format=math_shepherd",
        f"--out={tmp_path / 'ms'}",
        "--file-format=parquet",
        "--split=0.5,0.25,0.25",
        "--seed=4",
        "--subsets=gsm8k",
        "--no-progress",
        stdout=out,
    )
    export = Export.objects.get()
    assert export.status == "succeeded"
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"Export {export.pk}: 15 solutions (train ")
    assert lines[1] == str(tmp_path / "ms")
    manifest = json.loads((tmp_path / "ms" / "manifest.json").read_text())
    assert manifest["filters"] == {"subsets": ["gsm8k"]}
    assert manifest["seed"] == 4
    loaded = load_folder(tmp_path / "ms", tmp_path / "cache")
    rows = [row for split in loaded for row in loaded[split]]
    assert len(rows) == 15 and {row["task"] for row in rows} == {"gsm8k"}


def test_command_says_when_a_split_got_no_problem(pb_dataset, tmp_path):
    err = io.StringIO()
    call_command(
        "export_labels",
        "--dataset=pb-sample",
        "--format=trl",
        f"--out={tmp_path / 'x'}",
        "--split=0.999999,0.000001,0",
        "--no-progress",
        stdout=io.StringIO(),
        stderr=err,
    )
    assert err.getvalue().startswith("note: no problem fell into validation (splits are drawn per problem")


def test_command_draws_a_progress_bar(pb_dataset, tmp_path, capsys):
    call_command(
        "export_labels", "--dataset=pb-sample", "--format=trl", f"--out={tmp_path / 'x'}", stdout=io.StringIO()
    )
    assert "30/30" in capsys.readouterr().err


def test_in_a_log_the_command_prints_the_progress_line_once(pb_dataset, tmp_path, capsys):
    """Stderr that is not a terminal gets the bar's last line only: no stray "0rows" line, no carriage return."""
    out = io.StringIO()
    call_command("export_labels", "--dataset=pb-sample", "--format=trl", f"--out={tmp_path / 'x'}", stdout=out)
    err = capsys.readouterr().err
    progress = [line for line in err.splitlines() if line.startswith("export:")]
    assert len(progress) == 1 and progress[0].startswith("export: 100%|") and "30/30" in progress[0], err
    assert "\r" not in err and "0rows" not in err
    assert "export:" not in out.getvalue()


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--dataset=nope", "--format=trl"], "--dataset: no dataset with slug 'nope'."),
        (["--dataset=pb-sample", "--format=trl", "--split=0.5,0.5"], "--split: Give three ratios"),
        (["--dataset=pb-sample", "--format=trl", "--min-agreement=2"], "--min-agreement: Must be a number from 0 to 1"),
        (
            ["--dataset=pb-sample", "--format=trl", "--label-sources=gut"],
            "--label-sources: Unknown label source(s) gut",
        ),
        (["--dataset=pb-sample", "--format=trl", "--decided-after=soon"], "--decided-after: 'soon' is not an ISO 8601"),
        (["--dataset=pb-sample", "--format=trl", "--user=ghost"], "--user: no user named 'ghost'."),
    ],
)
def test_command_errors_name_the_option(pb_dataset, arguments, message):
    with pytest.raises(CommandError) as caught:
        call_command("export_labels", *arguments, "--no-progress")
    assert str(caught.value).startswith(message)
    assert not Export.objects.exists()


def test_command_refuses_a_folder_that_holds_files(pb_dataset, tmp_path):
    (tmp_path / "notes.txt").write_text("keep me")
    with pytest.raises(CommandError, match=r"^--out: .* already exists and is not an empty folder"):
        call_command("export_labels", "--dataset=pb-sample", "--format=trl", f"--out={tmp_path}", "--no-progress")
    assert (tmp_path / "notes.txt").read_text() == "keep me"


@pytest.fixture
def admin_client_logged(client):
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    return client


def test_admin_action_shows_the_form_then_starts_exports(
    pb_dataset, admin_client_logged, export_root, django_capture_on_commit_callbacks
):
    url = "/admin/annotations/dataset/"
    page = admin_client_logged.post(url, {"action": "export_labels", "_selected_action": [pb_dataset.pk]})
    assert page.status_code == 200
    assert "Export labels" in page.content.decode()
    assert 'name="export_format"' in page.content.decode()
    assert not Export.objects.exists()

    form = {
        "action": "export_labels",
        "_selected_action": [pb_dataset.pk],
        "apply": "1",
        "export_format": "qwen_prm",
        "file_format": "parquet",
        "split_ratios": "0.8,0.1,0.1",
        "seed": "2",
        "label_sources": ["imported"],
        "generators": "Qwen2-7B-Instruct, Qwen2-72B-Instruct",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged.post(url, form, follow=True)
    export = Export.objects.get()
    assert (export.format, export.file_format, export.seed) == ("qwen_prm", "parquet", 2)
    assert export.filters == {"label_sources": ["imported"], "generators": ["Qwen2-7B-Instruct", "Qwen2-72B-Instruct"]}
    assert export.status == "succeeded"
    assert export.rows_done == 4
    text = response.content.decode()
    assert "Started 1 export(s) (pb-sample: qwen_prm)." in text
    assert f"/admin/annotations/export/?id__in={export.pk}" in text

    listing = admin_client_logged.get(f"/admin/annotations/export/?id__in={export.pk}").content.decode()
    assert f"/api/v1/exports/{export.pk}/download/" in listing
    # The progress counts solutions read; the rows written are the splits' sum (a critic export differs).
    assert "Solutions read" in listing and "Rows written" in listing
    assert '<td class="field-solutions_read">4 / 4</td>' in listing
    assert f'<td class="field-rows_written">{sum(export.row_counts.values())}</td>' in listing
    change = admin_client_logged.get(f"/admin/annotations/export/{export.pk}/change/").content.decode()
    assert f"/api/v1/exports/{export.pk}/download/?file=README.md" in change
    assert "Solutions read:" in change and "Rows written:" in change and "Rows total" not in change
    download = admin_client_logged.get(f"/api/v1/exports/{export.pk}/download/?file=manifest.json")
    assert download.status_code == 200


def test_admin_form_shows_field_errors(pb_dataset, admin_client_logged):
    page = admin_client_logged.post(
        "/admin/annotations/dataset/",
        {
            "action": "export_labels",
            "_selected_action": [pb_dataset.pk],
            "apply": "1",
            "export_format": "trl",
            "file_format": "jsonl",
            "split_ratios": "0.9,0.9,0.1",
            "seed": "0",
        },
    )
    assert page.status_code == 200
    assert "Ratios must sum to 1 (they sum to 1.9)." in page.content.decode()
    assert not Export.objects.exists()


def test_admin_default_action_exports_processbench_jsonl(
    pb_dataset, admin_client_logged, export_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_logged.post(
            "/admin/annotations/dataset/",
            {"action": "export_labels_default", "_selected_action": [pb_dataset.pk]},
            follow=True,
        )
    export = Export.objects.get()
    assert (export.format, export.file_format, export.status) == ("processbench", "jsonl", "succeeded")
    assert "Started 1 export(s) (pb-sample: processbench)." in response.content.decode()
    assert Path(export.output_dir, "manifest.json").exists()


@pytest.mark.parametrize("action", ["export_labels_default", "export_labels"])
def test_admin_actions_say_when_the_task_queue_is_down(
    transactional_db, pb_dataset, admin_client_logged, export_root, monkeypatch, action
):
    from annotations import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 10.20.30.40:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_export, "delay", unreachable)
    form = {"action": action, "_selected_action": [pb_dataset.pk], "apply": "1", "export_format": "trl"}
    form |= {"file_format": "jsonl", "split_ratios": "0.8,0.1,0.1", "seed": "0"}
    response = admin_client_logged.post("/admin/annotations/dataset/", form, follow=True)
    assert response.status_code == 200
    text = response.content.decode()
    shown = {  # a message on the changelist, or a form error above the export form
        "export_labels_default": "The export could not be queued: the task queue is unavailable. Nothing was started",
        "export_labels": "The task queue is unavailable; nothing was started.",
    }
    assert shown[action] in text
    assert "10.20.30.40" not in text
    assert not Export.objects.exists()


def test_an_export_that_matches_nothing_fails_clearly_and_writes_nothing(pb_dataset, tmp_path):
    out = tmp_path / "empty"
    with pytest.raises(CommandError) as raised:
        call_command(
            "export_labels",
            "--dataset=pb-sample",
            "--format=trl",
            "--subsets=no-such-subset",
            f"--out={out}",
            "--no-progress",
        )
    assert str(raised.value).endswith(
        "failed: No solution matches this export's filters (only solutions with a final label are exported in "
        "this format). Nothing was written."
    )
    export = Export.objects.get()
    assert export.status == "failed"
    assert export.files == []
    assert not out.exists() or not any(out.iterdir())
