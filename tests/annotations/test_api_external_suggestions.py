"""External suggestions over the API: stored as sent, evaluated like built-in methods, refused by field."""

import pytest
import yaml
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import EXTERNAL_ENGINE, Suggestion
from annotations.selectors.workbench import suggestions_for_workbench
from tests.annotations.api_support import token_client
from tests.evaluation_fixture import SAMPLES, store
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    dataset = DatasetFactory(slug="samples")
    store(dataset, methods=("judge",))
    return dataset


def _member(dataset, username, role):
    user = UserFactory(username=username)
    MembershipFactory(dataset=dataset, user=user, role=role)
    return user


@pytest.fixture
def manager(dataset):
    return _member(dataset, "mona", "manager")


def _url(dataset):
    return reverse("api:external-suggestions", args=[dataset.slug])


def _team_prm_items():
    """The fixture's prm scores and labels, sent as an external method by the solutions' external ids."""
    subsets = {s["key"]: p["subset"] for p in SAMPLES["problems"] for s in p["solutions"]}
    return [
        {
            "external_id": f"{subsets[key]}-{key}",
            "method": "team-prm",
            "config_key": "ckpt-1000",
            "step_scores": values["step_scores"],
            "label": values["label"],
            "model_name": "team/prm-7b",
        }
        for key, values in SAMPLES["suggestions"]["prm"].items()
        if "step_scores" in values
    ]


def test_a_manager_ingests_external_scores_and_they_are_evaluated_like_a_built_in_method(dataset, manager):
    api = token_client(manager)
    items = _team_prm_items()
    response = api.post(_url(dataset), items, format="json")
    assert response.status_code == 201
    body = response.json()
    assert (body["created"], body["updated"]) == (11, 0)
    a = dataset.solutions.get(external_id="gsm8k-a")
    assert body["items"][0] == {
        "index": 0,
        "status": "created",
        "solution_id": a.pk,
        "method": "team-prm",
        "config_key": "ckpt-1000",
        "label": -1,
    }
    stored = Suggestion.objects.get(solution=a, method="team-prm")
    assert (stored.engine, stored.status, stored.config_key, stored.model_name) == (
        EXTERNAL_ENGINE,
        "succeeded",
        "ckpt-1000",
        "team/prm-7b",
    )
    assert (stored.step_scores, stored.parameters) == ([0.9, 0.8, 0.7], {"ingested_by": "mona"})

    evaluation = api.get(reverse("api:dataset-evaluation", args=[dataset.slug]), {"aggregate": "last"}).json()
    rows = {row["method"]: row for row in evaluation["methods"]}
    assert [row["method"] for row in evaluation["methods"]] == ["judge", "team-prm"]
    team = rows["team-prm"]
    assert (team["external"], team["config_key"], team["model_name"]) == (True, "ckpt-1000", "team/prm-7b")
    gsm8k = team["subsets"]["gsm8k"]
    # the hand-computed prm figures under `last` (tests/prmweb/core/test_evaluation_report.py)
    assert (gsm8k["best_of_n"], gsm8k["majority"], gsm8k["pass_at_n"]) == (0.5, 0.5, 1.0)
    assert (gsm8k["flawed_picks"], gsm8k["picks_labelled"], gsm8k["flawed_pick_rate"]) == (1, 2, 0.5)
    assert (gsm8k["min_at_last"], gsm8k["min_scored"]) == (2, 7)
    assert gsm8k["processbench"]["f1"] == pytest.approx(8 / 9)
    assert team["mean_f1"] == pytest.approx(4 / 9)
    assert team["pooled"]["coverage"] == pytest.approx(9 / 11)
    assert [(p["n"], p["best_of_n"]) for p in team["pooled"]["curve"]][-1] == (4, 0.5)

    again = api.post(_url(dataset), items[:2], format="json")
    assert again.status_code == 200
    assert (again.json()["created"], again.json()["updated"]) == (0, 2)
    assert Suggestion.objects.filter(method="team-prm").count() == 11


def test_scores_only_an_orm_and_a_threshold(dataset, manager):
    a, b = dataset.solutions.get(external_id="gsm8k-a"), dataset.solutions.get(external_id="gsm8k-b")
    api = token_client(manager)
    orm = {"solution_id": a.pk, "method": "orm", "step_scores": [None, None, 0.8]}
    derived = {"solution_id": b.pk, "method": "team-prm", "step_scores": [0.9, 0.3, 0.95], "threshold": 0.5}
    response = api.post(_url(dataset), [orm, derived], format="json")
    assert response.status_code == 201
    assert [item["label"] for item in response.json()["items"]] == [None, 1]
    stored = Suggestion.objects.get(solution=a, method="orm")
    assert (stored.label, stored.config_key, stored.step_scores) == (None, "default", [None, None, 0.8])


def test_bad_items_are_refused_by_field_and_nothing_is_stored(dataset, manager):
    a = dataset.solutions.get(external_id="gsm8k-a")
    j = dataset.solutions.get(external_id="math-j")
    foreign = SolutionFactory()
    items = [
        {"solution_id": a.pk, "method": "team-prm", "step_scores": [0.5, 0.5, 0.5]},  # valid
        {"solution_id": a.pk, "method": "mc", "step_scores": [0.5, 0.5, 0.5]},
        {"solution_id": a.pk, "method": "Team PRM", "label": 7, "step_scores": [1.5, "x", None]},
        {"external_id": "math-j", "method": "team-prm", "step_scores": [0.5, 0.5, 0.5], "label": 2},
        {"solution_id": foreign.pk, "external_id": "gsm8k-b", "method": "team-prm", "label": -1},
        {"solution_id": foreign.pk, "method": "team-prm", "label": -1, "colour": "red"},
        {"external_id": "nope", "method": "team-prm", "step_scores": [None, None, None]},
        {"solution_id": a.pk, "method": "team-prm", "label": 0},
        {"solution_id": j.pk, "method": "x", "label": -1, "threshold": 0.5, "confidence": 2},
    ]
    response = token_client(manager).post(_url(dataset), items, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == (
        "8 of 9 suggestions are invalid; nothing was stored. item 1, method: 'mc' is a built-in method of prmweb "
        "(arithmetic, consensus, judge, mc, prm); name yours otherwise."
    )
    built_in = "'mc' is a built-in method of prmweb (arithmetic, consensus, judge, mc, prm); name yours otherwise."
    fields = (
        "solution_id, external_id, method, config_key, step_scores, label, threshold, model_name, rationale, confidence"
    )
    assert body["errors"] == {
        "1": {"method": [built_in]},
        "2": {
            "method": ["Must start with a letter or digit and hold only letters, digits and _ . -."],
            "step_scores[0]": ["1.5 is outside [0, 1]."],
            "step_scores[1]": ["Must be a number in [0, 1], or null (a step you did not score)."],
        },
        "3": {
            "step_scores": [
                "Has 3 scores for a solution of 2 steps; send one per step (null for a step you did not score)."
            ],
            "label": ["Must be -1 (all steps correct) or a step index from 0 to 1."],
        },
        "4": {"solution_id": ["Send either solution_id or external_id, not both."]},
        "5": {"colour": [f"Unknown field. Allowed fields: {fields}."]},
        "6": {"step_scores": ["Send step_scores (at least one number) or a label: there is nothing to evaluate."]},
        "7": {"method": ["Item 0 already sends this solution's 'team-prm' (default) suggestion."]},
        "8": {
            "threshold": ["Send either label or threshold (to derive the label from step_scores), not both."],
            "confidence": ["2 is outside [0, 1]."],
        },
    }  # fmt: skip
    assert not Suggestion.objects.filter(engine=EXTERNAL_ENGINE).exists()


def test_unknown_solutions_and_a_single_object_name_their_field(dataset, manager):
    foreign = SolutionFactory()
    api = token_client(manager)
    response = api.post(_url(dataset), {"solution_id": foreign.pk, "method": "team-prm", "label": -1}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "message": f"The suggestion is invalid; nothing was stored. solution_id: No solution with id {foreign.pk} "
        "in this dataset.",
        "errors": {"solution_id": [f"No solution with id {foreign.pk} in this dataset."]},
    }
    response = api.post(_url(dataset), {"external_id": "nope", "method": "team-prm", "label": -1}, format="json")
    assert response.json()["errors"] == {"external_id": ["No solution with external id 'nope' in this dataset."]}
    response = api.post(_url(dataset), {"method": "team-prm", "label": -1}, format="json")
    assert response.json()["errors"] == {
        "solution_id": ["Name the solution: send solution_id (its id here) or external_id (your id)."]
    }
    assert api.post(_url(dataset), "scores", format="json").json()["errors"] == {
        "non_field_errors": ["Expected a JSON object or a JSON array of objects."]
    }
    assert api.post(_url(dataset), [], format="json").json()["errors"] == {"batch": ["Send at least one."]}
    too_many = [{"solution_id": 1, "method": "x", "label": -1}] * 1001
    response = api.post(_url(dataset), too_many, format="json")
    assert response.status_code == 413
    assert response.json()["errors"] == {"batch": ["Ensure this list has no more than 1000 items (it has 1001)."]}


def test_a_row_prmweb_computed_is_never_overwritten(dataset, manager):
    a = dataset.solutions.get(external_id="gsm8k-a")
    SuggestionFactory(solution=a, method="legacy", engine="vllm", label=0)  # a method since removed
    response = token_client(manager).post(
        _url(dataset), {"solution_id": a.pk, "method": "legacy", "label": -1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "method": [f"Solution {a.pk} has a 'legacy' suggestion that prmweb computed; name yours otherwise."]
    }
    assert Suggestion.objects.get(solution=a, method="legacy").label == 0


def test_only_managers_write_and_delete(dataset, manager):
    body = {"external_id": "gsm8k-a", "method": "team-prm", "label": -1}
    reviewer = _member(dataset, "rita", "reviewer")
    response = token_client(reviewer).post(_url(dataset), body, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "Only the dataset's managers may ingest or delete external suggestions."
    assert (
        token_client(_member(dataset, "ann", "annotator")).post(_url(dataset), body, format="json").status_code == 403
    )
    assert token_client(UserFactory(username="stranger")).post(_url(dataset), body, format="json").status_code == 404
    assert token_client(reviewer).delete(f"{_url(dataset)}?method=team-prm").status_code == 403
    assert not Suggestion.objects.filter(engine=EXTERNAL_ENGINE).exists()


def test_a_manager_deletes_an_external_method_but_never_a_built_in_one(dataset, manager):
    api = token_client(manager)
    for config_key in ("v1", "v2"):
        body = {"external_id": "gsm8k-a", "method": "team-prm", "config_key": config_key, "label": -1}
        assert api.post(_url(dataset), body, format="json").status_code == 201
    assert api.delete(f"{_url(dataset)}?method=team-prm&config_key=v1").json() == {"deleted": 1}
    assert list(Suggestion.objects.filter(method="team-prm").values_list("config_key", flat=True)) == ["v2"]
    response = api.delete(f"{_url(dataset)}?method=judge")
    assert response.status_code == 400
    assert response.json()["errors"] == {"method": ["Name an external method (one whose suggestions you ingested)."]}
    assert Suggestion.objects.filter(method="judge").count() == 11
    assert api.delete(f"{_url(dataset)}?method=team-prm").json() == {"deleted": 1}
    response = api.delete(f"{_url(dataset)}?method=team-prm")
    assert response.status_code == 404
    assert response.json()["message"] == "No external suggestions of method 'team-prm' in this dataset."
    assert api.delete(_url(dataset)).json()["errors"] == {"method": ["This field is required."]}


def test_annotators_never_see_external_suggestions(client, dataset, manager):
    a = dataset.solutions.get(external_id="gsm8k-a")
    token_client(manager).post(_url(dataset), {"solution_id": a.pk, "method": "team-prm", "label": 1}, format="json")
    assert [s.method for s in suggestions_for_workbench(solution_id=a.pk)] == ["judge"]
    detail = token_client(manager).get(reverse("api:solution-detail", args=[dataset.slug, a.pk])).json()
    assert sorted(s["method"] for s in detail["suggestions"]) == ["judge", "team-prm"]  # reviewers and managers do
    client.force_login(manager)
    page = client.get(reverse("annotations:review_solution", args=[a.pk])).content.decode()
    panel = page.split('class="suggestion suggestion-team-prm"')[1].split("</section>")[0]
    assert "<h3>team-prm" in panel and '<p class="verdict">Step 2 is the earliest error' in panel


def test_the_evaluation_api_refuses_an_unknown_aggregate_by_name(dataset, manager):
    api = token_client(manager)
    for url in (
        reverse("api:dataset-evaluation", args=[dataset.slug]),
        reverse("api:dataset-metrics", args=[dataset.slug]),
    ):
        response = api.get(url, {"aggregate": "mean"})
        assert response.status_code == 400
        assert response.json()["errors"] == {"aggregate": ['"mean" is not a valid choice.']}
    body = api.get(reverse("api:dataset-metrics", args=[dataset.slug]), {"aggregate": "product"}).json()
    assert body["evaluation"]["aggregate"] == "product"
    assert [row["method"] for row in body["evaluation"]["methods"]] == ["judge"]
    assert body["evaluation"]["methods"][0]["pooled"]["best_of_n"] == 0.75


def test_the_schema_documents_the_evaluation_and_the_external_suggestions():
    schema = yaml.safe_load(APIClient().get("/api/schema/").content)
    evaluation = schema["paths"]["/api/v1/datasets/{slug}/metrics/evaluation/"]["get"]
    aggregate = next(p for p in evaluation["parameters"] if p["name"] == "aggregate")
    assert sorted(aggregate["schema"]["enum"]) == ["last", "min", "product"]  # spectacular sorts enums
    ref = evaluation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/Evaluation"
    figures = schema["components"]["schemas"]["ResponseFigures"]["properties"]
    assert {
        "best_of_n",
        "majority",
        "pass_at_n",
        "flawed_pick_rate",
        "min_at_last_share",
        "processbench",
        "curve",
    } <= set(figures)
    metrics = schema["paths"]["/api/v1/datasets/{slug}/metrics/"]["get"]
    assert "aggregate" in {p["name"] for p in metrics["parameters"]}
    ingest = schema["paths"]["/api/v1/datasets/{slug}/suggestions/"]
    assert set(ingest) == {"post", "delete"}
    body = schema["components"]["schemas"]["ExternalSuggestionInRequest"]
    assert body["required"] == ["method"]
    assert body["properties"]["step_scores"]["items"] == {
        "type": "number",
        "format": "double",
        "maximum": 1,
        "minimum": 0,
        "nullable": True,
    }
