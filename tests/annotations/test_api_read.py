"""GET list and detail: filters, pagination, a constant number of queries, and who sees which solutions."""

import pytest

from annotations.models import SolutionStatus
from annotations.selectors.solutions import ANNOTATOR_NOT_FOUND
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
    beyond = client.get(solutions_url() + "?page=9")
    assert beyond.status_code == 404
    assert beyond.json() == {
        "message": "Invalid page.",
        "errors": {"page": ["That page contains no results (pages count from 1)."]},
    }
    assert client.get(solutions_url() + "?page=x").json()["errors"] == {
        "page": ["That page number is not an integer (pages count from 1)."]
    }


def _populate(dataset, count: int, annotator, prefix: str = "q") -> None:
    """Add solutions the annotator annotated (half also by someone else), with suggestions and final labels."""
    for index in range(count):
        # Final: settled, so an annotator reads it too (they read no solution they may still change).
        stored = SolutionFactory(dataset=dataset, external_id=f"{prefix}{index}", status=SolutionStatus.FINAL)
        AnnotationFactory(solution=stored, annotator=annotator)
        if index % 2:
            AnnotationFactory(solution=stored)
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
    _populate(dataset, 30, user, prefix="more")
    with django_assert_num_queries(4):
        assert client.get(solutions_url() + "?q=Step").json()["count"] == 33


@pytest.mark.parametrize("role", ["manager", "annotator"])
def test_the_detail_runs_a_constant_number_of_queries(dataset, django_assert_num_queries, role):
    user = UserFactory()
    MembershipFactory(dataset=dataset, user=user, role=role)
    stored = SolutionFactory(dataset=dataset, status=SolutionStatus.FINAL)
    FinalLabelFactory(solution=stored)
    AnnotationFactory(solution=stored, annotator=user)
    for index in range(5):
        AnnotationFactory(solution=stored)
        SuggestionFactory(solution=stored, method=f"method{index}")
    client = token_client(user)
    with django_assert_num_queries(5):  # token, dataset + role, solution, annotations, suggestions
        body = client.get(solution_url(stored.pk)).json()
    assert len(body["annotations"]) == 6
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


def test_a_solution_an_annotator_has_not_annotated_is_a_404(annotator, dataset, labelled):
    response = token_client(annotator).get(solution_url(labelled.pk))
    assert response.status_code == 404
    assert response.json() == {
        "message": f"Solution {labelled.pk} not found among the settled solutions you annotated in dataset 'demo'.",
        "errors": {"id": [ANNOTATOR_NOT_FOUND]},
    }
    assert token_client(annotator).get(solutions_url()).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


@pytest.fixture
def gold(dataset):
    """A gold item as the demo makes them: imported label, final label, ProcessBench label in metadata."""
    stored = SolutionFactory(
        dataset=dataset,
        external_id="gsm8k-26",
        imported_label=2,
        is_gold=True,
        status=SolutionStatus.FINAL,
        metadata={"processbench_label": 2},
    )
    FinalLabelFactory(solution=stored, label=2, source="imported")
    return stored


@pytest.mark.parametrize("query", ["", "?status=final", "?has_label=true", "?external_id=gsm8k-26", "?q=gsm8k"])
def test_no_list_filter_shows_an_annotator_the_gold_items_before_they_label_them(annotator, gold, query):
    SolutionFactory(dataset=gold.dataset, external_id="open-one")
    assert _ids(token_client(annotator).get(solutions_url() + query)) == []
    assert token_client(annotator).get(solution_url(gold.pk)).status_code == 404


def _settle(solution, status=SolutionStatus.FINAL, annotation_count=3):
    solution.status, solution.annotation_count = status, annotation_count
    solution.save(update_fields=["status", "annotation_count"])


def test_an_annotator_reads_their_own_settled_work_with_everything(annotator, dataset, labelled, gold):
    AnnotationFactory(solution=labelled, annotator=annotator, earliest_error_step=1)
    AnnotationFactory(solution=gold, annotator=annotator, earliest_error_step=2)
    _settle(labelled)
    _settle(gold)  # a gold item looks settled once it has k (3) annotations
    SolutionFactory(dataset=dataset, external_id="not-mine")
    client = token_client(annotator)
    body = client.get(solution_url(labelled.pk)).json()
    assert [a["annotator"] for a in body["annotations"]] == ["bob", "carol", "alice"]
    assert body["label"] == 1
    assert body["final_label"]["label"] == 1
    assert [s["rationale"] for s in body["suggestions"]] == ["Step 2 is wrong."]
    gold_body = client.get(solution_url(gold.pk)).json()
    assert (gold_body["is_gold"], gold_body["metadata"], gold_body["label"]) == (True, {"processbench_label": 2}, 2)
    assert _ids(client.get(solutions_url())) == [labelled.external_id, "gsm8k-26"]
    assert _ids(client.get(solutions_url() + "?has_label=true")) == [labelled.external_id, "gsm8k-26"]


@pytest.mark.parametrize(
    "status, annotation_count",
    [(SolutionStatus.OPEN, 3), (SolutionStatus.NEEDS_REVIEW, 3), ("gold", 2)],
)
def test_an_annotator_reads_nothing_of_a_solution_they_may_still_change(
    annotator, dataset, labelled, gold, status, annotation_count
):
    """Before the fix the detail showed the gold label and the others' labels while the annotator could relabel."""
    solution = gold if status == "gold" else labelled
    AnnotationFactory(solution=solution, annotator=annotator, earliest_error_step=0)
    _settle(solution, SolutionStatus.FINAL if status == "gold" else status, annotation_count)
    client = token_client(annotator)
    response = client.get(solution_url(solution.pk))
    assert response.status_code == 404
    assert response.json()["errors"] == {"id": [ANNOTATOR_NOT_FOUND]}
    assert b"processbench_label" not in response.content and b"bob" not in response.content
    for query in ("", "?status=final", "?has_label=true", "?q=Step"):
        assert _ids(client.get(solutions_url() + query)) == []


def test_on_a_blind_dataset_an_annotator_sees_the_suggestions_of_their_own_work(annotator, dataset, labelled):
    dataset.blind = True
    dataset.save()
    AnnotationFactory(solution=labelled, annotator=annotator)
    _settle(labelled)
    assert [s["method"] for s in token_client(annotator).get(solution_url(labelled.pk)).json()["suggestions"]] == [
        "judge"
    ]


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
        "explanation": "",
        "error_type": None,
        "explanation_source": "",
        "explanation_annotation": None,
        "explanation_suggestion": None,
    }


def test_lookup_by_external_id_then_detail(manager, dataset):
    client = token_client(manager)
    post_json(client, solutions_url(), processbench_records())
    rows = client.get(solutions_url() + "?external_id=math-500").json()["results"]
    assert len(rows) == 1
    detail = client.get(solution_url(rows[0]["id"])).json()
    assert detail["external_id"] == "math-500"
    assert detail["label"] == -1
