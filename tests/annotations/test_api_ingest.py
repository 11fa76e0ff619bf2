"""POST /api/v1/datasets/<slug>/solutions/: one or many, all or nothing, idempotent, read back as sent."""

import gc

import pytest

from annotations.apis import solutions as solutions_api
from annotations.models import FinalLabel, Problem, Solution
from tests.annotations.api_support import (
    post_json,
    processbench_records,
    solution,
    solution_url,
    solutions_url,
    token_client,
)

pytestmark = pytest.mark.django_db

PROCESSBENCH_FIELDS = ("generator", "problem", "steps", "final_answer_correct", "label")


def test_one_solution_is_created_and_reported(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), solution(0))
    assert response.status_code == 201
    stored = Solution.objects.get(dataset=dataset)
    assert response.json() == {
        "created": 1,
        "existing": 0,
        "items": [{"index": 0, "status": "created", "id": stored.pk, "external_id": "ext-0"}],
    }
    assert stored.steps == solution(0)["steps"]
    assert stored.generator == "test-model"
    assert stored.ingested_by == manager  # who ingested it, read back over the API
    listed = token_client(manager).get(solutions_url()).json()["results"][0]
    assert (listed["id"], listed["ingested_by"]) == (stored.pk, manager.username)
    assert token_client(manager).get(solution_url(stored.pk)).json()["ingested_by"] == manager.username


def test_a_bulk_reports_each_item_in_order(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), [solution(i) for i in range(3)])
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["existing"]) == (3, 0)
    ids = dict(Solution.objects.values_list("external_id", "id"))
    assert [(i["index"], i["status"], i["id"]) for i in body["items"]] == [
        (0, "created", ids["ext-0"]),
        (1, "created", ids["ext-1"]),
        (2, "created", ids["ext-2"]),
    ]


def test_sending_the_same_solutions_again_is_a_200_with_existing_ids(manager, dataset):
    client = token_client(manager)
    first = post_json(client, solutions_url(), [solution(0), solution(1)]).json()
    again = post_json(client, solutions_url(), [solution(1), solution(0)])
    assert again.status_code == 200
    assert again.json() == {
        "created": 0,
        "existing": 2,
        "items": [
            {"index": 0, "status": "existing", "id": first["items"][1]["id"], "external_id": "ext-1"},
            {"index": 1, "status": "existing", "id": first["items"][0]["id"], "external_id": "ext-0"},
        ],
    }
    assert Solution.objects.count() == 2


def test_a_mixed_bulk_is_201_and_says_which_existed(manager, dataset):
    client = token_client(manager)
    post_json(client, solutions_url(), solution(0))
    response = post_json(client, solutions_url(), [solution(0), solution(1)])
    assert response.status_code == 201
    assert [item["status"] for item in response.json()["items"]] == ["existing", "created"]


def test_without_an_id_the_same_problem_and_steps_are_stored_once(manager, dataset):
    client = token_client(manager)
    body = solution(4)
    del body["id"]
    assert post_json(client, solutions_url(), body).status_code == 201
    again = post_json(client, solutions_url(), {**body, "generator": "another-model"})
    assert again.status_code == 200
    assert again.json()["items"][0]["status"] == "existing"
    assert again.json()["items"][0]["external_id"] == ""
    assert Solution.objects.count() == 1


def test_a_bulk_with_one_bad_item_stores_nothing_and_names_every_bad_item(manager, dataset):
    payload = [solution(0), solution(1, label=7), solution(2), solution(3, steps="one string"), solution(4)]
    response = post_json(token_client(manager), solutions_url(), payload)
    assert response.status_code == 400
    assert response.json() == {
        "message": "2 of 5 solutions are invalid; nothing was stored. "
        "item 1, label: Must be -1 (all steps correct) or a step index from 0 to 2.",
        "errors": {
            "1": {"label": ["Must be -1 (all steps correct) or a step index from 0 to 2."]},
            "3": {"steps": ["Must be a non-empty list of non-empty strings."]},
        },
    }
    assert not Solution.objects.exists()
    assert not Problem.objects.exists()
    assert not FinalLabel.objects.exists()


def test_unknown_fields_are_refused_by_name(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), solution(0, lable=1, colour="red"))
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert sorted(errors) == ["colour", "lable"]
    assert errors["lable"] == [
        "Unknown field. Allowed fields: problem, steps, response, segmentation, id, generator, subset, "
        "reference_answer, reference_solution, final_answer, final_answer_correct, label, metadata."
    ]
    assert response.json()["message"].startswith("The solution is invalid; nothing was stored. lable: Unknown field.")
    assert not Solution.objects.exists()


def test_missing_required_fields_are_named(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), {"id": "x"})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "problem": ["This field is required."],
        "steps": ["This field is required (or send response: the text to split into steps)."],
    }


def test_a_list_of_non_objects_is_refused_by_index(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), [solution(0), 5, "text"])
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "1": {"non_field_errors": ["Must be a JSON object (one solution)."]},
        "2": {"non_field_errors": ["Must be a JSON object (one solution)."]},
    }


def test_a_scalar_body_is_refused(manager, dataset):
    response = post_json(token_client(manager), solutions_url(), "just text")
    assert response.status_code == 400
    assert response.json() == {
        "message": "Send one solution object or a list of them; nothing was stored.",
        "errors": {"non_field_errors": ["Expected a JSON object or a JSON array of objects."]},
    }


def test_all_optional_fields_are_stored(manager, dataset):
    body = solution(
        0,
        subset="gsm8k",
        reference_answer="0",
        reference_solution="0 + 0 = 0",
        final_answer="0",
        final_answer_correct=True,
        label=-1,
        metadata={"source": "unit test", "scores": [0.5, 1]},
    )
    client = token_client(manager)
    created = post_json(client, solutions_url(), body).json()["items"][0]["id"]
    detail = client.get(solution_url(created)).json()
    for name in ("problem", "steps", "generator", "subset", "reference_answer", "reference_solution"):
        assert detail[name] == body[name], name
    assert detail["final_answer"] == "0"
    assert detail["final_answer_correct"] is True
    assert detail["label"] == -1
    assert detail["metadata"] == {"source": "unit test", "scores": [0.5, 1]}
    assert detail["external_id"] == "ext-0"
    assert detail["final_label"]["label"] == -1
    assert detail["final_label"]["source"] == "imported"


def test_null_optional_fields_count_as_absent(manager, dataset):
    body = solution(0, generator=None, label=None, metadata=None, final_answer_correct=None)
    response = post_json(token_client(manager), solutions_url(), body)
    assert response.status_code == 201
    stored = Solution.objects.get()
    assert (stored.generator, stored.imported_label, stored.metadata, stored.final_answer_correct) == (
        "",
        None,
        {},
        None,
    )


def test_processbench_records_read_back_identical(manager, dataset):
    records = processbench_records()
    client = token_client(manager)
    response = post_json(client, solutions_url(), records)
    assert response.status_code == 201
    for record, item in zip(records, response.json()["items"], strict=True):
        detail = client.get(solution_url(item["id"]))
        assert detail.status_code == 200
        body = detail.json()
        assert body["external_id"] == record["id"]
        for name in PROCESSBENCH_FIELDS:
            assert body[name] == record[name], (record["id"], name)
        read_back = {"id": body["external_id"], **{name: body[name] for name in PROCESSBENCH_FIELDS}}
        assert list(read_back) == list(record)  # same keys in the same order: json.dumps is byte-identical
        assert read_back == record


def test_the_latex_record_survives_backslashes_and_newlines(manager, dataset):
    record = next(r for r in processbench_records() if r["id"] == "math-2")
    client = token_client(manager)
    solution_id = post_json(client, solutions_url(), record).json()["items"][0]["id"]
    steps = client.get(solution_url(solution_id)).json()["steps"]
    assert "\\[" in steps[0] and "\n" in steps[0]
    assert steps == record["steps"]


def test_a_second_ingestion_of_processbench_records_adds_nothing(manager, dataset):
    client = token_client(manager)
    post_json(client, solutions_url(), processbench_records())
    response = post_json(client, solutions_url(), processbench_records())
    assert response.status_code == 200
    assert response.json()["existing"] == 3
    assert Solution.objects.count() == 3
    assert FinalLabel.objects.count() == 3


def test_the_collector_is_paused_during_an_ingestion_and_back_after_it_fails_or_succeeds(manager, dataset, monkeypatch):
    seen = []
    ingest = solutions_api.solutions_ingest_json

    def spy(**kwargs):
        seen.append(gc.isenabled())
        return ingest(**kwargs)

    monkeypatch.setattr(solutions_api, "solutions_ingest_json", spy)
    client = token_client(manager)
    assert post_json(client, solutions_url(), [solution(0), {"problem": ""}]).status_code == 400
    assert gc.isenabled()
    assert post_json(client, solutions_url(), [solution(0)]).status_code == 201
    assert gc.isenabled()
    assert seen == [False, False]
