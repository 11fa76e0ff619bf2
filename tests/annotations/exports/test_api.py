"""`/api/v1/exports/`: start (202), watch, download; dataset managers and staff only."""

import io
import json
import zipfile

import pytest
from rest_framework.test import APIClient

from annotations.models import Export
from tests.annotations.exports.conftest import load_folder
from tests.factories import DatasetFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

EXPORTS = "/api/v1/exports/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def pb_manager(pb_dataset):
    user = UserFactory(username="mona")
    MembershipFactory(dataset=pb_dataset, user=user, role="manager")
    return user


@pytest.fixture
def pb_annotator(pb_dataset):
    user = UserFactory(username="alice")
    MembershipFactory(dataset=pb_dataset, user=user, role="annotator")
    return user


def start(client: APIClient, payload: dict, capture):
    with capture(execute=True):
        return client.post(EXPORTS, data=json.dumps(payload), content_type="application/json")


def test_manager_starts_an_export_and_downloads_it(
    pb_manager, export_root, tmp_path, django_capture_on_commit_callbacks
):
    client = client_for(pb_manager)
    response = start(
        client,
        {"dataset": "pb-sample", "format": "trl", "file_format": "jsonl.gz", "split_ratios": [0.6, 0.2, 0.2]},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 202, response.json()
    body = response.json()
    assert body["status"] in ("queued", "succeeded")  # the embedded default runs it right after the commit
    export_id = body["id"]

    detail = client.get(f"{EXPORTS}{export_id}/").json()
    assert detail["status"] == "succeeded"
    assert detail["progress"] == 1.0
    assert detail["rows_done"] == detail["rows_total"] == 30
    assert detail["split_ratios"] == {"train": 0.6, "validation": 0.2, "test": 0.2}
    assert detail["created_by"] == "mona"
    assert detail["download_url"] == f"http://testserver{EXPORTS}{export_id}/download/"
    files = {entry["path"]: entry for entry in detail["files"]}
    assert files["README.md"]["url"] == f"http://testserver{EXPORTS}{export_id}/download/?file=README.md"

    card = client.get(f"{EXPORTS}{export_id}/download/", {"file": "README.md"})
    assert card.status_code == 200
    assert card["Content-Disposition"] == 'attachment; filename="README.md"'
    assert b"configs:" in b"".join(card.streaming_content)

    archive = client.get(f"{EXPORTS}{export_id}/download/")
    assert archive.status_code == 200
    content = b"".join(archive.streaming_content)
    folder_name = f"export-{export_id:06d}-trl"
    with zipfile.ZipFile(io.BytesIO(content)) as zipped:
        assert sorted(zipped.namelist()) == sorted(f"{folder_name}/{path}" for path in files)
        zipped.extractall(tmp_path / "unzipped")
    loaded = load_folder(tmp_path / "unzipped" / folder_name, tmp_path / "cache")
    assert sum(len(loaded[split]) for split in loaded) == 30


def test_list_shows_the_exports_of_managed_datasets(
    pb_manager, pb_annotator, export_root, django_capture_on_commit_callbacks
):
    start(client_for(pb_manager), {"dataset": "pb-sample", "format": "qwen_prm"}, django_capture_on_commit_callbacks)
    listed = client_for(pb_manager).get(EXPORTS).json()
    assert listed["count"] == 1
    assert listed["results"][0]["format"] == "qwen_prm"
    assert client_for(pb_manager).get(EXPORTS, {"dataset": "other"}).json()["count"] == 0
    assert client_for(pb_annotator).get(EXPORTS).json()["count"] == 0
    staff = UserFactory(username="root", is_staff=True)
    assert client_for(staff).get(EXPORTS).json()["count"] == 1


def test_annotators_may_not_export_or_download(
    pb_manager, pb_annotator, export_root, django_capture_on_commit_callbacks
):
    response = start(
        client_for(pb_annotator), {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 403
    assert response.json() == {
        "message": "Only the dataset's managers and staff may export it or see its exports.",
        "errors": {},
    }
    export_id = start(
        client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks
    ).json()["id"]
    assert client_for(pb_annotator).get(f"{EXPORTS}{export_id}/").status_code == 403
    assert client_for(pb_annotator).get(f"{EXPORTS}{export_id}/download/").status_code == 403


def test_non_members_get_404_and_anonymous_401(pb_manager, export_root, django_capture_on_commit_callbacks):
    export_id = start(
        client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks
    ).json()["id"]
    stranger = client_for(UserFactory(username="eve"))
    assert stranger.get(f"{EXPORTS}{export_id}/").status_code == 404
    assert stranger.get(f"{EXPORTS}{export_id}/download/", {"file": "README.md"}).status_code == 404
    response = start(stranger, {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks)
    assert response.status_code == 404
    assert APIClient().get(EXPORTS).status_code == 401


@pytest.mark.parametrize("slug", ["no-such-dataset", "pb-sample"])
def test_a_dataset_the_user_cannot_see_is_named_under_the_field_they_sent(slug, pb_manager, export_root):
    """The body's field is `dataset`; the 404 used to name `slug`, a field the client never sent."""
    stranger = client_for(UserFactory(username="eve"))
    response = stranger.post(EXPORTS, {"dataset": slug, "format": "trl"}, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "message": f"Dataset {slug!r} not found.",
        "errors": {"dataset": ["No dataset with this slug is visible to you."]},
    }


def test_bad_input_names_the_field(pb_manager, django_capture_on_commit_callbacks):
    client = client_for(pb_manager)
    response = start(
        client,
        {"dataset": "pb-sample", "format": "trl", "filters": {"min_agreement": 3, "label_sources": ["vibes"]}},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "filters.min_agreement": ["Must be a number from 0 to 1 (got 3)."],
        "filters.label_sources": [
            "Unknown label source(s) vibes; use unanimous, majority, review, consensus_auto, imported."
        ],
    }
    response = start(client, {"dataset": "pb-sample", "format": "csv"}, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ['"csv" is not a valid choice.']}
    response = start(client, {"format": "trl"}, django_capture_on_commit_callbacks)
    assert response.status_code == 400
    assert response.json()["errors"] == {"dataset": ["This field is required: the slug of the dataset to export."]}
    response = start(
        client, {"dataset": "pb-sample", "format": "trl", "out": "/etc"}, django_capture_on_commit_callbacks
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["out"]
    assert not Export.objects.exists()


def test_download_of_an_unfinished_export_or_unknown_file(pb_manager, export_root):
    export = Export.objects.create(dataset=pb_manager.dataset_memberships.get().dataset, format="trl")
    client = client_for(pb_manager)
    response = client.get(f"{EXPORTS}{export.pk}/download/")
    assert response.status_code == 409
    assert response.json()["message"] == f"Export {export.pk} is queued; files can be downloaded once it has succeeded."
    assert client.get(f"{EXPORTS}{export.pk}/").json()["download_url"] is None


def test_only_recorded_files_can_be_downloaded(pb_manager, export_root, django_capture_on_commit_callbacks):
    client = client_for(pb_manager)
    export_id = start(client, {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks).json()[
        "id"
    ]
    response = client.get(f"{EXPORTS}{export_id}/download/", {"file": "../../../etc/passwd"})
    assert response.status_code == 404
    assert response.json()["message"] == f"Export {export_id} has no file '../../../etc/passwd'."


QUEUE_DOWN = "The export could not be queued: the task queue is unavailable. Nothing was started; try again shortly."


def _post(client: APIClient, payload: dict):
    """POST outside any test transaction (transactional_db): after-commit work runs in the request, as served."""
    return client.post(EXPORTS, data=json.dumps(payload), content_type="application/json")


def test_embedded_default_runs_the_export_in_the_request_and_says_so(transactional_db, pb_manager, export_root):
    response = _post(client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"})
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["message"] == (
        "No task queue is configured (the embedded default), so the export ran in this request: it has succeeded."
    )
    assert (body["status"], body["rows_done"], body["progress"]) == ("succeeded", 30, 1.0)
    assert body["download_url"] == f"http://testserver{EXPORTS}{body['id']}/download/"


def test_with_a_broker_the_export_is_queued_with_202(transactional_db, pb_manager, export_root, monkeypatch):
    from annotations import tasks

    sent: list[int] = []
    monkeypatch.setattr(tasks.run_export, "delay", sent.append)
    response = _post(client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"})
    assert response.status_code == 202, response.json()
    body = response.json()
    assert (body["status"], body["message"]) == (
        "queued",
        "The export was handed to the task queue; poll its url for status and progress.",
    )
    assert sent == [body["id"]]


def test_with_a_broker_a_fast_worker_still_gets_a_202(transactional_db, pb_manager, export_root, monkeypatch):
    from annotations import tasks
    from annotations.apis import exports as export_apis
    from annotations.services.exports import export_run

    monkeypatch.setattr(export_apis, "export_runs_in_process", lambda: False)
    monkeypatch.setattr(tasks.run_export, "delay", lambda export_id: export_run(export_id=export_id))
    response = _post(client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"})
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["message"]) == (
        "succeeded",
        "The export was handed to the task queue; poll its url for status and progress.",
    )


def test_an_export_that_cannot_be_queued_is_a_503_and_leaves_nothing(
    transactional_db, pb_manager, export_root, monkeypatch, caplog
):
    from annotations import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 10.20.30.40:6379. Connection refused.")

    monkeypatch.setattr(tasks.run_export, "delay", unreachable)
    response = _post(client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"})
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "message": QUEUE_DOWN,
        "errors": {"queue": ["The task queue is unavailable; nothing was started."]},
    }
    assert b"10.20.30.40" not in response.content
    assert "10.20.30.40:6379" in caplog.text  # the log keeps the detail
    assert not Export.objects.exists()
    assert client_for(pb_manager).get(EXPORTS).json()["count"] == 0


def test_a_failed_export_shows_no_internal_address(pb_manager, export_root, monkeypatch):
    from annotations.services import exports as export_services

    def storage_down(export, on_progress):
        raise OSError("object store at 10.1.2.3:9000 refused the upload")

    monkeypatch.setattr(export_services, "_write", storage_down)
    export = export_services.export_create(
        dataset=pb_manager.dataset_memberships.get().dataset, created_by=pb_manager, export_format="trl", enqueue=False
    )
    export_services.export_run(export_id=export.pk)
    response = client_for(pb_manager).get(f"{EXPORTS}{export.pk}/")
    assert response.json()["error"] == "OSError: object store at [address hidden] refused the upload"
    assert b"10.1.2.3" not in response.content


def test_probing_an_invisible_export_answers_exactly_like_a_missing_one(
    pb_manager, export_root, django_capture_on_commit_callbacks
):
    export_id = start(
        client_for(pb_manager), {"dataset": "pb-sample", "format": "trl"}, django_capture_on_commit_callbacks
    ).json()["id"]
    outsider = UserFactory(username="eve")
    MembershipFactory(dataset=DatasetFactory(slug="eves"), user=outsider, role="manager")
    client = client_for(outsider)
    missing_id = export_id + 1000
    for suffix in ("", "download/", "download/?file=README.md"):
        hidden = client.get(f"{EXPORTS}{export_id}/{suffix}")
        missing = client.get(f"{EXPORTS}{missing_id}/{suffix}")
        assert (hidden.status_code, missing.status_code) == (404, 404)
        assert hidden.json() == {
            "message": f"Export {export_id} not found.",
            "errors": {"id": ["No export with this id."]},
        }
        assert missing.json() == {
            "message": f"Export {missing_id} not found.",
            "errors": {"id": ["No export with this id."]},
        }
        assert b"pb-sample" not in hidden.content
