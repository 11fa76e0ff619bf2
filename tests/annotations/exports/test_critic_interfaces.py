"""The critic exports through the command, the API and the admin: `--critique-source` and its refusals."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from annotations.models import Export
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_command_exports_critique_rows_and_says_what_it_left_out(critic_dataset, tmp_path):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "export_labels",
        "--dataset=pb-sample",
        "--format=critique",
        "--critique-source=both",
        f"--out={tmp_path / 'critique'}",
        "--split=1,0,0",
        "--no-progress",
        stdout=out,
        stderr=err,
    )
    export = Export.objects.get()
    assert (export.format, export.critique_source, export.status) == ("critique", "both", "succeeded")
    assert (
        out.getvalue().splitlines()[0]
        == f"Export {export.pk}: 34 rows from 30 solutions (train 34, validation 0, test 0)"
    )
    assert (
        "note: rows left out (no explanation written by people: 10; no judge critique agreeing with the final "
        "label: 16); the card's 'Skipped rows' lists them too."
    ) in err.getvalue()
    manifest = json.loads((tmp_path / "critique" / "manifest.json").read_text())
    assert (manifest["format"], manifest["critique_source"]) == ("critique", "both")


def test_command_refuses_a_critique_source_for_other_formats(pb_dataset):
    with pytest.raises(CommandError) as caught:
        call_command("export_labels", "--dataset=pb-sample", "--format=trl", "--critique-source=judge", "--no-progress")
    assert str(caught.value) == "--critique-source: Only the critique and step_feedback formats take a critique source."
    assert not Export.objects.exists()


def test_api_starts_a_critique_export_with_a_source(critic_dataset, export_root, django_capture_on_commit_callbacks):
    dataset, _ = critic_dataset
    manager = UserFactory(username="mona")
    MembershipFactory(dataset=dataset, user=manager, role="manager")
    client = APIClient()
    client.force_authenticate(manager)

    def start(payload):
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/api/v1/exports/", data=json.dumps(payload), content_type="application/json")

    response = start({"dataset": "pb-sample", "format": "step_feedback", "critique_source": "judge"})
    assert response.status_code == 202, response.json()
    detail = client.get(f"/api/v1/exports/{response.json()['id']}/").json()
    assert (detail["format"], detail["critique_source"], detail["status"]) == ("step_feedback", "judge", "succeeded")
    assert sum(detail["row_counts"].values()) == 14
    refused = start({"dataset": "pb-sample", "format": "critique", "critique_source": "people"})
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"critique_source": ['"people" is not a valid choice.']}
    wrong_format = start({"dataset": "pb-sample", "format": "qwen_prm", "critique_source": "human"})
    assert wrong_format.status_code == 400
    assert wrong_format.json() == {
        "message": "Invalid export: critique_source: Only the critique and step_feedback formats take a critique "
        "source.",
        "errors": {"critique_source": ["Only the critique and step_feedback formats take a critique source."]},
    }
    assert Export.objects.count() == 1


def test_admin_export_form_takes_the_critique_source(
    critic_dataset, client, export_root, django_capture_on_commit_callbacks
):
    dataset, _ = critic_dataset
    client.force_login(UserFactory(username="admin", is_staff=True, is_superuser=True))
    url = "/admin/annotations/dataset/"
    page = client.post(url, {"action": "export_labels", "_selected_action": [dataset.pk]})
    assert 'name="critique_source"' in page.content.decode()
    form = {
        "action": "export_labels",
        "_selected_action": [dataset.pk],
        "apply": "1",
        "export_format": "critique",
        "file_format": "parquet",
        "split_ratios": "0.8,0.1,0.1",
        "seed": "0",
        "critique_source": "judge",
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, form, follow=True)
    export = Export.objects.get()
    assert (export.format, export.critique_source, export.status) == ("critique", "judge", "succeeded")
    assert "Started 1 export(s) (pb-sample: critique)." in response.content.decode()
    assert Path(export.output_dir, "manifest.json").exists()
    refused = client.post(url, {**form, "export_format": "trl"})
    assert "Only the critique and step_feedback formats take a critique source." in refused.content.decode()
    assert Export.objects.count() == 1
