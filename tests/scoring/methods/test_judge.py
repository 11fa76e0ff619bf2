"""LLM judge: the ProcessBench prompt, verdict parsing, majority voting, ties and unparseable critiques."""

from pathlib import Path

import pytest

from scoring.engines.base import SamplingParams
from scoring.methods.base import MethodConfigError, SolutionTask
from scoring.methods.judge import DEFAULT_TEMPLATE_PATH, JudgeConfig, build_prompt, judge, parse_verdict
from tests.scoring.methods.fakes import ScriptedGenerationEngine

TASK = SolutionTask(
    solution_id=7,
    question="What is {x} if x = 2 + 2?",
    steps=("x = 2 + 2", "So x = 5.", "The answer is \\boxed{5}."),
)


def critiques(*texts: str) -> ScriptedGenerationEngine:
    """Return an engine answering every prompt with the given texts, in order of draw."""
    return ScriptedGenerationEngine(lambda prompt, draw: texts[draw % len(texts)])


def sampling(samples: int) -> JudgeConfig:
    return JudgeConfig(samples=samples, sampling=SamplingParams(max_tokens=512, temperature=0.7))


def test_prompt_is_processbench_critique_with_paragraphs_indexed_from_zero():
    prompt = build_prompt(TASK, DEFAULT_TEMPLATE_PATH.read_text())

    assert prompt.startswith(
        "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0)"
    )
    assert "[Math Problem]\n\nWhat is {x} if x = 2 + 2?\n\n[Solution]\n\n" in prompt
    assert (
        "<paragraph_0>\nx = 2 + 2\n</paragraph_0>\n\n<paragraph_1>\nSo x = 5.\n</paragraph_1>\n\n"
        "<paragraph_2>\nThe answer is \\boxed{5}.\n</paragraph_2>"
    ) in prompt
    assert prompt.rstrip().endswith("Please put your final answer (i.e., the index) in \\boxed{}.")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The error is in paragraph 1. \\boxed{1}", 1),
        ("All fine. \\boxed{-1}", -1),
        ("First \\boxed{0}, on reflection \\boxed{2}", 2),
        ("$\\boxed{ 2 }$", 2),
        ("\\boxed{$1$}", 1),
        ("\\boxed{3}", None),  # only 3 steps: 0..2
        ("\\boxed{-2}", None),
        ("\\boxed{1.5}", None),
        ("\\boxed{paragraph 1}", None),
        ("The earliest error is paragraph 1.", None),
        ("", None),
    ],
)
def test_parse_verdict_takes_last_boxed_integer_and_never_guesses(text, expected):
    assert parse_verdict(text, num_steps=3) == expected


def test_single_sample_verdict_with_critique_as_rationale():
    engine = critiques("Paragraph 1 says 2 + 2 = 5, which is wrong. \\boxed{1}")

    [result] = judge([TASK], engine, JudgeConfig())

    assert result.status == "succeeded"
    assert result.label == 1
    assert result.confidence == 1.0
    assert result.rationale == "Paragraph 1 says 2 + 2 = 5, which is wrong. \\boxed{1}"
    assert result.step_scores == (1.0, 0.0, 0.0)
    assert result.rollouts == 1 and result.prompt_tokens == 10 and result.generated_tokens == 3


def test_one_batched_call_with_n_samples_and_majority_vote():
    engine = critiques("a \\boxed{1}", "b \\boxed{-1}", "c \\boxed{1}", "d \\boxed{0}", "e \\boxed{1}")
    other = SolutionTask(solution_id=8, question="q", steps=("only step",))

    results = judge([TASK, other], engine, sampling(5))

    assert len(engine.calls) == 1
    prompts, params = engine.calls[0]
    assert len(prompts) == 2 and params.n == 5 and params.max_tokens == 512
    first = results[0]
    assert first.label == 1
    assert first.confidence == pytest.approx(3 / 5)
    assert first.rationale == "a \\boxed{1}"
    assert first.details["votes"] == {"-1": 1, "0": 1, "1": 3}
    assert first.details["tie"] is False
    assert first.step_scores == (pytest.approx(4 / 5), pytest.approx(1 / 5), pytest.approx(1 / 5))
    # the second solution has one step: \boxed{1} is out of range there, so only -1 and 0 count
    assert results[1].label == 0
    assert results[1].details["verdicts"] == [None, -1, None, 0, None]


def test_tie_between_steps_goes_to_the_earliest_step():
    engine = critiques("x \\boxed{2}", "y \\boxed{1}")

    [result] = judge([TASK], engine, sampling(2))

    assert result.label == 1
    assert result.rationale == "y \\boxed{1}"
    assert result.confidence == 0.5
    assert result.details["tie"] is True
    assert result.details["tied_labels"] == [1, 2]


def test_tie_between_a_step_and_all_correct_goes_to_the_step():
    engine = critiques("fine \\boxed{-1}", "wrong \\boxed{2}")

    [result] = judge([TASK], engine, sampling(2))

    assert result.label == 2
    assert result.details["tied_labels"] == [2, -1]


def test_unparseable_samples_do_not_vote():
    engine = critiques("I am not sure.", "\\boxed{7}", "so \\boxed{-1}")

    [result] = judge([TASK], engine, sampling(3))

    assert result.label == -1
    assert result.confidence == 1.0
    assert result.details["parseable"] == 1
    assert result.details["verdicts"] == [None, None, -1]


def test_all_unparseable_fails_and_keeps_the_raw_critiques():
    engine = critiques("The second paragraph is wrong.", "\\boxed{two}")

    [result] = judge([TASK], engine, sampling(2))

    assert result.status == "failed"
    assert result.error == "unparseable critique"
    assert result.label is None
    assert result.rationale == "The second paragraph is wrong."
    assert result.details["critiques"] == ["The second paragraph is wrong.", "\\boxed{two}"]
    assert result.rollouts == 2


def test_solution_without_steps_is_skipped_and_not_sent():
    engine = critiques("\\boxed{-1}")

    results = judge([SolutionTask(1, "q", ()), TASK], engine, JudgeConfig())

    assert (results[0].status, results[0].error) == ("skipped", "solution has no steps")
    assert len(engine.calls[0][0]) == 1


def test_custom_template_file(tmp_path: Path):
    template = tmp_path / "judge.txt"
    template.write_text("Problem: {problem}\n{tagged_response}\nAnswer in \\boxed{}.")
    engine = critiques("\\boxed{0}")

    judge([TASK], engine, JudgeConfig(template_path=str(template)))

    assert engine.calls[0][0][0].startswith("Problem: What is {x} if x = 2 + 2?\n<paragraph_0>\nx = 2 + 2\n")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"samples": 0}, "samples", "must be at least 1"),
        ({"samples": 3}, "sampling.temperature", "must be above 0 when voting over several samples"),
        ({"template_path": "/nonexistent/judge.txt"}, "template_path", "no such file: /nonexistent/judge.txt"),
    ],
)
def test_bad_configuration_names_the_field(kwargs, field, message):
    with pytest.raises(MethodConfigError) as raised:
        JudgeConfig(**kwargs)

    assert (raised.value.field, raised.value.message) == (field, message)


def test_template_without_placeholders_is_refused(tmp_path: Path):
    template = tmp_path / "bad.txt"
    template.write_text("Critique: {problem}")

    with pytest.raises(MethodConfigError, match=r"template must contain \{tagged_response\}"):
        judge([TASK], critiques("\\boxed{0}"), JudgeConfig(template_path=str(template)))
