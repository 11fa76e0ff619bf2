"""Concurrent ingestion of the same solutions stores each once (PostgreSQL, real transactions, threads)."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from annotations.models import Problem, Solution
from tests.annotations.api_support import post_json, solution, solutions_url, token_client
from tests.factories import DatasetFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


@pytest.fixture
def setup(monkeypatch):
    monkeypatch.setattr("annotations.services.ingestion.solutions_hand_over", lambda **kwargs: None)
    dataset = DatasetFactory(slug="demo")
    user = UserFactory(username="mona")
    MembershipFactory(dataset=dataset, user=user, role="manager")
    token_client(user)  # create the token before the threads start
    return dataset, user


def _post_all_at_once(user, payloads):
    barrier = threading.Barrier(len(payloads))

    def post(payload):
        client = token_client(user)
        try:
            barrier.wait()
            response = post_json(client, solutions_url(), payload)
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(post, payloads))


def test_the_same_bulk_sent_concurrently_is_stored_once(setup):
    dataset, user = setup
    payload = [solution(index) for index in range(50)]
    results = _post_all_at_once(user, [payload] * THREADS)
    assert {status for status, _ in results} <= {200, 201}, results
    assert Solution.objects.filter(dataset=dataset).count() == 50
    assert sum(body["created"] for _, body in results) == 50  # each item reported created exactly once
    stored = dict(Solution.objects.filter(dataset=dataset).values_list("external_id", "id"))
    for _, body in results:
        assert [(item["external_id"], item["id"]) for item in body["items"]] == [
            (f"ext-{index}", stored[f"ext-{index}"]) for index in range(50)
        ]


def test_overlapping_batches_without_ids_share_problems_and_store_each_content_once(setup):
    dataset, user = setup

    def anonymous(index):
        body = solution(index % 30, steps=[f"Attempt {index % 40}.", "So the answer follows."])
        del body["id"]
        return body

    payloads = [[anonymous(start + offset) for offset in range(40)] for start in range(0, THREADS * 5, 5)]
    results = _post_all_at_once(user, payloads)
    assert {status for status, _ in results} <= {200, 201}, results
    expected = {(item["problem"], tuple(item["steps"])) for payload in payloads for item in payload}
    assert Solution.objects.filter(dataset=dataset).count() == len(expected)
    assert Problem.objects.filter(dataset=dataset).count() == len({problem for problem, _ in expected})
    assert sum(body["created"] for _, body in results) == len(expected)
