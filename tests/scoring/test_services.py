"""Scoring services in the embedded default (no broker: Celery tasks run in-process after the commit)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import FinalLabel, Suggestion
from annotations.services.ingestion import SolutionInput, solutions_ingest
from prmweb.errors import ApplicationError
from scoring.configuration import method_configuration
from scoring.engines.base import TransientEngineError
from scoring.services import (
    SuggestionValues,
    consensus_derive,
    missing_suggestions_sweep,
    solutions_ingested,
    suggestion_upsert,
    suggestions_run,
)
from tests.factories import DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = pytest.mark.django_db

WRONG_SUM = ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]
RIGHT_SUM = ["We add 12 and 30.", "12 + 30 = 42.", "So the answer is \\boxed{42}."]


@pytest.fixture
def ingest(django_capture_on_commit_callbacks):
    """Ingest solutions and run the after-commit hooks, as a committed request would."""

    def run(dataset, *solutions, reference="42"):
        items = [
            SolutionInput(problem="What is 12 + 30?", steps=steps, reference_answer=reference) for steps in solutions
        ]
        with django_capture_on_commit_callbacks(execute=True):
            result = solutions_ingest(dataset=dataset, items=items)
        return [item.solution_id for item in result.items]

    return run


def test_ingestion_makes_arithmetic_suggestions_appear_in_the_embedded_default(ingest):
    dataset = DatasetFactory(scoring_methods=["arithmetic"])

    wrong_id, right_id = ingest(dataset, WRONG_SUM, RIGHT_SUM)

    rows = {row.solution_id: row for row in Suggestion.objects.filter(method="arithmetic")}
    assert set(rows) == {wrong_id, right_id}
    assert (rows[wrong_id].status, rows[wrong_id].label) == ("succeeded", 1)
    assert (rows[right_id].status, rows[right_id].label) == ("succeeded", -1)
    assert rows[wrong_id].config_key == method_configuration("arithmetic").config_key
    assert rows[wrong_id].engine == "cpu"
    assert rows[wrong_id].step_count == 3
    assert rows[wrong_id].seconds >= 0
    assert rows[wrong_id].parameters["config"] == method_configuration("arithmetic").parameters


def test_a_dataset_without_methods_gets_no_suggestions(ingest):
    dataset = DatasetFactory(scoring_methods=[])

    ingest(dataset, WRONG_SUM)

    assert not Suggestion.objects.exists()


def test_unknown_methods_are_skipped_and_the_others_still_run(ingest, caplog):
    dataset = DatasetFactory(scoring_methods=["astrology", "arithmetic"])

    ingest(dataset, WRONG_SUM)

    assert list(Suggestion.objects.values_list("method", flat=True)) == ["arithmetic"]
    assert "astrology: Invalid scoring configuration" in caplog.text


def test_suggestion_upsert_updates_the_one_row_and_validates_scores():
    solution = SolutionFactory()
    key = "k1"
    first = SuggestionValues(
        solution_id=solution.pk, step_count=3, status="succeeded", label=1, step_scores=(1, 0.5, 0)
    )
    second = SuggestionValues(solution_id=solution.pk, step_count=3, status="succeeded", label=-1, confidence=0.9)

    suggestion_upsert(solution=solution, method="judge", config_key=key, values=first)
    row = suggestion_upsert(solution=solution, method="judge", config_key=key, values=second)

    assert Suggestion.objects.filter(solution=solution, method="judge").count() == 1
    assert (row.label, row.confidence) == (-1, 0.9)
    bad = SuggestionValues(
        solution_id=solution.pk, step_count=3, status="succeeded", label=3, step_scores=(1.5, 0.5, None), confidence=2
    )
    with pytest.raises(ApplicationError) as caught:
        suggestion_upsert(solution=solution, method="judge", config_key=key, values=bad)
    assert caught.value.errors == {
        f"{solution.pk}.label": ["must be -1 or a step index from 0 to 2"],
        f"{solution.pk}.step_scores[0]": ["1.5 is outside [0, 1]"],
        f"{solution.pk}.confidence": ["2 is outside [0, 1]"],
    }
    assert Suggestion.objects.get(solution=solution, method="judge").label == -1


def _solutions(reference="1"):
    problem = ProblemFactory(text="What is 12 + 30?", reference_answer=reference)
    return [
        SolutionFactory(dataset=problem.dataset, problem=problem, steps=steps, num_steps=3)
        for steps in (WRONG_SUM, RIGHT_SUM)
    ]


def test_mc_judge_and_prm_run_on_the_tiny_models_and_consensus_follows(tiny_scoring):
    # The tiny policy always answers 1: with reference "1" every rollout is right, but the last step states
    # its own boxed answer (52 or 42), which decides that prefix without rollouts (mc: step 2); the critique
    # boxes 1 (judge: step 1), so mc and judge disagree.
    solutions = _solutions(reference="1")
    ids = [s.pk for s in solutions]

    outcomes = {
        method: suggestions_run(method=method, solution_ids=ids, config_key=method_configuration(method).config_key)
        for method in ("mc", "judge", "prm")
    }

    assert {m: (o.succeeded, o.failed) for m, o in outcomes.items()} == {"mc": (2, 0), "judge": (2, 0), "prm": (2, 0)}
    mc = Suggestion.objects.get(solution=solutions[0], method="mc")
    assert (mc.label, mc.step_scores) == (2, [None, 1.0, 0.0])  # binary search never probed step 0
    assert mc.parameters["details"]["decided_by_prefix"] == [2]
    assert mc.parameters["config"]["prompt_format"] == "chat"
    assert mc.parameters["details"]["prompt_format"] == "chat"
    assert mc.engine == "transformers" and mc.model_name == str(tiny_scoring.causal_lm)
    assert mc.rollouts > 0 and mc.prompt_tokens > 0 and mc.generated_tokens > 0 and mc.seconds > 0
    judge = Suggestion.objects.get(solution=solutions[0], method="judge")
    assert judge.label == 1
    assert "\\boxed{1}" in judge.rationale
    assert judge.rollouts == 1 and judge.generated_tokens > 0
    prm = Suggestion.objects.get(solution=solutions[0], method="prm")
    assert len(prm.step_scores) == 3 and all(0 <= p <= 1 for p in prm.step_scores)
    assert prm.model_name == str(tiny_scoring.token_classifier)
    consensus = Suggestion.objects.get(solution=solutions[0], method="consensus")
    assert (consensus.status, consensus.label) == ("succeeded", None)
    assert consensus.rationale == (
        "No consensus: mc says step 3 (index 2) is the earliest error; "
        "judge says step 2 (index 1) is the earliest error."
    )
    assert consensus.parameters["inputs"] == {"mc": mc.pk, "judge": judge.pk}


def test_rerunning_updates_nothing_without_force_and_everything_with_it(tiny_scoring):
    solutions = _solutions(reference="7")
    ids = [s.pk for s in solutions]
    key = method_configuration("mc").config_key

    suggestions_run(method="mc", solution_ids=ids, config_key=key)
    before = {row.pk: row.updated_at for row in Suggestion.objects.filter(method="mc")}
    again = suggestions_run(method="mc", solution_ids=ids, config_key=key)
    forced = suggestions_run(method="mc", solution_ids=ids, config_key=key, force=True)

    assert (again.succeeded, again.failed, again.skipped) == (0, 0, 0)
    assert forced.succeeded == 2
    rows = Suggestion.objects.filter(method="mc")
    assert rows.count() == 2
    assert all(row.updated_at > before[row.pk] for row in rows)
    assert {row.label for row in rows} == {0}  # every rollout answers 1, the reference is 7: step 0 fails


def test_mc_without_a_reference_answer_is_skipped_with_the_reason(tiny_scoring):
    solution = _solutions(reference="")[0]

    outcome = suggestions_run(method="mc", solution_ids=[solution.pk], config_key="k")

    row = Suggestion.objects.get(solution=solution, method="mc")
    assert (outcome.skipped, row.status, row.error, row.label) == (1, "skipped", "no reference answer", None)


def test_a_permanent_engine_error_is_stored_as_failed(settings):
    settings.SCORING_ENGINES = {**settings.SCORING_ENGINES, "judge": {"ENGINE": "transformers", "MODEL": ""}}
    solution = SolutionFactory()

    outcome = suggestions_run(method="judge", solution_ids=[solution.pk], config_key="k")

    row = Suggestion.objects.get(solution=solution, method="judge")
    assert (outcome.failed, row.status) == (1, "failed")
    assert row.error.startswith("EngineError: SCORING_JUDGE_MODEL is not set")


def test_a_transient_engine_error_puts_rows_back_to_queued_and_propagates(monkeypatch):
    def unavailable(method, config, tasks):
        raise TransientEngineError("HTTP 503 from http://judge:8000/v1/completions")

    monkeypatch.setattr("scoring.services.runner._run_method", unavailable)
    solution = SolutionFactory()

    with pytest.raises(TransientEngineError):
        suggestions_run(method="judge", solution_ids=[solution.pk], config_key="k")

    row = Suggestion.objects.get(solution=solution, method="judge")
    assert row.status == "queued"
    # the stored (user-visible) text hides the model server's address
    assert row.error == "retrying after a transient engine error: HTTP 503 from [address hidden]"


def test_an_invalid_method_result_is_stored_as_failed_not_half_written(monkeypatch):
    from scoring.methods.base import MethodResult
    from scoring.services.runner import CPU_ENGINE

    def out_of_range(method, config, tasks):
        return [MethodResult(solution_id=tasks[0].solution_id, status="succeeded", label=9)], CPU_ENGINE

    monkeypatch.setattr("scoring.services.runner._run_method", out_of_range)
    solution = SolutionFactory()

    suggestions_run(method="arithmetic", solution_ids=[solution.pk], config_key="k")

    row = Suggestion.objects.get(solution=solution, method="arithmetic")
    assert row.status == "failed"
    assert row.error == "the method returned an invalid result: label must be -1 or a step index from 0 to 2"


def test_agreeing_mc_and_judge_give_a_consensus_label_and_triage_auto_accepts():
    dataset = DatasetFactory(triage_mode="disagreement_only", audit_rate=0.0)
    solution = SolutionFactory(dataset=dataset)
    for method in ("mc", "judge"):
        values = SuggestionValues(solution_id=solution.pk, step_count=3, status="succeeded", label=1)
        suggestion_upsert(solution=solution, method=method, config_key="k", values=values)

    assert consensus_derive(solution_ids=[solution.pk]) == [solution.pk]

    consensus = Suggestion.objects.get(solution=solution, method="consensus")
    assert (consensus.status, consensus.label) == ("succeeded", 1)
    assert FinalLabel.objects.get(solution=solution).source == "consensus_auto"


def test_the_sweep_enqueues_missing_and_stuck_suggestions_but_not_fresh_or_finished_ones():
    dataset = DatasetFactory(scoring_methods=["arithmetic"])
    missing, stuck, fresh, done = (
        SolutionFactory(dataset=dataset, steps=[f"Solution {index}.", *WRONG_SUM[1:]], num_steps=3)
        for index in range(4)
    )
    key = method_configuration("arithmetic").config_key
    for solution, status in ((stuck, "running"), (fresh, "queued"), (done, "succeeded")):
        values = SuggestionValues(solution_id=solution.pk, step_count=3, status=status, label=-1)
        suggestion_upsert(solution=solution, method="arithmetic", config_key=key, values=values)
    Suggestion.objects.filter(solution=stuck).update(updated_at=timezone.now() - timedelta(days=1))

    counts = missing_suggestions_sweep()

    assert counts == {"arithmetic": 2}
    rows = {row.solution_id: row for row in Suggestion.objects.filter(method="arithmetic")}
    assert (rows[missing.pk].status, rows[missing.pk].label) == ("succeeded", 1)
    assert (rows[stuck.pk].status, rows[stuck.pk].label) == ("succeeded", 1)
    assert (rows[fresh.pk].status, rows[done.pk].label) == ("queued", -1)
    assert missing_suggestions_sweep() == {}


def test_the_hook_ignores_an_unknown_dataset():
    assert solutions_ingested(dataset_id=987654, solution_ids=[1, 2]) == {}
