"""Scoring runs over REST, in the embedded default (the run executes in-process before the response)."""

import pytest
from rest_framework.test import APIClient

from annotations.models import Suggestion
from scoring.configuration import method_configuration
from scoring.models import ScoringRun
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

WRONG = ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]
RIGHT = ["We add 12 and 30.", "12 + 30 = 42.", "So the answer is \\boxed{42}."]


@pytest.fixture
def scored_dataset():
    dataset = DatasetFactory(slug="sums")
    for index, steps in enumerate((WRONG, RIGHT, RIGHT)):
        SolutionFactory(dataset=dataset, steps=[f"Solution {index}.", *steps[1:]], num_steps=3)
    return dataset


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _member(dataset, role):
    user = UserFactory()
    MembershipFactory(dataset=dataset, user=user, role=role)
    return user


def test_a_manager_starts_a_run_and_reads_its_progress_and_cost(scored_dataset, django_capture_on_commit_callbacks):
    manager = _member(scored_dataset, "manager")

    with django_capture_on_commit_callbacks(execute=True):
        response = _client(manager).post(
            "/api/v1/scoring-runs/", {"dataset": "sums", "method": "arithmetic", "limit": 2}, format="json"
        )

    assert response.status_code == 202
    run = ScoringRun.objects.get()
    detail = _client(manager).get(f"/api/v1/scoring-runs/{run.pk}/").json()
    assert detail["url"] == f"http://testserver/api/v1/scoring-runs/{run.pk}/"
    assert {k: detail[k] for k in ("dataset", "method", "status", "total", "succeeded", "failed", "done")} == {
        "dataset": "sums",
        "method": "arithmetic",
        "status": "succeeded",
        "total": 2,
        "succeeded": 2,
        "failed": 0,
        "done": 2,
    }
    assert detail["progress"] == 1.0
    assert detail["config_key"] == method_configuration("arithmetic").config_key
    assert detail["created_by"] == manager.username
    assert set(detail["cost"]) == {"rollouts", "prompt_tokens", "generated_tokens", "seconds"}
    assert Suggestion.objects.filter(method="arithmetic", status="succeeded").count() == 2
    listing = _client(manager).get("/api/v1/scoring-runs/?dataset=sums").json()
    assert [item["id"] for item in listing["results"]] == [run.pk]


def test_a_second_run_without_force_has_nothing_left_to_do(scored_dataset, django_capture_on_commit_callbacks):
    client = _client(_member(scored_dataset, "manager"))
    body = {"dataset": "sums", "method": "arithmetic"}

    def start(extra=None):
        with django_capture_on_commit_callbacks(execute=True):
            run_id = client.post("/api/v1/scoring-runs/", {**body, **(extra or {})}, format="json").json()["id"]
        return client.get(f"/api/v1/scoring-runs/{run_id}/").json()

    start()
    second = start()
    forced = start({"force": True})

    assert (second["status"], second["total"]) == ("succeeded", 0)
    assert (forced["status"], forced["total"], forced["succeeded"]) == ("succeeded", 3, 3)
    assert Suggestion.objects.filter(method="arithmetic").count() == 3


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"dataset": "sums", "method": "astrology"}, "method", '"astrology" is not a valid choice.'),
        ({"dataset": "sums", "method": "consensus"}, "method", '"consensus" is not a valid choice.'),
        (
            {"dataset": "sums", "method": "arithmetic", "limit": 0},
            "limit",
            "Ensure this value is greater than or equal to 1.",
        ),
        ({"dataset": "sums", "method": "arithmetic", "colour": "red"}, "colour", "Unknown field."),
        (
            {"dataset": "sums", "method": "arithmetic", "parameters": {"approx_tolerance": 3}},
            "parameters.approx_tolerance",
            "must be in [0, 1)",
        ),
        ({"dataset": "sums", "method": "mc", "parameters": {"strategy": "dfs"}}, "parameters.strategy", "must be"),
        (
            {"dataset": "sums", "method": "mc", "parameters": {"prompt_template": "\x00{question}{steps}"}},
            "parameters.prompt_template",
            "NUL character",
        ),
        (
            {"dataset": "sums", "method": "mc", "parameters": {"sampling": {"stop": ["\x00"]}}},
            "parameters.sampling.stop[0]",
            "NUL character",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field(scored_dataset, body, field, message):
    response = _client(_member(scored_dataset, "manager")).post("/api/v1/scoring-runs/", body, format="json")

    assert response.status_code == 400
    assert message in str(response.json()["errors"][field])
    assert not ScoringRun.objects.exists()


def test_annotators_may_not_start_runs_and_strangers_do_not_see_the_dataset(scored_dataset):
    annotator = _member(scored_dataset, "annotator")
    body = {"dataset": "sums", "method": "arithmetic"}

    refused = _client(annotator).post("/api/v1/scoring-runs/", body, format="json")
    hidden = _client(UserFactory()).post("/api/v1/scoring-runs/", body, format="json")

    assert refused.status_code == 403
    assert refused.json()["message"] == "Only the dataset's managers and staff may start or see its scoring runs."
    assert hidden.status_code == 404
    assert APIClient().get("/api/v1/scoring-runs/").status_code == 401


def test_a_malformed_dataset_filter_is_a_400(scored_dataset):
    response = _client(_member(scored_dataset, "manager")).get("/api/v1/scoring-runs/?dataset=%00")

    assert response.status_code == 400
    assert "dataset" in response.json()["errors"]


def test_runs_are_visible_to_their_dataset_managers_and_staff_only(scored_dataset):
    run = ScoringRun.objects.create(dataset=scored_dataset, method="mc")
    other_manager = _member(DatasetFactory(), "manager")
    annotator = _member(scored_dataset, "annotator")
    staff = UserFactory(is_staff=True)

    assert _client(other_manager).get(f"/api/v1/scoring-runs/{run.pk}/").status_code == 404
    assert _client(annotator).get("/api/v1/scoring-runs/").json()["results"] == []
    assert _client(staff).get(f"/api/v1/scoring-runs/{run.pk}/").json()["status"] == "queued"


@pytest.mark.django_db(transaction=True)
def test_a_run_that_cannot_be_queued_is_a_503_and_leaves_nothing(scored_dataset, monkeypatch, caplog):
    from scoring import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to 10.20.30.40:6379. Connection refused.")

    monkeypatch.setattr(tasks.start_scoring_run, "delay", unreachable)
    manager = _member(scored_dataset, "manager")
    # Outside any transaction of the test's own, so the after-commit start runs in the request, as served.
    response = _client(manager).post(
        "/api/v1/scoring-runs/", {"dataset": "sums", "method": "arithmetic"}, format="json"
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {
        "message": "The scoring run could not be queued: the task queue is unavailable. "
        "Nothing was started; try again shortly.",
        "errors": {"queue": ["The task queue is unavailable; nothing was started."]},
    }
    assert b"10.20.30.40" not in response.content
    assert "10.20.30.40:6379" in caplog.text  # the log keeps the detail
    assert not ScoringRun.objects.exists()
    assert not Suggestion.objects.exists()
