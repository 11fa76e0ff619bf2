"""`manage.py score_solutions` and `manage.py sweep_suggestions`."""

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from annotations.models import Suggestion
from scoring.models import ScoringRun
from tests.factories import DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = pytest.mark.django_db

WRONG = ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]


@pytest.fixture
def sums():
    problem = ProblemFactory(dataset=DatasetFactory(slug="sums"), text="What is 12 + 30?", reference_answer="42")
    for index in range(3):
        steps = [f"We add 12 and 30 (solution {index}).", *WRONG[1:]]
        SolutionFactory(dataset=problem.dataset, problem=problem, steps=steps, num_steps=3)
    return problem.dataset


def _call(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_score_solutions_runs_in_process_and_records_a_run(sums):
    output = _call("score_solutions", "--dataset", "sums", "--method", "arithmetic")

    run = ScoringRun.objects.get()
    assert output.splitlines()[0] == f"Scoring run {run.pk}: arithmetic on 3 solutions of sums."
    assert re.match(
        rf"Scoring run {run.pk} succeeded: 3 succeeded, 0 failed, 0 skipped; cost 0 rollouts, 0 prompt tokens, "
        r"0 generated tokens, \d+\.\d s\.$",
        output.splitlines()[1],
    )
    assert (run.status, run.total, run.succeeded) == ("succeeded", 3, 3)
    assert set(Suggestion.objects.values_list("label", flat=True)) == {1}


def test_score_solutions_with_a_model_method_limit_and_force(sums, tiny_scoring):
    _call("score_solutions", "--dataset", "sums", "--method", "mc", "--limit", "2")
    output = _call("score_solutions", "--dataset", "sums", "--method", "mc", "--limit", "2", "--force")

    first, second = ScoringRun.objects.order_by("pk")
    assert (first.total, first.succeeded, second.total, second.succeeded) == (2, 2, 2, 2)
    assert first.rollouts > 0 and first.generated_tokens > 0 and first.prompt_tokens > 0 and first.seconds > 0
    assert f"cost {second.rollouts} rollouts" in output
    assert Suggestion.objects.filter(method="mc").count() == 2
    assert set(Suggestion.objects.filter(method="mc").values_list("label", flat=True)) == {0}  # answers 1, not 42


def test_score_solutions_enqueue_follows_the_run(sums):
    output = _call("score_solutions", "--dataset", "sums", "--method", "arithmetic", "--enqueue")

    assert "succeeded: 3 succeeded" in output
    assert ScoringRun.objects.get().status == "succeeded"


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dataset", "nope", "--method", "mc"], "No dataset with slug 'nope'."),
        (["--dataset", "sums", "--method", "astrology"], "Invalid scoring configuration: method: unknown method"),
        (["--dataset", "sums", "--method", "consensus"], "'consensus' is derived from mc and judge suggestions"),
        (["--dataset", "sums", "--method", "mc", "--limit", "0"], "Invalid limit. (limit: Must be between 1 and"),
    ],
)
def test_score_solutions_rejects_bad_arguments_with_a_message(sums, args, message):
    with pytest.raises(CommandError) as caught:
        _call("score_solutions", *args)
    assert message in str(caught.value)


def test_an_unknown_method_is_named_once_with_the_choices(sums):
    with pytest.raises(CommandError) as caught:
        _call("score_solutions", "--dataset", "sums", "--method", "astrology")
    assert str(caught.value) == (
        "Invalid scoring configuration: method: unknown method 'astrology'; "
        "choose one of mc, judge, prm, arithmetic, consensus"
    )


def test_score_solutions_reports_a_stopped_run(sums, settings):
    settings.SCORING_ENGINES = {**settings.SCORING_ENGINES, "judge": {"ENGINE": "openai", "MODEL": "j", "BASE_URL": ""}}

    output = StringIO()
    with pytest.raises(CommandError, match="failed"):
        call_command("score_solutions", "--dataset", "sums", "--method", "judge", stdout=output, stderr=StringIO())

    run = ScoringRun.objects.get()
    assert (run.status, run.failed) == ("failed", 3)
    assert "SCORING_JUDGE_URL (or SCORING_OPENAI_BASE_URL) is required" in run.errors


def test_sweep_suggestions_enqueues_what_is_missing(sums):
    sums.scoring_methods = ["arithmetic"]
    sums.save()

    assert _call("sweep_suggestions") == "arithmetic: 3 solutions enqueued\n"
    assert _call("sweep_suggestions") == "No missing suggestions, reformats or answer checks.\n"
    assert Suggestion.objects.filter(method="arithmetic", status="succeeded").count() == 3
