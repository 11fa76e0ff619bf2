"""Limits and hostile input on the ingestion endpoint: always a 400/413 naming the problem, never a 500."""

import json

import pytest
from django.core.exceptions import RequestDataTooBig
from django.test import override_settings

from annotations.models import Solution
from prmweb.api.errors import api_exception_handler
from tests.annotations.api_support import post_json, post_raw, solution, solutions_url, token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(manager):
    return token_client(manager)


def _assert_nothing_stored():
    assert not Solution.objects.exists()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_a_body_over_the_size_limit_is_a_413_before_parsing(client, dataset):
    body = json.dumps([solution(i) for i in range(30)]).encode()
    assert len(body) > 2000
    response = post_raw(client, solutions_url(), body)
    assert response.status_code == 413
    message = (
        f"The request body is too large: the limit is 2000 bytes (it has {len(body)} bytes). Send smaller batches."
    )
    assert response.json() == {"message": message, "errors": {"body": [message]}}
    _assert_nothing_stored()


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_an_oversized_body_that_is_not_even_json_is_still_a_413(client, dataset):
    response = post_raw(client, solutions_url(), b"{" * 5000)
    assert response.status_code == 413
    assert list(response.json()["errors"]) == ["body"]


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2000)
def test_djangos_request_data_too_big_maps_to_the_same_413():
    response = api_exception_handler(RequestDataTooBig("too big"), {})
    assert response.status_code == 413
    assert response.data["errors"]["body"] == [
        "The request body is too large: the limit is 2000 bytes (it has more than that). Send smaller batches."
    ]


def test_a_batch_over_10000_items_is_a_413_naming_the_batch(client, dataset):
    response = post_json(client, solutions_url(), [solution(i) for i in range(10_001)])
    assert response.status_code == 413
    assert response.json() == {
        "message": "A batch holds at most 10000 solutions (this one has 10001); nothing was stored.",
        "errors": {"batch": ["Ensure this list has no more than 10000 items (it has 10001)."]},
    }
    _assert_nothing_stored()


def test_a_batch_of_exactly_10000_items_is_accepted(client, dataset):
    response = post_json(client, solutions_url(), [solution(i) for i in range(10_000)])
    assert response.status_code == 201
    assert response.json()["created"] == 10_000


def test_an_empty_list_is_refused(client, dataset):
    response = post_json(client, solutions_url(), [])
    assert response.status_code == 400
    assert response.json()["errors"] == {"batch": ["Send at least one solution."]}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"steps": ["step"] * 201}, "steps", "Ensure this list has no more than 200 steps (it has 201)."),
        ({"steps": ["x" * 20_001]}, "steps[0]", "Ensure this field has no more than 20000 characters (it has 20001)."),
        ({"problem": "p" * 50_001}, "problem", "Ensure this field has no more than 50000 characters (it has 50001)."),
        ({"id": "i" * 201}, "id", "Ensure this field has no more than 200 characters (it has 201)."),
        ({"metadata": {"blob": "m" * 20_001}}, "metadata", "Must serialize to at most 20000 characters."),
        ({"steps": "We add the numbers."}, "steps", "Must be a non-empty list of non-empty strings."),
        ({"steps": []}, "steps", "Must be a non-empty list of non-empty strings."),
        ({"steps": ["fine", ""]}, "steps[1]", "This field may not be blank."),
        ({"steps": ["fine", ["nested"]]}, "steps[1]", "Must be a string."),
        ({"label": "3"}, "label", "Must be an integer."),
        ({"label": True}, "label", "Must be an integer."),
        ({"label": 1.5}, "label", "Must be an integer."),
        ({"label": 3}, "label", "Must be -1 (all steps correct) or a step index from 0 to 2."),
        ({"label": -2}, "label", "Must be -1 (all steps correct) or a step index from 0 to 2."),
        ({"final_answer_correct": "true"}, "final_answer_correct", "Must be a boolean."),
        ({"metadata": ["not", "an", "object"]}, "metadata", "Must be a JSON object."),
        ({"problem": 42}, "problem", "Must be a string."),
        ({"id": 7}, "id", "Must be a string."),
    ],
)
def test_each_limit_and_wrong_type_is_a_400_naming_the_field(client, dataset, overrides, field, message):
    response = post_json(client, solutions_url(), solution(0, **overrides))
    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert response.json()["message"] == f"The solution is invalid; nothing was stored. {field}: {message}"
    _assert_nothing_stored()


def test_in_a_bulk_the_same_errors_are_keyed_by_index(client, dataset):
    response = post_json(client, solutions_url(), [solution(0), solution(1, steps=["s"] * 201)])
    assert response.status_code == 400
    assert response.json()["errors"] == {"1": {"steps": ["Ensure this list has no more than 200 steps (it has 201)."]}}


@pytest.mark.parametrize(
    "body, message",
    [
        (b'{"problem": "x", "steps": ["a", ', "JSON parse error - "),
        (b'{"problem": "x", "steps": ["a"], "label": NaN}', "NaN is not valid JSON"),
        (b'{"problem": "x", "steps": ["a"], "label": Infinity}', "Infinity is not valid JSON"),
        (b'{"problem": "x", "steps": ["a\x00b"]}', "Invalid control character"),
        (b'{"problem": "\xff\xfe", "steps": ["a"]}', "the body is not valid UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "JSON parse error - "),
        (b"", "problem: This field is required."),
    ],
)
def test_malformed_bodies_are_a_400_never_a_500(client, dataset, body, message):
    response = post_raw(client, solutions_url(), body)
    assert response.status_code == 400, response.content
    assert message in response.json()["message"]
    _assert_nothing_stored()


def test_an_unreadable_body_is_named_as_the_body(client, dataset):
    response = post_raw(client, solutions_url(), b'{"problem": "x", "steps": ["a", ')
    body = response.json()
    assert body["message"].startswith("JSON parse error - ")
    assert body["errors"] == {"body": [body["message"]]}


def test_an_escaped_nul_is_refused_naming_the_step(client, dataset):
    response = post_raw(client, solutions_url(), b'{"problem": "x", "steps": ["ok", "a\\u0000b"]}')
    assert response.status_code == 400
    assert response.json()["errors"] == {"steps[1]": ["This value contains a NUL character."]}


def test_a_lone_surrogate_is_refused_naming_the_field(client, dataset):
    response = post_raw(client, solutions_url(), b'[{"problem": "x \\ud800 y", "steps": ["a"]}]')
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "[0].problem": ["This value contains an unpaired surrogate, which is not valid Unicode."]
    }


def test_deeply_nested_metadata_is_refused(client, dataset):
    body = json.dumps(solution(0, metadata=json.loads('{"a":' * 40 + "1" + "}" * 40))).encode()
    response = post_raw(client, solutions_url(), body)
    assert response.status_code == 400
    assert "nested deeper than 32 levels" in response.json()["message"]
    _assert_nothing_stored()


def test_a_body_that_is_not_json_is_a_415(client, dataset):
    response = client.post(solutions_url(), data="problem=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    message = 'Unsupported media type "application/x-www-form-urlencoded" in request.'
    assert response.json() == {"message": message, "errors": {"body": [message]}}


def test_an_escaped_surrogate_pair_is_valid_unicode_and_stored(client, dataset):
    body = b'{"problem": "Smile \\ud83d\\ude00", "steps": ["\\u00e9l\\u00e8ve"]}'
    response = post_raw(client, solutions_url(), body)
    assert response.status_code == 201
    stored = Solution.objects.get()
    assert (stored.problem.text, stored.steps) == ("Smile \U0001f600", ["élève"])


def test_a_nul_in_a_metadata_key_is_refused(client, dataset):
    body = b'{"problem": "x", "steps": ["a"], "metadata": {"k\\u0000": 1}}'
    response = post_raw(client, solutions_url(), body)
    assert response.status_code == 400
    assert response.json()["errors"] == {"metadata.k\x00": ["This value contains a NUL character."]}
    _assert_nothing_stored()
