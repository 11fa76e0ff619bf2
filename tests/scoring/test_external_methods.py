"""External suggestions and the scoring side: nothing ever runs an external method or touches its rows."""

import pytest

from annotations.models import EXTERNAL_ENGINE, Suggestion
from annotations.services.datasets import dataset_update
from annotations.services.external_scores import external_scores_ingest_json
from prmweb.errors import ApplicationError
from scoring.services import missing_suggestions_sweep
from scoring.services.runs import scoring_run_create
from tests.factories import DatasetFactory, SolutionFactory

pytestmark = pytest.mark.django_db

WRONG_SUM = ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]


def test_the_sweep_runs_the_configured_methods_and_leaves_external_suggestions_alone():
    dataset = DatasetFactory(scoring_methods=["arithmetic"])
    solutions = [SolutionFactory(dataset=dataset, steps=[f"Solution {i}.", *WRONG_SUM[1:]]) for i in range(2)]
    payload = [{"solution_id": s.pk, "method": "team-prm", "step_scores": [0.9, 0.2, 0.1]} for s in solutions]
    external_scores_ingest_json(dataset=dataset, payload=payload)
    before = {row.pk: (row.status, row.updated_at) for row in Suggestion.objects.filter(engine=EXTERNAL_ENGINE)}

    assert missing_suggestions_sweep() == {"arithmetic": 2}
    assert missing_suggestions_sweep() == {}

    after = {row.pk: (row.status, row.updated_at) for row in Suggestion.objects.filter(engine=EXTERNAL_ENGINE)}
    assert after == before and len(after) == 2
    assert sorted(Suggestion.objects.values_list("method", flat=True)) == ["arithmetic"] * 2 + ["team-prm"] * 2


def test_a_dataset_cannot_configure_an_external_method_and_no_run_starts_one():
    dataset = DatasetFactory()
    with pytest.raises(ApplicationError) as refused:
        dataset_update(dataset=dataset, scoring_methods=["team-prm"])
    assert list(refused.value.errors) == ["scoring_methods"]
    with pytest.raises(ApplicationError) as refused:
        scoring_run_create(dataset=dataset, method="team-prm")
    assert list(refused.value.errors) == ["method"]
