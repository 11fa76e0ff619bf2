"""GET list and detail: filters, pagination, a constant number of queries, and who sees which labels."""

import pytest

from annotations.models import SolutionStatus
from tests.annotations.api_support import post_json, processbench_records, solution_url, solutions_url, token_client
from tests.factories import (
    AnnotationFactory,
    FinalLabelFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["external_id"] for row in response.json()["results"]]


@pytest.fixture
def catalogue(dataset):
    """Four solutions differing in status, label, generator and subset."""
    made = {
        "a": SolutionFactory(dataset=dataset, external_id="a", generator="qwen", subset="gsm8k"),
        "b": SolutionFactory(dataset=dataset, external_id="b", generator="llama", subset="math"),
        "c": SolutionFactory(
            dataset=dataset, external_id="c", generator="qwen", subset="math", status=SolutionStatus.FINAL
        ),
        "d": SolutionFactory(
            dataset=dataset,
            external_id="d",
            generator="llama",
            problem=ProblemFactory(dataset=dataset, text="Résoudre \\frac{1}{2} + x = 1"),
            steps=["Soit \\(x = \\frac{1}{2}\\).", "Donc x vaut 0,5."],
        ),
    }
    FinalLabelFactory(solution=made["c"], label=0)
    return made


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["a", "b", "c", "d"]),
        ("?status=final", ["c"]),
        ("?status=open", ["a", "b", "d"]),
        ("?has_label=true", ["c"]),
        ("?has_label=false", ["a", "b", "d"]),
        ("?generator=qwen", ["a", "c"]),
        ("?subset=math", ["b", "c"]),
        ("?generator=llama&subset=math", ["b"]),
        ("?external_id=c", ["c"]),
        ("?q=résoudre", ["d"]),
        ("?q=\\frac{1}{2}", ["d"]),
        ("?q=vaut 0,5", ["d"]),
        ("?q=2 %2B 2 = 4", ["a", "b", "c"]),
        ("?q=nothing-like-this", []),
    ],
)
def test_list_filters(manager, catalogue, query, expected):
    assert _ids(token_client(manager).get(solutions_url() + query)) == expected


@pytest.mark.postgres
def test_search_folds_the_case_of_non_ascii_letters_on_postgresql(manager, catalogue):
    # SQLite's LIKE folds ASCII letters only; README says so.
    assert _ids(token_client(manager).get(solutions_url() + "?q=RÉSOUDRE")) == ["d"]


@pytest.mark.parametrize(
    "query, field, message",
    [
        ("?status=done", "status", '"done" is not a valid choice.'),
        ("?has_label=maybe", "has_label", "Must be a valid boolean."),
        ("?q=" + "x" * 201, "q", "Ensure this field has no more than 200 characters."),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(manager, dataset, query, field, message):
    response = token_client(manager).get(solutions_url() + query)
    assert response.status_code == 400
    assert response.json() == {"message": f"Invalid input. {field}: {message}", "errors": {field: [message]}}


def test_pagination(manager, dataset):
    for index in range(7):
        SolutionFactory(dataset=dataset, external_id=f"s{index}")
    client = token_client(manager)
    first = client.get(solutions_url() + "?page_size=3").json()
    assert first["count"] == 7
    assert [row["external_id"] for row in first["results"]] == ["s0", "s1", "s2"]
    assert first["next"].endswith("/api/v1/datasets/demo/solutions/?page=2&page_size=3")
    last = client.get(solutions_url() + "?page_size=3&page=3").json()
    assert [row["external_id"] for row in last["results"]] == ["s6"]
    assert client.get(solutions_url() + "?page=9").status_code == 404


def _populate(dataset, count: int, annotator) -> None:
    for index in range(count):
        stored = SolutionFactory(dataset=dataset, external_id=f"q{index}")
        AnnotationFactory(solution=stored, annotator=annotator if index % 2 else UserFactory())
        SuggestionFactory(solution=stored)
        if index % 3 == 0:
            FinalLabelFactory(solution=stored)


@pytest.mark.parametrize("role", ["manager", "annotator"])
def test_the_list_runs_a_constant_number_of_queries(dataset, django_assert_num_queries, role):
    user = UserFactory()
    MembershipFactory(dataset=dataset, user=user, role=role)
    client = token_client(user)
    _populate(dataset, 3, user)
    with django_assert_num_queries(4):  # token, dataset + role, count, page
        assert client.get(solutions_url() + "?q=Step").json()["count"] == 3
    for index in range(30):
        SolutionFactory(dataset=dataset, external_id=f"more{index}")
    with django_assert_num_queries(4):
        assert client.get(solutions_url() + "?q=Step").json()["count"] == 33


def test_the_detail_runs_a_constant_number_of_queries(manager, dataset, django_assert_num_queries):
    stored = SolutionFactory(dataset=dataset)
    FinalLabelFactory(solution=stored)
    for index in range(5):
        AnnotationFactory(solution=stored)
        SuggestionFactory(solution=stored, method=f"method{index}")
    client = token_client(manager)
    with django_assert_num_queries(5):  # token, dataset + role, solution, annotations, suggestions
        body = client.get(solution_url(stored.pk)).json()
    assert len(body["annotations"]) == 5
    assert len(body["suggestions"]) == 5


@pytest.fixture
def labelled(dataset):
    """A solution with an imported label, a final label, two people's annotations and a suggestion."""
    stored = SolutionFactory(dataset=dataset, imported_label=1)
    FinalLabelFactory(solution=stored, label=1, source="imported")
    AnnotationFactory(solution=stored, annotator=UserFactory(username="bob"), earliest_error_step=1)
    AnnotationFactory(solution=stored, annotator=UserFactory(username="carol"), earliest_error_step=2)
    SuggestionFactory(solution=stored, method="judge", label=1, rationale="Step 2 is wrong.")
    return stored


def test_annotators_do_not_see_others_labels_before_annotating(annotator, dataset, labelled):
    body = token_client(annotator).get(solution_url(labelled.pk)).json()
    assert body["annotations"] == []
    assert body["label"] is None
    assert body["final_label"] is None
    assert body["labels_hidden"] is True
    assert [s["method"] for s in body["suggestions"]] == ["judge"]  # not a blind dataset
    row = token_client(annotator).get(solutions_url()).json()["results"][0]
    assert (row["label"], row["final_label"], row["labels_hidden"]) == (None, None, True)


def test_annotators_see_every_annotation_once_they_annotated(annotator, dataset, labelled):
    AnnotationFactory(solution=labelled, annotator=annotator, earliest_error_step=1)
    body = token_client(annotator).get(solution_url(labelled.pk)).json()
    assert [a["annotator"] for a in body["annotations"]] == ["bob", "carol", "alice"]
    assert body["label"] == 1
    assert body["final_label"]["label"] == 1
    assert body["labels_hidden"] is False


def test_on_a_blind_dataset_annotators_see_no_suggestions_before_annotating(annotator, dataset, labelled):
    dataset.blind = True
    dataset.save()
    assert token_client(annotator).get(solution_url(labelled.pk)).json()["suggestions"] == []
    AnnotationFactory(solution=labelled, annotator=annotator)
    assert len(token_client(annotator).get(solution_url(labelled.pk)).json()["suggestions"]) == 1


@pytest.mark.parametrize("role", ["manager", "reviewer"])
def test_managers_and_reviewers_see_everything(dataset, labelled, role):
    user = UserFactory()
    MembershipFactory(dataset=dataset, user=user, role=role)
    body = token_client(user).get(solution_url(labelled.pk)).json()
    assert [(a["annotator"], a["earliest_error_step"]) for a in body["annotations"]] == [("bob", 1), ("carol", 2)]
    assert body["suggestions"][0]["rationale"] == "Step 2 is wrong."
    assert body["final_label"] == {
        "label": 1,
        "source": "imported",
        "agreement": None,
        "decided_at": body["final_label"]["decided_at"],
    }


def test_lookup_by_external_id_then_detail(manager, dataset):
    client = token_client(manager)
    post_json(client, solutions_url(), processbench_records())
    rows = client.get(solutions_url() + "?external_id=math-500").json()["results"]
    assert len(rows) == 1
    detail = client.get(solution_url(rows[0]["id"])).json()
    assert detail["external_id"] == "math-500"
    assert detail["label"] == -1
