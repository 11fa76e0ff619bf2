"""A dataset's slug can change only before it is used: URLs, scripts and export folders name it."""

import pytest
from django.urls import reverse

from annotations.models import Dataset, Export
from tests.annotations.admin_helpers import admin_dataset_form
from tests.annotations.api_support import token_client
from tests.factories import SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


def _refusal(solutions: int, exports: int) -> str:
    return (
        f"The slug of dataset 'demo' cannot change: it has {solutions} solution(s) and {exports} export(s), and "
        "links, scripts and export folders use the slug. Change its name instead."
    )


def test_an_unused_dataset_may_take_a_new_slug(manager, dataset):
    response = token_client(manager).patch("/api/v1/datasets/demo/", {"slug": "renamed"}, format="json")
    assert response.status_code == 200, response.content
    assert Dataset.objects.get(pk=dataset.pk).slug == "renamed"


@pytest.mark.parametrize("used_by", ["solution", "export"])
def test_a_used_dataset_keeps_its_slug_and_says_why(manager, dataset, used_by):
    if used_by == "solution":
        SolutionFactory(dataset=dataset)
    else:
        Export.objects.create(dataset=dataset, format="trl")
    reason = _refusal(1 if used_by == "solution" else 0, 1 if used_by == "export" else 0)
    client = token_client(manager)
    response = client.patch("/api/v1/datasets/demo/", {"slug": "renamed", "name": "Renamed"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"message": reason, "errors": {"slug": [reason]}}
    dataset.refresh_from_db()
    assert (dataset.slug, dataset.name) == ("demo", "Demo")  # nothing half-written
    assert client.get("/api/v1/datasets/demo/").status_code == 200
    renamed = client.patch("/api/v1/datasets/demo/", {"slug": "demo", "name": "Renamed"}, format="json")
    assert renamed.status_code == 200  # sending the same slug back is no change


def test_the_admin_form_refuses_a_new_slug_for_a_used_dataset(client, dataset):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    SolutionFactory(dataset=dataset)
    form = admin_dataset_form(name="Demo", slug="renamed")
    response = client.post(reverse("admin:annotations_dataset_change", args=[dataset.pk]), form)
    assert response.status_code == 200
    assert "cannot change: it has 1 solution(s) and 0 export(s)" in response.content.decode()
    assert Dataset.objects.get(pk=dataset.pk).slug == "demo"
