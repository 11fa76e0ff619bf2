"""Datasets over REST: create with validated protocol settings, list with roles, change settings."""

import pytest

from annotations.models import Dataset, DatasetMembership
from tests.annotations.api_support import token_client
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db):
    return token_client(UserFactory(username="root", is_staff=True))


def test_create_with_protocol_settings(staff_client):
    body = {
        "name": "ProcessBench gsm8k",
        "slug": "pb-gsm8k",
        "guidelines": "Mark the **earliest** wrong step.",
        "annotations_per_solution": 3,
        "max_annotations": 5,
        "agreement_mode": "review",
        "triage_mode": "disagreement_only",
        "audit_rate": 0.2,
        "blind": True,
        "scoring_methods": ["arithmetic", "mc"],
    }
    response = staff_client.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 201
    data = response.json()
    for name, value in body.items():
        assert data[name] == value, name
    assert data["solution_count"] == 0
    dataset = Dataset.objects.get(slug="pb-gsm8k")
    assert dataset.triage_mode == "disagreement_only"
    assert DatasetMembership.objects.get(dataset=dataset).role == "manager"


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"slug": "ok"}, "name", "This field is required."),
        (
            {"name": "x", "slug": "not a slug"},
            "slug",
            'Enter a valid "slug" consisting of letters, numbers, underscores or hyphens.',
        ),
        (
            {"name": "x", "slug": "x", "annotations_per_solution": 0},
            "annotations_per_solution",
            "Ensure this value is greater than or equal to 1.",
        ),
        (
            {"name": "x", "slug": "x", "annotations_per_solution": 4, "max_annotations": 3},
            "max_annotations",
            "Must be at least annotations_per_solution (4).",
        ),
        ({"name": "x", "slug": "x", "audit_rate": 1.5}, "audit_rate", "Ensure this value is less than or equal to 1."),
        ({"name": "x", "slug": "x", "agreement_mode": "vote"}, "agreement_mode", '"vote" is not a valid choice.'),
        ({"name": "x", "slug": "x", "scoring_methods": ["mc", "mc"]}, "scoring_methods", "List each method once."),
        ({"name": "x", "slug": "x", "blind": "sometimes"}, "blind", "Must be true or false."),
        # JSON says what it means: no "2" for 2, "yes" or 1 for true, 5 for a name (DRF would convert them)
        (
            {"name": "x", "slug": "x", "annotations_per_solution": "2"},
            "annotations_per_solution",
            "Must be an integer.",
        ),
        (
            {"name": "x", "slug": "x", "annotations_per_solution": 2.0},
            "annotations_per_solution",
            "Must be an integer.",
        ),
        ({"name": "x", "slug": "x", "blind": "yes"}, "blind", "Must be true or false."),
        ({"name": "x", "slug": "x", "show_reference": 1}, "show_reference", "Must be true or false."),
        ({"name": "x", "slug": "x", "audit_rate": "0.5"}, "audit_rate", "Must be a number."),
        ({"name": 5, "slug": "x"}, "name", "Must be a string."),
        ({"name": "x", "slug": "x", "agreement_mode": 1}, "agreement_mode", "Must be a string."),
        ({"name": "x", "slug": "x", "owner": "me"}, "owner", None),
    ],
)
def test_create_refuses_bad_settings_naming_the_field(staff_client, body, field, message):
    response = staff_client.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == [field]
    if message is None:
        assert errors[field][0].startswith("Unknown field. Allowed fields: ")
    else:
        assert errors[field] == [message]
    assert not Dataset.objects.exists()


def test_a_taken_slug_is_refused(staff_client):
    DatasetFactory(slug="taken")
    response = staff_client.post("/api/v1/datasets/", {"name": "Again", "slug": "taken"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "A dataset with the slug 'taken' already exists.",
        "errors": {"slug": ["A dataset with this slug already exists."]},
    }


def test_the_list_shows_only_my_datasets_with_role_and_count(db):
    user = UserFactory()
    mine = DatasetFactory(name="Mine", slug="mine")
    MembershipFactory(dataset=mine, user=user, role="reviewer")
    DatasetFactory(name="Theirs", slug="theirs")
    SolutionFactory.create_batch(2, dataset=mine)
    rows = token_client(user).get("/api/v1/datasets/").json()["results"]
    assert [(row["slug"], row["role"], row["solution_count"]) for row in rows] == [("mine", "reviewer", 2)]


def test_staff_list_every_dataset(staff_client):
    DatasetFactory(name="A", slug="a")
    DatasetFactory(name="B", slug="b")
    assert [row["slug"] for row in staff_client.get("/api/v1/datasets/").json()["results"]] == ["a", "b"]


def test_the_dataset_list_runs_a_constant_number_of_queries(db, django_assert_num_queries):
    user = UserFactory()
    for index in range(5):
        dataset = DatasetFactory()
        MembershipFactory(dataset=dataset, user=user)
        SolutionFactory.create_batch(index, dataset=dataset)
    client = token_client(user)
    with django_assert_num_queries(3):  # token, count, page
        assert client.get("/api/v1/datasets/").json()["count"] == 5


def test_patch_refuses_a_wrong_json_type_and_keeps_the_setting(manager, dataset):
    response = token_client(manager).patch(f"/api/v1/datasets/{dataset.slug}/", {"blind": "no"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid input. blind: Must be true or false.",
        "errors": {"blind": ["Must be true or false."]},
    }
    before = dataset.blind
    dataset.refresh_from_db()
    assert dataset.blind == before


def test_patch_changes_only_what_is_sent(manager, dataset):
    client = token_client(manager)
    response = client.patch("/api/v1/datasets/demo/", {"claim_minutes": 45, "name": "Renamed"}, format="json")
    assert response.status_code == 200
    dataset.refresh_from_db()
    assert (dataset.claim_minutes, dataset.name, dataset.annotations_per_solution) == (45, "Renamed", 3)


def test_patch_checks_the_settings_against_the_stored_ones(manager, dataset):
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"max_annotations": 2}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"max_annotations": ["Must be at least annotations_per_solution (3)."]}
    dataset.refresh_from_db()
    assert dataset.max_annotations == 5


def test_patch_refuses_a_taken_slug(manager, dataset):
    DatasetFactory(slug="other")
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"slug": "other"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"slug": ["A dataset with this slug already exists."]}
