"""The evaluation table from the database: the fixture's hand-computed figures, and a constant query count."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import EXTERNAL_ENGINE
from annotations.selectors.evaluation import dataset_evaluation
from prmweb.core.evaluation_report import evaluate_method
from tests.evaluation_fixture import pure_groups, pure_judgements, store
from tests.factories import DatasetFactory, FinalLabelFactory, ProblemFactory, SolutionFactory, SuggestionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    dataset = DatasetFactory(slug="samples")
    store(dataset)
    return dataset


def _rows(evaluation):
    return {(row.method, row.config_key): row for row in evaluation.methods}


@pytest.mark.parametrize("aggregate", ["min", "product", "last"])
def test_the_database_path_gives_the_hand_computed_figures(dataset, aggregate):
    evaluation = dataset_evaluation(dataset=dataset, aggregate=aggregate)
    assert (evaluation.aggregate, evaluation.groups, evaluation.solutions) == (aggregate, 4, 11)
    groups, ids = pure_groups()
    rows = _rows(evaluation)
    assert sorted(rows) == [("judge", "default"), ("prm", "default")]
    for method in ("prm", "judge"):
        stored = rows[(method, "default")].evaluation
        expected = evaluate_method(groups, pure_judgements(method, ids, aggregate))
        # same numbers; the ids differ (the database's), so compare the figures, not the rows
        assert stored.pooled == expected.pooled
        assert stored.subsets == expected.subsets
        assert stored.mean_f1 == expected.mean_f1


def test_hand_computed_figures_through_the_selector(dataset):
    rows = _rows(dataset_evaluation(dataset=dataset, aggregate="last"))
    prm = rows[("prm", "default")]
    assert (prm.model_name, prm.external) == ("prm-model", False)
    gsm8k = prm.evaluation.subsets["gsm8k"]
    assert (gsm8k.best_of_n, gsm8k.majority, gsm8k.pass_at_n) == (0.5, 0.5, 1.0)
    assert (gsm8k.flawed_picks, gsm8k.picks_labelled, gsm8k.min_at_last, gsm8k.min_scored) == (1, 2, 2, 7)
    assert prm.evaluation.mean_f1 == pytest.approx(4 / 9)
    judge = rows[("judge", "default")].evaluation
    assert (judge.pooled.best_of_n, judge.pooled.coverage) == (0.75, pytest.approx(10 / 11))


def test_external_methods_come_after_built_in_ones_and_are_marked(dataset):
    b = dataset.solutions.get(external_id="gsm8k-b")
    SuggestionFactory(solution=b, method="my-orm", config_key="v2", engine=EXTERNAL_ENGINE, label=None,
                      step_scores=[None, None, 0.9])  # fmt: skip
    rows = dataset_evaluation(dataset=dataset).methods
    assert [(row.method, row.config_key, row.external) for row in rows] == [
        ("judge", "default", False),
        ("prm", "default", False),
        ("my-orm", "v2", True),
    ]
    orm = rows[2].evaluation.pooled
    # only b is scored: p1 picks b (right, flawed: step 2 wrong); the other groups pick their first sample
    assert (orm.scored, orm.labelled, orm.picks_labelled, orm.flawed_picks) == (1, 0, 4, 1)
    assert orm.processbench.f1 == 0.0  # no label: every item a miss


def test_failed_and_queued_suggestions_score_nothing_and_methods_without_grouped_work_are_absent():
    dataset = DatasetFactory()
    problem = ProblemFactory(dataset=dataset)
    first, second = (SolutionFactory(dataset=dataset, problem=problem, answer_check=check) for check in (False, True))
    FinalLabelFactory(solution=first, label=0)
    SuggestionFactory(solution=first, method="prm", status="failed", label=0, step_scores=[1.0, 1.0, 1.0])
    SuggestionFactory(solution=second, method="prm", status="queued", label=None)
    SuggestionFactory(solution=SolutionFactory(dataset=dataset, answer_check=True), method="mc", label=-1)
    (prm,) = dataset_evaluation(dataset=dataset).methods
    assert prm.method == "prm"
    figures = prm.evaluation.pooled
    # the failed row keeps an old label and scores, but counts as neither: both unscored, the first id picked
    assert (figures.scored, figures.labelled, figures.best_of_n, figures.processbench.acc_error) == (0, 0, 0.0, 0.0)


def test_no_groups_means_no_methods():
    dataset = DatasetFactory()
    solution = SolutionFactory(dataset=dataset, answer_check=True)
    SuggestionFactory(solution=solution, method="prm", label=-1)
    evaluation = dataset_evaluation(dataset=dataset)
    assert (evaluation.groups, evaluation.solutions, evaluation.methods) == (0, 0, [])


def test_two_queries_whatever_the_dataset_size(dataset):
    with CaptureQueriesContext(connection) as small:
        dataset_evaluation(dataset=dataset)
    for index in range(20):
        problem = ProblemFactory(dataset=dataset)
        for check in (True, False, index % 2 == 0):
            solution = SolutionFactory(dataset=dataset, problem=problem, subset=f"s{index % 3}", answer_check=check)
            FinalLabelFactory(solution=solution, label=-1 if check else 1)
            SuggestionFactory(solution=solution, method="prm", label=-1, step_scores=[0.5, 0.6, 0.7])
            SuggestionFactory(solution=solution, method=f"ext-{index % 4}", engine=EXTERNAL_ENGINE, label=None,
                              step_scores=[0.2, 0.3, 0.1])  # fmt: skip
    with CaptureQueriesContext(connection) as large:
        evaluation = dataset_evaluation(dataset=dataset)
    assert len(small.captured_queries) == len(large.captured_queries) == 2
    assert (evaluation.groups, len(evaluation.methods)) == (24, 6)
