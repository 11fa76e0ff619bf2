"""A dataset's members over REST: list (reviewers, managers), add or change a role, remove (managers)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from rest_framework.test import APIClient

from annotations.models import DatasetMembership
from tests.annotations.api_support import token_client
from tests.factories import AnnotationFactory, DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

MEMBERS = "/api/v1/datasets/demo/members/"


def _roles(dataset) -> dict[str, str]:
    return dict(DatasetMembership.objects.filter(dataset=dataset).values_list("user__username", "role"))


@pytest.mark.parametrize("role", ["manager", "reviewer"])
def test_managers_and_reviewers_list_the_members_by_username(dataset, role):
    viewer = UserFactory(username="viewer")
    MembershipFactory(dataset=dataset, user=viewer, role=role)
    MembershipFactory(dataset=dataset, user=UserFactory(username="zoe"), role="annotator")
    MembershipFactory(dataset=dataset, user=UserFactory(username="bea"), role="reviewer")
    MembershipFactory(dataset=DatasetFactory(), user=UserFactory(username="elsewhere"), role="manager")
    response = token_client(viewer).get(MEMBERS)
    assert response.status_code == 200
    assert response.json() == {
        "count": 3,
        "next": None,
        "previous": None,
        "results": [
            {"username": "bea", "role": "reviewer"},
            {"username": "viewer", "role": role},
            {"username": "zoe", "role": "annotator"},
        ],
    }


def test_the_member_list_runs_a_constant_number_of_queries(manager, dataset, django_assert_num_queries):
    client = token_client(manager)
    for index in range(3):
        MembershipFactory(dataset=dataset, user=UserFactory(username=f"user{index}"))
    with django_assert_num_queries(4):  # token, dataset + role, count, page
        assert client.get(MEMBERS).json()["count"] == 4
    for index in range(3, 30):
        MembershipFactory(dataset=dataset, user=UserFactory(username=f"user{index}"))
    with django_assert_num_queries(4):
        assert client.get(MEMBERS).json()["count"] == 31


def test_an_annotator_may_not_list_or_change_members(annotator, dataset):
    client = token_client(annotator)
    denied = {
        "message": "Only the dataset's managers may change its members; its reviewers and managers may list them.",
        "errors": {},
    }
    assert client.get(MEMBERS).status_code == 403
    response = client.post(MEMBERS, {"username": "alice", "role": "manager"}, format="json")
    assert (response.status_code, response.json()) == (403, denied)
    assert _roles(dataset) == {"alice": "annotator"}


def test_a_reviewer_may_not_add_members(dataset):
    reviewer = UserFactory(username="rita")
    MembershipFactory(dataset=dataset, user=reviewer, role="reviewer")
    UserFactory(username="newbie")
    response = token_client(reviewer).post(MEMBERS, {"username": "newbie", "role": "annotator"}, format="json")
    assert response.status_code == 403
    assert "newbie" not in _roles(dataset)


def test_a_manager_adds_an_existing_user_then_changes_the_role_idempotently(manager, dataset):
    UserFactory(username="newbie")
    client = token_client(manager)
    response = client.post(MEMBERS, {"username": "newbie", "role": "annotator"}, format="json")
    assert (response.status_code, response.json()) == (201, {"username": "newbie", "role": "annotator"})
    again = client.post(MEMBERS, {"username": "newbie", "role": "annotator"}, format="json")
    assert (again.status_code, again.json()) == (200, {"username": "newbie", "role": "annotator"})
    changed = client.post(MEMBERS, {"username": "newbie", "role": "reviewer"}, format="json")
    assert (changed.status_code, changed.json()) == (200, {"username": "newbie", "role": "reviewer"})
    assert _roles(dataset) == {"mona": "manager", "newbie": "reviewer"}
    assert DatasetMembership.objects.filter(dataset=dataset, user__username="newbie").count() == 1


def test_the_added_member_can_then_use_the_dataset(manager, dataset):
    newbie = UserFactory(username="newbie")
    assert token_client(newbie).get("/api/v1/datasets/demo/").status_code == 404
    token_client(manager).post(MEMBERS, {"username": "newbie", "role": "annotator"}, format="json")
    assert token_client(newbie).get("/api/v1/datasets/demo/").json()["role"] == "annotator"


def test_staff_who_are_not_members_may_manage_members(dataset):
    UserFactory(username="newbie")
    staff = token_client(UserFactory(username="root", is_staff=True))
    assert staff.post(MEMBERS, {"username": "newbie", "role": "annotator"}, format="json").status_code == 201
    assert staff.get(MEMBERS).json()["results"] == [{"username": "newbie", "role": "annotator"}]
    assert staff.delete(MEMBERS + "newbie/").status_code == 204
    assert _roles(dataset) == {}


@pytest.mark.parametrize(
    "body, field, message",
    [
        (
            {"username": "ghost", "role": "annotator"},
            "username",
            "No user with this username; create the account first.",
        ),
        ({"role": "annotator"}, "username", "This field is required."),
        ({"username": "mona"}, "role", "This field is required."),
        ({"username": "mona", "role": "owner"}, "role", '"owner" is not a valid choice.'),
        (
            {"username": "mona", "role": "manager", "admin": True},
            "admin",
            "Unknown field. Allowed fields: role, username.",
        ),
        ({"username": ["mona"], "role": "manager"}, "username", "Must be a string."),
    ],
)
def test_bad_input_is_a_400_naming_the_field(manager, dataset, body, field, message):
    response = token_client(manager).post(MEMBERS, body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert _roles(dataset) == {"mona": "manager"}


def test_the_unknown_user_message_names_the_user(manager, dataset):
    response = token_client(manager).post(MEMBERS, {"username": "ghost", "role": "annotator"}, format="json")
    assert response.json()["message"] == "There is no user 'ghost'."


def test_a_manager_removes_a_member_whose_annotations_stay(manager, annotator, dataset):
    solution = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=solution, annotator=annotator)
    response = token_client(manager).delete(MEMBERS + "alice/")
    assert response.status_code == 204
    assert response.content == b""
    assert _roles(dataset) == {"mona": "manager"}
    assert solution.annotations.filter(annotator=annotator).exists()
    assert token_client(annotator).get("/api/v1/datasets/demo/").status_code == 404


def test_removing_a_non_member_is_a_404_naming_the_username(manager, dataset):
    UserFactory(username="stranger")
    response = token_client(manager).delete(MEMBERS + "stranger/")
    assert response.status_code == 404
    assert response.json() == {
        "message": "'stranger' is not a member of dataset 'demo'.",
        "errors": {"username": ["No member with this username."]},
    }


def test_the_last_manager_cannot_be_removed_or_demoted(manager, dataset):
    client = token_client(manager)
    response = client.delete(MEMBERS + "mona/")
    assert response.status_code == 409
    assert response.json() == {
        "message": "'mona' is the last manager of dataset 'demo' and cannot be removed.",
        "errors": {"username": ["The last manager cannot be removed; make another member manager first."]},
    }
    demoted = client.post(MEMBERS, {"username": "mona", "role": "annotator"}, format="json")
    assert demoted.status_code == 409
    assert demoted.json()["errors"] == {
        "role": ["The last manager cannot be made annotator; make another member manager first."]
    }
    assert _roles(dataset) == {"mona": "manager"}


def test_a_manager_may_leave_once_another_manager_exists(manager, dataset):
    MembershipFactory(dataset=dataset, user=UserFactory(username="max"), role="manager")
    client = token_client(manager)
    assert client.delete(MEMBERS + "mona/").status_code == 204
    assert _roles(dataset) == {"max": "manager"}
    assert client.get(MEMBERS).status_code == 404  # no longer a member


def test_only_managers_remove_members(annotator, dataset):
    reviewer = UserFactory(username="rita")
    MembershipFactory(dataset=dataset, user=reviewer, role="reviewer")
    assert token_client(reviewer).delete(MEMBERS + "alice/").status_code == 403
    assert token_client(annotator).delete(MEMBERS + "alice/").status_code == 403
    assert _roles(dataset) == {"alice": "annotator", "rita": "reviewer"}


def test_outsiders_and_anonymous_learn_nothing(manager, dataset):
    outsider = UserFactory(username="out")
    MembershipFactory(dataset=DatasetFactory(slug="other"), user=outsider, role="manager")
    client = token_client(outsider)
    assert client.get(MEMBERS).status_code == 404
    assert client.delete(MEMBERS + "mona/").status_code == 404
    assert client.post(MEMBERS, {"username": "out", "role": "manager"}, format="json").status_code == 404
    assert APIClient().get(MEMBERS).status_code == 401
    assert _roles(dataset) == {"mona": "manager"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_managers_removing_each_other_at_once_leave_one_manager():
    dataset = DatasetFactory(slug="demo")
    managers = [UserFactory(username=name) for name in ("ann", "ben")]
    for user in managers:
        MembershipFactory(dataset=dataset, user=user, role="manager")
    clients = [token_client(user) for user in managers]  # tokens exist before the threads start
    barrier = threading.Barrier(2)

    def remove(pair):
        client, other = pair
        try:
            barrier.wait()
            return client.delete(f"{MEMBERS}{other}/").status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(remove, [(clients[0], "ben"), (clients[1], "ann")]))
    # The second waits for the first's lock: then either it is no longer a member (404) or the other is last (409).
    assert codes in ([204, 404], [204, 409]), codes
    assert list(DatasetMembership.objects.filter(dataset=dataset).values_list("role", flat=True)) == ["manager"]
