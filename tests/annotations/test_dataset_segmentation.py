"""A dataset's segmentation settings: the API, the service and the admin refuse the same bad patterns."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from django.urls import reverse

from annotations.models import Dataset
from annotations.services.datasets import dataset_create, dataset_update
from annotations.services.ingestion import SolutionInput, solutions_ingest
from prmweb.errors import ApplicationError
from tests.annotations.admin_helpers import admin_dataset_form
from tests.annotations.api_support import token_client
from tests.factories import DatasetFactory, UserFactory

pytestmark = pytest.mark.django_db

CATASTROPHIC = (
    "Backtracks catastrophically: it ran out of time on a 41-character test text. "
    "Avoid nested or overlapping repetition such as (a|aa)+ or (\\n|\\n\\n)+."
)


@pytest.fixture
def staff_client(db):
    return token_client(UserFactory(username="root", is_staff=True))


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_a_new_dataset_splits_paragraphs_and_has_no_pattern(staff_client):
    data = staff_client.post("/api/v1/datasets/", {"name": "x", "slug": "x"}, format="json").json()
    assert (data["segmentation"], data["segmentation_pattern"]) == ("paragraphs", "")


def test_create_and_change_the_segmentation_over_rest(staff_client):
    body = {"name": "x", "slug": "x", "segmentation": "pattern", "segmentation_pattern": r"\n(?=Step \d+:)"}
    response = staff_client.post("/api/v1/datasets/", body, format="json")
    assert response.status_code == 201
    assert (response.json()["segmentation"], response.json()["segmentation_pattern"]) == ("pattern", r"\n(?=Step \d+:)")
    response = staff_client.patch("/api/v1/datasets/x/", {"segmentation": "lines"}, format="json")
    assert response.status_code == 200
    dataset = Dataset.objects.get(slug="x")
    assert (dataset.segmentation, dataset.segmentation_pattern) == ("lines", r"\n(?=Step \d+:)")


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"segmentation_pattern": "("},
            "segmentation_pattern",
            "Not a valid regular expression: missing ) at position 1.",
        ),
        ({"segmentation_pattern": r"(a|aa)+$"}, "segmentation_pattern", CATASTROPHIC),
        (
            {"segmentation_pattern": r"\s*"},
            "segmentation_pattern",
            "Matches the empty string, so it would split between every character; make it match at least one "
            "character, or use a lookahead such as (?=Step \\d+:).",
        ),
        ({"segmentation": "pattern"}, "segmentation_pattern", "Required when segmentation is pattern."),
        ({"segmentation": "sentences"}, "segmentation", '"sentences" is not a valid choice.'),
    ],
)
def test_bad_segmentation_settings_are_refused_naming_the_field(staff_client, body, field, message):
    response = staff_client.post("/api/v1/datasets/", {"name": "x", "slug": "x", **body}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not Dataset.objects.exists()


def test_patch_cannot_drop_the_pattern_while_segmentation_is_pattern(staff_client):
    DatasetFactory(slug="x", segmentation="pattern", segmentation_pattern=r"\n---\n")
    response = staff_client.patch("/api/v1/datasets/x/", {"segmentation_pattern": ""}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"segmentation_pattern": ["Required when segmentation is pattern."]}
    assert Dataset.objects.get(slug="x").segmentation_pattern == r"\n---\n"


def test_the_services_refuse_what_the_api_refuses():
    with pytest.raises(ApplicationError) as raised:
        dataset_create(user=AnonymousUser(), name="x", slug="x", segmentation_pattern=r"(\n|\n\n)+x")
    assert raised.value.errors == {"segmentation_pattern": [CATASTROPHIC.replace("41-character", "40-character")]}
    dataset = DatasetFactory(slug="y")
    with pytest.raises(ApplicationError) as raised:
        dataset_update(dataset=dataset, segmentation="pattern")
    assert raised.value.errors == {"segmentation_pattern": ["Required when segmentation is pattern."]}


def test_the_database_refuses_pattern_mode_without_a_pattern():
    dataset = DatasetFactory(slug="y")
    with pytest.raises(IntegrityError):
        Dataset.objects.filter(pk=dataset.pk).update(segmentation="pattern")


def test_the_admin_form_refuses_a_catastrophic_pattern_and_stores_a_good_one(admin_client):
    url = reverse("admin:annotations_dataset_add")
    response = admin_client.post(url, admin_dataset_form(segmentation="pattern", segmentation_pattern=r"(a|aa)+$"))
    assert response.status_code == 200  # the form again, with the error
    assert "Backtracks catastrophically: it ran out of time on a 41-character test text." in response.content.decode()
    response = admin_client.post(url, admin_dataset_form(segmentation="pattern", segmentation_pattern=""))
    assert "Required when segmentation is pattern." in response.content.decode()
    assert not Dataset.objects.exists()
    response = admin_client.post(url, admin_dataset_form(segmentation="pattern", segmentation_pattern=r"(?=Step \d+:)"))
    assert response.status_code == 302
    dataset = Dataset.objects.get(slug="admin-made")
    assert (dataset.segmentation, dataset.segmentation_pattern) == ("pattern", r"(?=Step \d+:)")


def test_the_solution_admin_shows_the_response_read_only(admin_client):
    dataset = DatasetFactory(slug="y")
    result = solutions_ingest(dataset=dataset, items=[SolutionInput(problem="p", response="<b>a</b>\n\nb")])
    page = admin_client.get(reverse("admin:annotations_solution_change", args=[result.items[0].solution_id]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "&lt;b&gt;a&lt;/b&gt;" in body and "[[0, 8], [10, 11]]" in body
    assert 'name="response"' not in body  # shown, not editable
