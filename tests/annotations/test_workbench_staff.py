"""Staff and superusers open any dataset in the workbench, as they can through the API; others still get 404."""

import pytest
from django.test import Client

from annotations.models import Annotation, Claim
from tests.factories import DatasetFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_dataset():
    """A dataset just made by an import: solutions, no members at all."""
    dataset = DatasetFactory(slug="fresh", name="Fresh")
    SolutionFactory(dataset=dataset, steps=["1 + 1 = 2.", "So the answer is 2."], num_steps=2)
    return dataset


@pytest.mark.parametrize("flags", [{"is_superuser": True, "is_staff": True}, {"is_staff": True}])
def test_staff_claim_label_and_see_their_work_in_a_dataset_without_membership(fresh_dataset, flags):
    staff = UserFactory(username="root", **flags)
    client = Client()
    client.force_login(staff)

    response = client.get("/datasets/fresh/next/")
    assert response.status_code == 302, response.content
    solution_id = Claim.objects.get(annotator=staff).solution_id
    assert response["Location"] == f"/annotate/{solution_id}/"

    page = client.get(f"/annotate/{solution_id}/")
    assert page.status_code == 200
    assert "1 + 1 = 2." in page.content.decode()
    assert client.post(f"/annotate/{solution_id}/heartbeat/").status_code == 200

    submitted = client.post(f"/annotate/{solution_id}/", {"earliest_error_step": "-1", "seconds_spent": "5"})
    assert submitted.status_code == 302
    assert list(Annotation.objects.values_list("annotator__username", "earliest_error_step")) == [("root", -1)]
    assert "Fresh" in client.get("/my-work/").content.decode()


def test_a_user_who_is_neither_member_nor_staff_still_gets_404(fresh_dataset):
    client = Client()
    client.force_login(UserFactory(username="eve"))
    assert client.get("/datasets/fresh/next/").status_code == 404
    solution_id = fresh_dataset.solutions.get().pk
    assert client.get(f"/annotate/{solution_id}/").status_code == 404
    assert client.post(f"/annotate/{solution_id}/", {"earliest_error_step": "-1"}).status_code == 404
    assert not Claim.objects.exists() and not Annotation.objects.exists()
