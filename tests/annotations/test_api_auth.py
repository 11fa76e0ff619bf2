"""Who may do what: tokens, sessions, dataset membership and roles; non-members never see a dataset."""

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Solution
from prmweb.api.errors import TOKEN_HINT
from tests.annotations.api_support import post_json, solution, solution_url, solutions_url, token_client
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

KEY_ELSEWHERE = " A key is read only from the Authorization header, never from X-Api-Key or ?token=."
NOT_FOUND = {
    "message": "Dataset 'demo' not found.",
    "errors": {"slug": ["No dataset with this slug is visible to you."]},
}


def test_no_token_is_a_401_and_nothing_is_stored(dataset):
    response = post_json(APIClient(), solutions_url(), solution(0))
    assert response.status_code == 401
    assert response.json() == {
        "message": "Authentication credentials were not provided.",
        "errors": {"Authorization": [TOKEN_HINT]},
    }
    assert response["WWW-Authenticate"] == "Token"
    assert not Solution.objects.exists()


@pytest.mark.parametrize(
    ("headers", "data", "said"),
    [
        (
            {"HTTP_AUTHORIZATION": "Bearer abc123"},
            {},
            " The Authorization header's scheme is 'Bearer'; it must be 'Token'.",
        ),
        ({"HTTP_AUTHORIZATION": "abc123"}, {}, " The Authorization header's scheme is '(none)'; it must be 'Token'."),
        ({"HTTP_X_API_KEY": "abc123"}, {}, KEY_ELSEWHERE),
        ({}, {"token": "abc123"}, KEY_ELSEWHERE),
    ],
)
def test_a_key_sent_the_wrong_way_is_a_401_that_says_where_it_goes(dataset, headers, data, said):
    response = APIClient().get(solutions_url(), data, **headers)
    assert response.status_code == 401
    assert response.json() == {
        "message": f"Authentication credentials were not provided.{said}",
        "errors": {"Authorization": [TOKEN_HINT]},
    }


def test_a_wrong_token_is_a_401(dataset):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = post_json(client, solutions_url(), solution(0))
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."
    assert not Solution.objects.exists()


def test_a_token_from_drf_create_token_authenticates(manager, dataset, capsys):
    call_command("drf_create_token", "mona")
    key = Token.objects.get(user=manager).key
    assert key in capsys.readouterr().out
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert post_json(client, solutions_url(), solution(0)).status_code == 201


def test_anonymous_reads_are_401_too(dataset):
    assert APIClient().get(solutions_url()).status_code == 401
    assert APIClient().get("/api/v1/datasets/").status_code == 401
    assert APIClient().get("/api/v1/me/").status_code == 401


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", "/api/v1/datasets/demo/"),
        ("patch", "/api/v1/datasets/demo/"),
        ("get", "/api/v1/datasets/demo/solutions/"),
        ("post", "/api/v1/datasets/demo/solutions/"),
    ],
)
def test_a_non_member_gets_404_as_if_the_dataset_did_not_exist(dataset, method, url):
    outsider = UserFactory(username="otto")
    response = getattr(token_client(outsider), method)(url, data={}, format="json")
    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    missing = getattr(token_client(outsider), method)(url.replace("demo", "nope"), data={}, format="json")
    assert missing.status_code == 404
    assert missing.json()["errors"] == NOT_FOUND["errors"]
    assert not Solution.objects.exists()


def test_a_non_member_cannot_read_a_solution_by_id(dataset):
    stored = SolutionFactory(dataset=dataset)
    response = token_client(UserFactory()).get(solution_url(stored.pk))
    assert response.status_code == 404


def test_a_solution_of_another_dataset_is_not_found_under_this_one(manager, dataset):
    other = SolutionFactory(dataset=DatasetFactory())
    response = token_client(manager).get(solution_url(other.pk))
    assert response.status_code == 404
    assert response.json()["message"] == f"Solution {other.pk} not found in dataset 'demo'."


@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_annotators_and_reviewers_may_read_but_not_ingest(dataset, role):
    user = UserFactory()
    MembershipFactory(dataset=dataset, user=user, role=role)
    client = token_client(user)
    assert client.get(solutions_url()).status_code == 200
    response = post_json(client, solutions_url(), solution(0))
    assert response.status_code == 403
    assert response.json() == {"message": "Only the dataset's managers may ingest solutions.", "errors": {}}
    assert not Solution.objects.exists()


def test_a_manager_of_another_dataset_cannot_ingest_here(dataset):
    user = UserFactory()
    MembershipFactory(dataset=DatasetFactory(), user=user, role="manager")
    assert post_json(token_client(user), solutions_url(), solution(0)).status_code == 404


def test_staff_need_no_membership(dataset):
    staff = UserFactory(username="root", is_staff=True)
    client = token_client(staff)
    assert post_json(client, solutions_url(), solution(0)).status_code == 201
    assert client.get(solutions_url()).json()["count"] == 1
    assert client.get("/api/v1/datasets/demo/").json()["role"] is None


def test_a_superuser_need_not_be_staff_to_see_everything(dataset):
    root = UserFactory(is_superuser=True)
    assert token_client(root).get("/api/v1/datasets/demo/").status_code == 200


def test_the_browser_session_works_and_needs_csrf_for_writes(manager, dataset):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="mona", password="correct-horse-battery")
    assert client.get(solutions_url()).status_code == 200
    response = post_json(client, solutions_url(), solution(0))
    assert response.status_code == 403
    assert response.json()["message"].startswith("CSRF Failed")
    assert not Solution.objects.exists()


def test_only_staff_and_the_manager_group_may_create_datasets(db):
    body = {"name": "New", "slug": "new"}
    plain = token_client(UserFactory())
    refused = plain.post("/api/v1/datasets/", body, format="json")
    assert refused.status_code == 403
    assert refused.json() == {
        "message": 'Only staff and users in the "manager" group may create datasets.',
        "errors": {},
    }
    creator = UserFactory(username="gina")
    creator.groups.add(Group.objects.get_or_create(name="manager")[0])
    created = token_client(creator).post("/api/v1/datasets/", body, format="json")
    assert created.status_code == 201
    assert created.json()["role"] == "manager"
    assert created.json()["created_by"] == "gina"
    staff = token_client(UserFactory(is_staff=True))
    assert staff.post("/api/v1/datasets/", {"name": "Other", "slug": "other"}, format="json").status_code == 201


def test_only_managers_change_dataset_settings(annotator, manager, dataset):
    refused = token_client(annotator).patch("/api/v1/datasets/demo/", {"blind": True}, format="json")
    assert refused.status_code == 403
    assert refused.json()["message"] == "Only the dataset's managers may change its settings."
    allowed = token_client(manager).patch("/api/v1/datasets/demo/", {"blind": True}, format="json")
    assert allowed.status_code == 200
    assert allowed.json()["blind"] is True


def test_me_lists_my_datasets_and_roles(annotator, dataset):
    MembershipFactory(dataset=DatasetFactory(name="Zeta", slug="zeta"), user=annotator, role="reviewer")
    response = token_client(annotator).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "username": "alice",
        "is_staff": False,
        "can_create_datasets": False,
        "datasets": [
            {"slug": "demo", "name": "Demo", "role": "annotator"},
            {"slug": "zeta", "name": "Zeta", "role": "reviewer"},
        ],
    }
