"""POST a response instead of steps: segmentation, verbatim read-back, idempotency, limits after the split."""

import json

import pytest

from annotations import segmentation
from annotations.models import Dataset, Solution
from tests.annotations.api_support import post_json, processbench_records, solution_url, solutions_url, token_client

pytestmark = pytest.mark.django_db

RESPONSE = (
    "Let's compute step by step. \r\n"
    "Janet's ducks lay 16 eggs; she uses 3 + 4 = 7.\n"
    "\n"
    "  \t\n"
    "She sells 16 - 7 = 9 eggs at $2 each: 9 \u00d7 2 = 18 dollars.  \n"
    "\n"
    "The answer is \\boxed{18}.\n"
)
PARAGRAPHS = [
    "Let's compute step by step. \r\nJanet's ducks lay 16 eggs; she uses 3 + 4 = 7.",
    "She sells 16 - 7 = 9 eggs at $2 each: 9 \u00d7 2 = 18 dollars.  ",
    "The answer is \\boxed{18}.",
]


def _post(manager, payload):
    return post_json(token_client(manager), solutions_url(), payload)


def _set_segmentation(dataset, mode, pattern=""):
    Dataset.objects.filter(pk=dataset.pk).update(segmentation=mode, segmentation_pattern=pattern)


def test_a_response_is_stored_verbatim_split_into_its_paragraphs_and_read_back_identical(manager, dataset):
    response = _post(manager, {"problem": "How much does Janet make?", "response": RESPONSE})

    assert response.status_code == 201
    stored = Solution.objects.get()
    assert stored.steps == PARAGRAPHS
    assert (stored.num_steps, stored.segmentation, stored.response) == (3, "paragraphs", RESPONSE)
    assert stored.step_offsets == [[0, 76], [82, 141], [143, 168]]
    assert [RESPONSE[start:end] for start, end in stored.step_offsets] == PARAGRAPHS
    detail = token_client(manager).get(solution_url(stored.pk))
    body = detail.json()
    assert (body["response"], body["segmentation"], body["steps"]) == (RESPONSE, "paragraphs", PARAGRAPHS)
    assert body["step_offsets"] == [[0, 76], [82, 141], [143, 168]]
    assert json.dumps(body["response"], ensure_ascii=False) == json.dumps(RESPONSE, ensure_ascii=False)


def test_a_solution_sent_as_steps_reads_back_without_a_response(manager, dataset):
    record = processbench_records()[0]
    _post(manager, record)
    body = token_client(manager).get(solution_url(Solution.objects.get().pk)).json()
    assert (body["response"], body["segmentation"], body["step_offsets"]) == (None, None, [])


def test_the_record_chooses_lines_and_otherwise_the_dataset_default_applies(manager, dataset):
    _post(manager, {"id": "a", "problem": "p", "response": "one\ntwo\n\nthree", "segmentation": "lines"})
    _set_segmentation(dataset, "lines")
    _post(manager, {"id": "b", "problem": "p", "response": "four\nfive"})
    _post(manager, {"id": "c", "problem": "p", "response": "six\nseven", "segmentation": "paragraphs"})
    stored = {s.external_id: (s.steps, s.segmentation) for s in Solution.objects.all()}
    assert stored == {
        "a": (["one", "two", "three"], "lines"),
        "b": (["four", "five"], "lines"),
        "c": (["six\nseven"], "paragraphs"),
    }


def test_pattern_segmentation_uses_the_datasets_pattern(manager, dataset):
    _set_segmentation(dataset, "paragraphs", r"(?=Step \d+:)")
    text = "Step 1: 3 + 4 = 7.\nStep 2: 16 - 7 = 9.\nStep 3: \\boxed{18}"
    response = _post(manager, {"problem": "p", "response": text, "segmentation": "pattern"})
    assert response.status_code == 201
    assert Solution.objects.get().steps == ["Step 1: 3 + 4 = 7.", "Step 2: 16 - 7 = 9.", "Step 3: \\boxed{18}"]


def test_the_same_response_twice_is_one_solution_and_a_different_one_is_another(manager, dataset):
    body = {"problem": "How much does Janet make?", "response": RESPONSE}
    first = _post(manager, body).json()["items"][0]
    again = _post(manager, {**body, "generator": "another-model"})
    assert again.status_code == 200
    assert again.json()["items"][0] == {**first, "status": "existing"}
    # The same paragraphs with one blank line more: another verbatim text, so another solution.
    other = _post(manager, {**body, "response": RESPONSE.replace("\n\n", "\n\n\n", 1)})
    assert other.status_code == 201
    # The same steps sent as a list are not the response: stored apart, and each is idempotent.
    as_steps = _post(manager, {"problem": body["problem"], "steps": PARAGRAPHS})
    assert as_steps.status_code == 201
    assert _post(manager, {"problem": body["problem"], "steps": PARAGRAPHS}).status_code == 200
    assert Solution.objects.count() == 3


def test_an_id_makes_a_response_idempotent_too(manager, dataset):
    body = {"id": "gen-1#0", "problem": "p", "response": "a\n\nb"}
    assert _post(manager, body).status_code == 201
    again = _post(manager, {**body, "response": "a changed response"})
    assert (again.status_code, again.json()["items"][0]["status"]) == (200, "existing")
    assert Solution.objects.get().response == "a\n\nb"


def test_more_than_200_paragraphs_are_refused_naming_the_response_and_the_count(manager, dataset):
    text = "\n\n".join(f"Step {index}." for index in range(201))
    response = _post(manager, {"problem": "p", "response": text})
    assert response.status_code == 400
    assert response.json() == {
        "message": "The solution is invalid; nothing was stored. response: Segmentation 'paragraphs' split the "
        "response into 201 steps; a solution has at most 200.",
        "errors": {
            "response": ["Segmentation 'paragraphs' split the response into 201 steps; a solution has at most 200."]
        },
    }
    assert not Solution.objects.exists()
    assert _post(manager, {"problem": "p", "response": "\n\n".join(["x"] * 200)}).status_code == 201


def test_a_step_over_20000_characters_is_refused_with_its_place_in_the_response(manager, dataset):
    text = "Short first step.\n\n" + "9" * 20_001 + "\n\nLast."
    response = _post(manager, {"problem": "p", "response": text})
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "response": [
            "Segmentation 'paragraphs' split the response into 3 steps; steps[1] (characters 19 to 20020) "
            "has 20001 characters, at most 20000."
        ]
    }


def test_a_pattern_that_leaves_no_step_is_refused(manager, dataset):
    _set_segmentation(dataset, "pattern", r"[\s\S]+")
    response = _post(manager, {"problem": "p", "response": "everything is a separator"})
    assert response.json()["errors"] == {
        "response": ["Segmentation 'pattern' split the response into 0 steps; a solution needs at least 1."]
    }


def test_the_label_is_checked_against_the_steps_of_the_split(manager, dataset):
    response = _post(manager, {"problem": "p", "response": "a\n\nb\n\nc", "label": 3})
    assert response.json()["errors"] == {
        "label": [
            "Must be -1 (all steps correct) or a step index from 0 to 2 "
            "(segmentation 'paragraphs' split the response into 3 steps)."
        ]
    }
    assert _post(manager, {"problem": "p", "response": "a\n\nb\n\nc", "label": 2}).status_code == 201
    assert Solution.objects.get().imported_label == 2


@pytest.mark.parametrize(
    "body, errors",
    [
        (
            {"problem": "p", "steps": ["a"], "response": "a"},
            {"response": ["Send either steps or response, not both."]},
        ),
        ({"problem": "p", "response": " \n\n "}, {"response": ["This field may not be blank."]}),
        ({"problem": "p", "response": ["a", "b"]}, {"response": ["Must be a string."]}),
        ({"problem": "p", "response": "a\x00b"}, {"response": ["This value contains a NUL character."]}),
        (
            {"problem": "p", "response": "a", "segmentation": "sentences"},
            {"segmentation": ["Must be one of: paragraphs, lines, pattern, reformat."]},
        ),
        (
            {"problem": "p", "response": "a", "segmentation": "pattern"},
            {
                "segmentation": [
                    "The dataset has no segmentation_pattern; set one on the dataset, or choose paragraphs or lines."
                ]
            },
        ),
        (
            {"problem": "p", "steps": ["a"], "segmentation": "lines"},
            {"segmentation": ["Applies only with response; steps are stored as sent."]},
        ),
        (
            {"problem": "p", "response": "x" * 500_001},
            {"response": ["Ensure this field has no more than 500000 characters (it has 500001)."]},
        ),
    ],
)
def test_bad_responses_are_refused_naming_the_field(manager, dataset, body, errors):
    response = _post(manager, body)
    assert response.status_code == 400
    assert response.json()["errors"] == errors
    assert not Solution.objects.exists()


def test_a_bulk_with_one_bad_response_stores_nothing_and_names_the_item(manager, dataset):
    batch = [
        {"id": "ok", "problem": "p", "response": "a\n\nb"},
        {"id": "bad", "problem": "p", "response": "a", "segmentation": "sentences"},
        {"id": "steps", "problem": "p", "steps": ["a"]},
    ]
    response = _post(manager, batch)
    assert response.status_code == 400
    assert response.json() == {
        "message": "1 of 3 solutions are invalid; nothing was stored. item 1, segmentation: Must be one of: "
        "paragraphs, lines, pattern, reformat.",
        "errors": {"1": {"segmentation": ["Must be one of: paragraphs, lines, pattern, reformat."]}},
    }
    assert not Solution.objects.exists()


def test_a_pattern_that_runs_out_of_time_rejects_the_batch_after_one_timeout(manager, dataset, monkeypatch):
    monkeypatch.setattr(segmentation, "PATTERN_TIMEOUT_SECONDS", 0.05)
    _set_segmentation(dataset, "pattern", r"(a|aa)+$")  # stored without the checks, as by an old row or SQL
    batch = [{"id": str(index), "problem": "p", "response": "a" * 60 + "!"} for index in range(3)]
    response = _post(manager, batch)
    assert response.status_code == 400
    message = (
        "The dataset's segmentation_pattern ran out of time (0.05 s) on this response; nothing was split. "
        "Simplify the pattern, or choose paragraphs or lines."
    )
    assert response.json()["errors"] == {str(index): {"response": [message]} for index in range(3)}
    assert not Solution.objects.exists()
