"""PRM scoring: positive-class probabilities, thresholds, per-solution failures and the input format setting."""

import math

import pytest

from scoring.engines.base import EngineError, StepScores
from scoring.methods.base import MethodConfigError, SolutionTask
from scoring.methods.prm import PRMConfig, positive_probabilities, score
from tests.scoring.methods.fakes import ScriptedScoringEngine


def test_positive_probabilities_are_the_softmax_of_class_one():
    probabilities = positive_probabilities([[0.0, 0.0], [0.0, math.log(3)], [1000.0, -1000.0], [-5.0, 995.0]])

    assert probabilities == pytest.approx([0.5, 0.75, 0.0, 1.0])


def test_positive_probabilities_need_two_classes():
    with pytest.raises(ValueError, match=r"logits_at_separators\[1\]: need at least 2 class logits, got 1"):
        positive_probabilities([[0.1, 0.2], [0.3]])


def tasks() -> list[SolutionTask]:
    return [
        SolutionTask(1, "A", ("s0", "s1", "s2", "s3")),
        SolutionTask(2, "B", ("s0", "s1")),
        SolutionTask(3, "C", ("s0", "s1", "s2")),
    ]


PROBABILITIES = {"A": [0.9, 0.6, 0.3, 0.8], "B": [0.95, 0.7], "C": [0.5, 0.2, 0.1]}


def test_one_batched_call_and_earliest_step_under_threshold():
    engine = ScriptedScoringEngine(PROBABILITIES)

    results = score(tasks(), engine, PRMConfig(threshold=0.5))

    assert len(engine.calls) == 1 and [r.question for r in engine.calls[0]] == ["A", "B", "C"]
    assert [r.label for r in results] == [2, -1, 1]  # C: 0.5 is not below 0.5
    assert results[0].step_scores == (0.9, 0.6, 0.3, 0.8)
    assert results[0].confidence == pytest.approx(0.7)
    assert results[1].confidence == pytest.approx(0.7)
    assert results[0].prompt_tokens == 20 and results[0].details == {"threshold": 0.5, "prompt_format": "chat"}
    assert [r.prompt_format for r in engine.calls[0]] == ["chat", "chat", "chat"]


def test_text_format_is_passed_to_the_engine():
    engine = ScriptedScoringEngine(PROBABILITIES)

    results = score(tasks(), engine, PRMConfig(prompt_format="text"))

    assert [r.prompt_format for r in engine.calls[0]] == ["text", "text", "text"]
    assert results[0].details["prompt_format"] == "text"


def test_an_input_the_engine_cannot_score_fails_that_solution_only():
    class OneTooLong(ScriptedScoringEngine):
        def score_steps(self, requests):
            scores = super().score_steps(requests)
            scores[1] = StepScores(
                (), prompt_tokens=5000, error="prompt is 5000 tokens; the model's context is 4096 tokens"
            )
            return scores

    results = score(tasks(), OneTooLong(PROBABILITIES), PRMConfig())

    assert [r.status for r in results] == ["succeeded", "failed", "succeeded"]
    assert results[1].error == "prompt is 5000 tokens; the model's context is 4096 tokens"
    assert results[1].label is None


@pytest.mark.parametrize(("threshold", "labels"), [(0.25, [-1, -1, 1]), (0.65, [1, -1, 0]), (0.96, [0, 0, 0])])
def test_threshold_moves_the_label(threshold, labels):
    results = score(tasks(), ScriptedScoringEngine(PROBABILITIES), PRMConfig(threshold=threshold))

    assert [r.label for r in results] == labels


def test_score_count_mismatch_fails_that_solution_only():
    engine = ScriptedScoringEngine({"A": [0.9, 0.6], "B": [0.95, 0.7], "C": [0.5, 0.2, 0.1]})

    results = score(tasks(), engine, PRMConfig())

    assert (results[0].status, results[0].error) == ("failed", "PRM returned 2 scores for 4 steps")
    assert [r.status for r in results[1:]] == ["succeeded", "succeeded"]


def test_solution_without_steps_is_skipped():
    engine = ScriptedScoringEngine(PROBABILITIES)

    results = score([SolutionTask(9, "A", ())], engine, PRMConfig())

    assert (results[0].status, results[0].error) == ("skipped", "solution has no steps")
    assert engine.calls == []


def test_engine_returning_wrong_number_of_results_is_an_engine_error():
    class Short(ScriptedScoringEngine):
        def score_steps(self, requests):
            return super().score_steps(requests)[:1]

    with pytest.raises(EngineError, match="1 step scores for 3 requests"):
        score(tasks(), Short(PROBABILITIES), PRMConfig())


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5])
def test_threshold_must_be_a_probability(threshold):
    with pytest.raises(MethodConfigError) as raised:
        PRMConfig(threshold=threshold)

    assert (raised.value.field, raised.value.message) == ("threshold", "must be in (0, 1]")


def test_prompt_format_must_be_chat_or_text():
    with pytest.raises(MethodConfigError) as raised:
        PRMConfig(prompt_format="plain")

    assert (raised.value.field, raised.value.message) == ("prompt_format", "must be 'chat' or 'text', not 'plain'")
