"""`manage.py evaluate_methods`: the evaluation table as text, with the fixture's hand-computed figures."""

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from annotations.services.external_scores import external_scores_ingest_json
from tests.evaluation_fixture import store
from tests.factories import DatasetFactory

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).parents[1] / "fixtures/evaluation/evaluate_methods_last.txt"


def _run(*args):
    out = io.StringIO()
    call_command("evaluate_methods", *args, stdout=out)
    return out.getvalue().splitlines()


def test_the_table_with_an_external_method_under_last():
    dataset = DatasetFactory(slug="samples")
    store(dataset)
    external_scores_ingest_json(
        dataset=dataset,
        payload=[
            {"external_id": "gsm8k-c", "method": "team-orm", "config_key": "v2", "step_scores": [None, None, 0.9]},
            {"external_id": "gsm8k-g", "method": "team-orm", "config_key": "v2", "step_scores": [None, None, 0.4]},
        ],
    )
    lines = _run("--dataset", "samples", "--aggregate", "last")
    # the ORM scores c (wrong answer, .9) and g (right, .4) only: p1 picks c, p2 picks g; p3 and p4 pick their
    # first sample (h right, j wrong). It sends no labels: every F1 item is a miss.
    assert lines == EXPECTED.read_text().splitlines()


def test_an_unknown_dataset_and_aggregate_are_refused():
    with pytest.raises(CommandError) as refused:
        _run("--dataset", "nope")
    assert str(refused.value) == "Dataset 'nope' does not exist."
    with pytest.raises(CommandError, match="argument --aggregate: invalid choice: 'mean'"):
        _run("--dataset", "nope", "--aggregate", "mean")


def test_a_dataset_without_groups_says_so():
    DatasetFactory(slug="empty")
    assert _run("--dataset", "empty") == [
        "Dataset 'empty': 0 problems with 2+ solutions of known final-answer correctness, 0 solutions; "
        "response score: min of step scores.",
        "No method has a finished suggestion on those solutions yet.",
    ]
