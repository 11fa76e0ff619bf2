"""Hostile bodies and parameters against every JSON endpoint: a 4xx naming the problem, nothing stored.

The endpoints come from the OpenAPI schema (every operation with a JSON request body, every list with
`page_size`), so a new endpoint is covered without editing this file.
"""

import json

import pytest
from django.apps import apps
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from annotations.models import Dataset
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

SLUG = "ds"
PAGE_SIZE_MESSAGE = "Must be a positive integer (at most 500 rows are sent)."


def _operations() -> list[tuple[str, str, dict]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (method.upper(), path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]


def _json_body_operations() -> list[tuple[str, str]]:
    return [
        (method, path.replace("{slug}", SLUG))
        for method, path, operation in _operations()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


def _paginated_operations() -> list[str]:
    return [
        path.replace("{slug}", SLUG)
        for method, path, operation in _operations()
        if method == "GET" and any(parameter["name"] == "page_size" for parameter in operation.get("parameters", []))
    ]


JSON_OPERATIONS = _json_body_operations()
PAGINATED = _paginated_operations()


def test_the_schema_lists_every_json_endpoint_and_every_list():
    assert sorted(JSON_OPERATIONS) == [
        ("PATCH", "/api/v1/datasets/ds/"),
        ("POST", "/api/v1/datasets/"),
        ("POST", "/api/v1/datasets/ds/gold/"),
        ("POST", "/api/v1/datasets/ds/members/"),
        ("POST", "/api/v1/datasets/ds/solutions/"),
        ("POST", "/api/v1/datasets/ds/suggestions/"),
        ("POST", "/api/v1/exports/"),
        ("POST", "/api/v1/scoring-runs/"),
    ]
    assert sorted(PAGINATED) == [
        "/api/v1/datasets/",
        "/api/v1/datasets/ds/members/",
        "/api/v1/datasets/ds/solutions/",
        "/api/v1/exports/",
        "/api/v1/scoring-runs/",
    ]


@pytest.fixture
def staff_client():
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    dataset = DatasetFactory(slug=SLUG, name="Dataset")
    MembershipFactory(dataset=dataset, user=user, role="manager")
    SolutionFactory(dataset=dataset, external_id="ds-0")
    client = APIClient()
    client.force_authenticate(user)
    return client


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def _send(client: APIClient, method: str, path: str, body: bytes, **extra):
    return client.generic(method, path, body, content_type="application/json", **extra)  # type: ignore[arg-type]


def _body_error(message: str) -> dict:
    return {"message": f"JSON parse error - {message}", "errors": {"body": [f"JSON parse error - {message}"]}}


HOSTILE_BODIES = [
    pytest.param(
        b'{"metadata": {"\\ud800": 1}}',
        _body_error("a key of an object in metadata contains an unpaired surrogate, which is not valid Unicode."),
        id="surrogate-key-nested",
    ),
    pytest.param(
        b'{"\\udfff": 1}',
        _body_error("a key of the top-level object contains an unpaired surrogate, which is not valid Unicode."),
        id="surrogate-key-top-level",
    ),
    pytest.param(
        b'[{"problem": "p", "steps": ["s"], "metadata": {"ok": {"\\ud800x": 1}}}]',
        _body_error(
            "a key of an object in [0].metadata.ok contains an unpaired surrogate, which is not valid Unicode."
        ),
        id="surrogate-key-deep-in-a-list",
    ),
    pytest.param(
        b'{"name": "a", "slug": "x", "name": "b"}',
        _body_error('duplicate key "name" in an object; send each key once.'),
        id="duplicate-key-top-level",
    ),
    pytest.param(
        b'{"metadata": {"k": 1, "k": 2}}',
        _body_error('duplicate key "k" in an object; send each key once.'),
        id="duplicate-key-nested",
    ),
    pytest.param(
        b'{"\\ud800": 1, "\\ud800": 2}',
        _body_error('duplicate key "\\ud800" in an object; send each key once.'),
        id="duplicate-surrogate-key",
    ),
]


@pytest.mark.parametrize("method, path", JSON_OPERATIONS)
@pytest.mark.parametrize("body, expected", HOSTILE_BODIES)
def test_hostile_keys_are_a_400_naming_the_body_and_store_nothing(staff_client, method, path, body, expected):
    before = _row_counts()
    response = _send(staff_client, method, path, body)
    assert response.status_code == 400, response.content
    assert response.json() == expected
    assert _row_counts() == before


@pytest.mark.parametrize("method, path", JSON_OPERATIONS)
def test_a_chunked_body_is_a_411_never_read_as_empty(staff_client, method, path):
    before = _row_counts()
    response = _send(staff_client, method, path, b"", HTTP_TRANSFER_ENCODING="chunked")
    assert response.status_code == 411
    message = (
        "Send the request body with a Content-Length header: chunked transfer encoding is not supported "
        "(the body was not read)."
    )
    assert response.json() == {"message": message, "errors": {"body": [message]}}
    assert _row_counts() == before


def test_a_key_with_a_nul_is_still_named_by_its_path(staff_client):
    response = _send(staff_client, "POST", f"/api/v1/datasets/{SLUG}/solutions/", b'{"metadata": {"k\\u0000": 1}}')
    assert response.status_code == 400
    assert response.json()["errors"] == {"metadata.k\x00": ["This value contains a NUL character."]}


def test_a_json_body_with_distinct_keys_is_still_accepted(staff_client):
    body = json.dumps({"problem": "What is 1 + 1?", "steps": ["1 + 1 = 2."], "metadata": {"a": 1, "b": {"a": 2}}})
    response = _send(staff_client, "POST", f"/api/v1/datasets/{SLUG}/solutions/", body.encode())
    assert response.status_code == 201, response.json()


@pytest.mark.parametrize("path", PAGINATED)
@pytest.mark.parametrize("page_size", ["0", "-3", "abc", "2.5", "", " 5", "\u0663", "1e3"])
def test_a_page_size_that_is_not_a_positive_integer_is_a_400(staff_client, path, page_size):
    response = staff_client.get(path, {"page_size": page_size})
    assert response.status_code == 400, response.content
    assert response.json() == {
        "message": f"Invalid input. page_size: {PAGE_SIZE_MESSAGE}",
        "errors": {"page_size": [PAGE_SIZE_MESSAGE]},
    }


@pytest.mark.parametrize("path", PAGINATED)
def test_a_positive_page_size_pages_and_a_huge_one_is_capped(staff_client, path):
    assert staff_client.get(path, {"page_size": "1"}).status_code == 200
    assert staff_client.get(path, {"page_size": "100000"}).status_code == 200


def test_page_size_sets_the_page_length(staff_client):
    dataset = Dataset.objects.get(slug=SLUG)
    for index in range(1, 4):
        SolutionFactory(dataset=dataset, external_id=f"ds-{index}")
    body = staff_client.get(f"/api/v1/datasets/{SLUG}/solutions/", {"page_size": "3"}).json()
    assert (body["count"], len(body["results"])) == (4, 3)
