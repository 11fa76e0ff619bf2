"""The ingestion service: validation by field, all-or-nothing batches, idempotency, after-commit work."""

from typing import Any

import pytest

from annotations.models import FinalLabel, FinalLabelSource, Problem, Solution
from annotations.services import ingestion
from annotations.services.ingestion import (
    MAX_BATCH_ITEMS,
    SolutionInput,
    solutions_ingest,
    solutions_ingest_json,
)
from annotations.solution_input import solution_input_from_mapping, validate_solution_input
from prmweb.errors import ApplicationError, TooLargeError
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db


def _item(index: int = 0, **overrides) -> SolutionInput:
    values: dict[str, Any] = {
        "problem": f"What is {index} + {index}?",
        "steps": [f"Add {index} and {index}.", f"The answer is {2 * index}."],
        "external_id": f"ext-{index}",
    }
    values.update(overrides)
    return SolutionInput(**values)


def test_a_batch_is_stored_with_problems_and_imported_labels(dataset):
    result = solutions_ingest(
        dataset=dataset,
        items=[_item(0, label=1, reference_answer="0"), _item(1, label=-1), _item(2)],
    )
    assert [item.status for item in result.items] == ["created"] * 3
    assert (result.created, result.existing) == (3, 0)
    stored = {s.external_id: s for s in Solution.objects.filter(dataset=dataset)}
    assert [item.solution_id for item in result.items] == [stored[f"ext-{i}"].pk for i in range(3)]
    assert stored["ext-0"].imported_label == 1
    assert stored["ext-0"].problem.reference_answer == "0"
    assert stored["ext-2"].imported_label is None
    finals = {f.solution.external_id: (f.label, f.source) for f in FinalLabel.objects.select_related("solution")}
    assert finals == {"ext-0": (1, FinalLabelSource.IMPORTED), "ext-1": (-1, FinalLabelSource.IMPORTED)}


def test_ingesting_again_reports_existing_and_stores_nothing(dataset):
    first = solutions_ingest(dataset=dataset, items=[_item(0), _item(1)])
    second = solutions_ingest(dataset=dataset, items=[_item(1), _item(0), _item(2)])
    assert [(i.status, i.external_id) for i in second.items] == [
        ("existing", "ext-1"),
        ("existing", "ext-0"),
        ("created", "ext-2"),
    ]
    assert second.items[1].solution_id == first.items[0].solution_id
    assert Solution.objects.filter(dataset=dataset).count() == 3


def test_without_an_id_the_content_identifies_a_solution(dataset):
    result = solutions_ingest(
        dataset=dataset, items=[_item(5, external_id=""), _item(5, external_id=""), _item(6, external_id="")]
    )
    assert [i.status for i in result.items] == ["created", "existing", "created"]
    assert result.items[0].solution_id == result.items[1].solution_id
    again = solutions_ingest(dataset=dataset, items=[_item(5, external_id="")])
    assert again.items[0].status == "existing"
    assert Solution.objects.filter(dataset=dataset).count() == 2


def test_the_same_id_in_another_dataset_is_another_solution(dataset):
    from tests.factories import DatasetFactory

    other = DatasetFactory()
    solutions_ingest(dataset=dataset, items=[_item(0)])
    result = solutions_ingest(dataset=other, items=[_item(0)])
    assert result.items[0].status == "created"


def test_solutions_of_one_problem_share_it_and_fill_a_blank_reference(dataset):
    solutions_ingest(dataset=dataset, items=[_item(0), _item(1, problem="What is 0 + 0?")])
    assert Problem.objects.filter(dataset=dataset).count() == 1
    solutions_ingest(dataset=dataset, items=[_item(2, problem="What is 0 + 0?", reference_answer="0")])
    problem = Problem.objects.get(dataset=dataset)
    assert problem.reference_answer == "0"
    assert problem.solutions.count() == 3


def test_one_bad_item_rejects_the_batch_with_every_bad_items_errors(dataset):
    items = [_item(0), _item(1, label=5), _item(2), _item(3, steps=["ok", ""])]
    with pytest.raises(ApplicationError) as caught:
        solutions_ingest(dataset=dataset, items=items)
    assert type(caught.value) is ApplicationError  # a plain invalid input: the API answers 400
    assert caught.value.errors == {
        "1": {"label": ["Must be -1 (all steps correct) or a step index from 0 to 1."]},
        "3": {"steps[1]": ["This field may not be blank."]},
    }
    assert caught.value.message == (
        "2 of 4 solutions are invalid; nothing was stored. "
        "item 1, label: Must be -1 (all steps correct) or a step index from 0 to 1."
    )
    assert not Solution.objects.exists()


def test_duplicate_ids_in_one_batch_are_refused(dataset):
    with pytest.raises(ApplicationError) as caught:
        solutions_ingest(dataset=dataset, items=[_item(0), _item(1, external_id="ext-0")])
    assert caught.value.errors == {"1": {"id": ["Duplicate id 'ext-0' in this batch (also item 0)."]}}


def test_a_batch_over_the_maximum_is_a_413_naming_the_batch(dataset):
    with pytest.raises(ApplicationError) as caught:
        solutions_ingest(dataset=dataset, items=[_item(i) for i in range(MAX_BATCH_ITEMS + 1)])
    assert isinstance(caught.value, TooLargeError)  # the API answers 413
    assert caught.value.errors == {"batch": ["Ensure this list has no more than 10000 items (it has 10001)."]}
    assert not Solution.objects.exists()


def test_an_empty_batch_is_refused(dataset):
    with pytest.raises(ApplicationError) as caught:
        solutions_ingest(dataset=dataset, items=[])
    assert caught.value.errors == {"batch": ["Send at least one solution."]}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"steps": "one step"}, "steps", "Must be a non-empty list of non-empty strings."),
        ({"steps": []}, "steps", "Must be a non-empty list of non-empty strings."),
        ({"steps": ["ok", 3]}, "steps[1]", "Must be a string."),
        ({"label": "1"}, "label", "Must be an integer."),
        ({"label": True}, "label", "Must be an integer."),
        ({"label": -2}, "label", "Must be -1 (all steps correct) or a step index from 0 to 1."),
        ({"final_answer_correct": "yes"}, "final_answer_correct", "Must be a boolean."),
        ({"metadata": []}, "metadata", "Must be a JSON object."),
        ({"metadata": {"score": float("nan")}}, "metadata", "Must not contain NaN or infinite numbers."),
        ({"metadata": {"note": "a\x00b"}}, "metadata", "Must not contain NUL characters."),
        ({"problem": "x\x00"}, "problem", "Must not contain NUL characters."),
        ({"steps": ["bad \ud800 step"]}, "steps[0]", "Must be valid Unicode (it contains an unpaired surrogate)."),
        ({"problem": "   "}, "problem", "This field may not be blank."),
        ({"external_id": 17}, "id", "Must be a string."),
        ({"generator": "g" * 201}, "generator", "Ensure this field has no more than 200 characters (it has 201)."),
    ],
)
def test_each_bad_value_is_named(overrides, field, message):
    assert validate_solution_input(_item(0, **overrides)) == {field: [message]}


def test_deep_metadata_is_refused():
    deep: dict = {}
    node = deep
    for _ in range(20):
        node["x"] = {}
        node = node["x"]
    assert validate_solution_input(_item(0, metadata=deep)) == {
        "metadata": ["Must not be nested deeper than 16 levels."]
    }


def test_mapping_reports_unknown_and_missing_fields_and_treats_null_as_absent():
    item, errors = solution_input_from_mapping({"steps": ["a"], "problem": None, "lable": 1, "generator": None})
    assert errors == {
        "lable": [
            "Unknown field. Allowed fields: problem, steps, response, segmentation, id, generator, subset, "
            "reference_answer, reference_solution, final_answer, final_answer_correct, label, metadata."
        ],
        "problem": ["This field is required."],
    }
    assert item is not None and item.generator == ""


def test_json_payload_errors_merge_structure_and_values_by_index(dataset):
    payload = [
        {"problem": "p", "steps": ["a"], "label": 3, "colour": "red"},
        "not an object",
        {"problem": "q", "steps": ["b"]},
    ]
    with pytest.raises(ApplicationError) as caught:
        solutions_ingest_json(dataset=dataset, payload=payload)
    errors = caught.value.errors
    assert list(errors) == ["0", "1"]
    assert errors["0"]["label"] == ["Must be -1 (all steps correct) or a step index from 0 to 0."]
    assert errors["0"]["colour"][0].startswith("Unknown field.")
    assert errors["1"] == {"non_field_errors": ["Must be a JSON object (one solution)."]}
    assert not Solution.objects.exists()


def test_new_solution_ids_go_to_the_answer_check_and_the_hook_after_commit(
    dataset, monkeypatch, django_capture_on_commit_callbacks
):
    checked: list[list[int]] = []
    hooked: list[tuple[int, list[int]]] = []
    monkeypatch.setattr("annotations.tasks.check_final_answers.delay", lambda ids: checked.append(ids))
    monkeypatch.setattr(
        ingestion.hooks,
        "notify_solutions_ingested",
        lambda dataset_id, solution_ids: hooked.append((dataset_id, solution_ids)),
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = solutions_ingest(dataset=dataset, items=[_item(0), _item(1)])
    ids = [item.solution_id for item in result.items]
    assert checked == [ids]
    assert hooked == [(dataset.pk, ids)]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        solutions_ingest(dataset=dataset, items=[_item(0)])
    assert callbacks == []  # nothing new, nothing to check


def test_a_broken_broker_does_not_lose_the_stored_solutions(dataset, monkeypatch, django_capture_on_commit_callbacks):
    def refuse(ids):
        raise ConnectionError("broker down")

    monkeypatch.setattr("annotations.tasks.check_final_answers.delay", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        solutions_ingest(dataset=dataset, items=[_item(0)])
    assert Solution.objects.filter(dataset=dataset).count() == 1


@pytest.mark.parametrize(
    "triage_mode, methods, needs_humans",
    [
        ("all", ["mc", "judge"], True),
        ("disagreement_only", ["mc", "judge", "arithmetic"], False),
        ("disagreement_only", ["arithmetic"], True),  # no consensus can ever come: people label
    ],
)
def test_new_solutions_wait_for_machine_consensus_only_when_triage_can_decide(triage_mode, methods, needs_humans):
    dataset = DatasetFactory(triage_mode=triage_mode, scoring_methods=methods)
    result = solutions_ingest(dataset=dataset, items=[SolutionInput(problem="1+1?", steps=["1+1=2."])])
    solution = dataset.solutions.get(pk=result.items[0].solution_id)
    assert solution.needs_humans is needs_humans
