"""Object-level permissions of every page and API endpoint, for every kind of visitor.

Visitors: anonymous, an annotator, a reviewer and a manager of dataset A, and a member of another
dataset (B). Non-members must not learn that a dataset exists (404); members without the role get 403.
"""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from annotations.models import Solution, SolutionStatus
from tests.factories import AnnotationFactory, DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    dataset = DatasetFactory(slug="ds-a", name="A")
    other = DatasetFactory(slug="ds-b", name="B")
    users = {}
    for role in ("annotator", "reviewer", "manager"):
        users[role] = UserFactory(username=f"{role}-a")
        MembershipFactory(dataset=dataset, user=users[role], role=role)
    users["outsider"] = UserFactory(username="outsider-b")
    MembershipFactory(dataset=other, user=users["outsider"], role="manager")
    solution = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=solution, annotator=UserFactory(username="someone-else"), earliest_error_step=1)
    return {"dataset": dataset, "solution": solution, "users": users}


def _page_client(world, visitor: str) -> Client:
    client = Client()
    if visitor != "anonymous":
        client.force_login(world["users"][visitor])
    return client


def _api_client(world, visitor: str) -> APIClient:
    client = APIClient()
    if visitor != "anonymous":
        token = Token.objects.create(user=world["users"][visitor])
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


PAGES: dict[str, dict[str, int | str]] = {
    # path template: expected status per visitor ("login" = redirect to the login page)
    "/": {"anonymous": "login", "annotator": 200, "reviewer": 200, "manager": 200, "outsider": 200},
    "/annotate/{solution}/": {"anonymous": "login", "outsider": 404},
    "/datasets/ds-a/review/": {
        "anonymous": "login",
        "annotator": 403,
        "reviewer": 200,
        "manager": 200,
        "outsider": 404,
    },
    "/review/{solution}/": {"anonymous": "login", "annotator": 403, "reviewer": 200, "manager": 200, "outsider": 404},
    "/datasets/ds-a/dashboard/": {
        "anonymous": "login",
        "annotator": 403,
        "reviewer": 200,
        "manager": 200,
        "outsider": 404,
    },
    "/datasets/ds-a/next/": {"anonymous": "login", "outsider": 404},
    "/my-work/": {"anonymous": "login", "annotator": 200, "outsider": 200},
    "/admin/": {"anonymous": "admin-login", "annotator": "admin-login", "manager": "admin-login"},
}


PAGE_CASES = [(path, visitor, expected) for path, row in PAGES.items() for visitor, expected in row.items()]


@pytest.mark.parametrize("path, visitor, expected", PAGE_CASES, ids=[f"{p} {v}" for p, v, _ in PAGE_CASES])
def test_pages(world, path, visitor, expected):
    response = _page_client(world, visitor).get(path.format(solution=world["solution"].pk))
    if expected == "login":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    elif expected == "admin-login":
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    else:
        assert response.status_code == expected


API = [
    # (method, path, body, {visitor: status})
    (
        "get",
        "/api/v1/datasets/ds-a/",
        None,
        {"anonymous": 401, "annotator": 200, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "patch",
        "/api/v1/datasets/ds-a/",
        {"description": "x"},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "manager": 200, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/datasets/ds-a/solutions/",
        None,
        {"anonymous": 401, "annotator": 200, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/datasets/ds-a/solutions/",
        {"problem": "1+1?", "steps": ["2"]},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "manager": 201, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/datasets/ds-a/solutions/{solution}/",
        None,
        # An annotator reads only their own work; this solution was annotated by someone else.
        {"anonymous": 401, "annotator": 404, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/datasets/ds-a/metrics/",
        None,
        {"anonymous": 401, "annotator": 403, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/datasets/ds-a/metrics/evaluation/",
        None,
        {"anonymous": 401, "annotator": 403, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/datasets/ds-a/suggestions/",
        {"solution_id": "{solution}", "method": "team-prm", "label": -1},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "manager": 201, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/datasets/ds-a/gold/",
        {"solution_ids": ["{solution}"], "is_gold": False},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/exports/",
        {"dataset": "ds-a", "format": "processbench"},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/scoring-runs/",
        {"dataset": "ds-a", "method": "arithmetic"},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/datasets/ds-a/members/",
        None,
        {"anonymous": 401, "annotator": 403, "reviewer": 200, "manager": 200, "outsider": 404},
    ),
    (
        "post",
        "/api/v1/datasets/ds-a/members/",
        {"username": "outsider-b", "role": "annotator"},
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "manager": 201, "outsider": 404},
    ),
    (
        "delete",
        "/api/v1/datasets/ds-a/members/annotator-a/",
        None,
        {"anonymous": 401, "annotator": 403, "reviewer": 403, "manager": 204, "outsider": 404},
    ),
    (
        "get",
        "/api/v1/me/",
        None,
        {"anonymous": 401, "annotator": 200, "reviewer": 200, "manager": 200, "outsider": 200},
    ),
]


def _fill(value, solution_id):
    if isinstance(value, dict):
        return {key: _fill(item, solution_id) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, solution_id) for item in value]
    return solution_id if value == "{solution}" else value


API_CASES = [(m, p, b, v, status) for m, p, b, row in API for v, status in row.items()]


@pytest.mark.parametrize(
    "method, path, body, visitor, status", API_CASES, ids=[f"{m} {p} {v}" for m, p, _, v, _ in API_CASES]
)
def test_api(world, method, path, body, visitor, status):
    solution_id = world["solution"].pk
    client = _api_client(world, visitor)
    response = getattr(client, method)(path.format(solution=solution_id), _fill(body, solution_id), format="json")
    assert response.status_code == status, response.content[:300]
    if response.status_code == 204:
        assert response.content == b""
    else:
        assert set(response.json()) >= ({"message", "errors"} if response.status_code >= 400 else set())


def test_other_peoples_annotations_stay_hidden_from_an_annotator_via_the_api(world):
    url = f"/api/v1/datasets/ds-a/solutions/{world['solution'].pk}/"
    client = _api_client(world, "annotator")
    assert client.get(url).status_code == 404
    assert client.get("/api/v1/datasets/ds-a/solutions/").json()["count"] == 0
    manager_view = _api_client(world, "manager").get(url)
    assert [a["earliest_error_step"] for a in manager_view.json()["annotations"]] == [1]


def test_an_annotator_reads_their_own_work_via_the_api(world):
    own = SolutionFactory(dataset=world["dataset"])
    AnnotationFactory(solution=own, annotator=world["users"]["annotator"], earliest_error_step=0)
    client = _api_client(world, "annotator")
    assert client.get(f"/api/v1/datasets/ds-a/solutions/{own.pk}/").status_code == 404  # still theirs to change
    Solution.objects.filter(pk=own.pk).update(status=SolutionStatus.FINAL)  # settled: readable
    body = client.get(f"/api/v1/datasets/ds-a/solutions/{own.pk}/").json()
    assert [(a["annotator"], a["earliest_error_step"]) for a in body["annotations"]] == [("annotator-a", 0)]
    assert [row["id"] for row in client.get("/api/v1/datasets/ds-a/solutions/").json()["results"]] == [own.pk]


def test_a_deleted_token_stops_working_at_once(world):
    client = _api_client(world, "manager")
    assert client.get("/api/v1/me/").status_code == 200
    Token.objects.filter(user=world["users"]["manager"]).delete()  # what the admin's "Tokens" page does
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["message"] == "Invalid token."


CSRF_FORMS = [
    "/accounts/login/",
    "/accounts/logout/",
    "/accounts/password/",
    "/annotate/{solution}/",
    "/annotate/{solution}/skip/",
    "/annotate/{solution}/heartbeat/",
    "/datasets/ds-a/next/",
    "/review/{solution}/",
    "/admin/login/",
]


@pytest.mark.parametrize("path", CSRF_FORMS)
def test_every_browser_form_refuses_a_post_without_the_csrf_token(world, path):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["users"]["manager"])
    response = client.post(path.format(solution=world["solution"].pk), {"earliest_error_step": -1})
    assert response.status_code == 403
    assert b"CSRF" in response.content
