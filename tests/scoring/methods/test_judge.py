"""LLM judge: the ProcessBench prompt, run_eval.py's voting, the parseable-majority rule, failures."""

from pathlib import Path

import pytest

from scoring.engines.base import ChatMessage, ChatPrompt, Generation, SamplingParams
from scoring.methods.base import MethodConfigError, SolutionTask
from scoring.methods.judge import (
    JudgeConfig,
    Voting,
    build_prompt,
    critique_text,
    judge,
    parse_verdict,
    run_eval_answer,
)
from tests.scoring.methods.fakes import ScriptedGenerationEngine

TASK = SolutionTask(
    solution_id=7,
    question="What is {x} if x = 2 + 2?",
    steps=("x = 2 + 2", "So x = 5.", "The answer is \\boxed{5}."),
)


def critiques(*texts: str) -> ScriptedGenerationEngine:
    """Return an engine answering every prompt with the given texts, in order of draw."""
    return ScriptedGenerationEngine(lambda prompt, draw: texts[draw % len(texts)])


def sampling(samples: int, voting: Voting = "parseable_majority") -> JudgeConfig:
    return JudgeConfig(samples=samples, sampling=SamplingParams(max_tokens=512, temperature=0.7), voting=voting)


def test_prompt_is_one_user_message_with_the_generation_prompt_added():
    text = critique_text(TASK, JudgeConfig().load_template())

    assert build_prompt(TASK, JudgeConfig().load_template()) == ChatPrompt(
        (ChatMessage("user", text),), add_generation_prompt=True, continue_final_message=False
    )
    assert build_prompt(TASK, JudgeConfig().load_template(), "text") == text
    assert text.startswith(
        "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0)"
    )
    assert "[Math Problem]\n\nWhat is {x} if x = 2 + 2?\n\n[Solution]\n\n" in text
    assert (
        "<paragraph_0>\nx = 2 + 2\n</paragraph_0>\n\n<paragraph_1>\nSo x = 5.\n</paragraph_1>\n\n"
        "<paragraph_2>\nThe answer is \\boxed{5}.\n</paragraph_2>\n\nYour task"
    ) in text
    assert text.endswith("Please put your final answer (i.e., the index) in \\boxed{}.")


def test_default_budget_is_processbench_8192_tokens_with_top_k_off():
    assert JudgeConfig().sampling == SamplingParams(n=1, max_tokens=8192, temperature=0.0, top_k=None)
    assert JudgeConfig().voting == "processbench"


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
    assert result.details["voting"] == "processbench"
    assert result.details["answers"] == ["1"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so \\boxed{1}", "1"),
        ("first \\boxed{0} then \\boxed{ 2 }", "2"),
        ("\\boxed{\\text{1}}", "\\text{1"),  # no nested braces in run_eval.py's regular expression
        ("\\boxed{}", ""),
        ("no box", None),
    ],
)
def test_run_eval_answer_is_the_last_boxed_without_nested_braces(text, expected):
    assert run_eval_answer(text) == expected


def test_processbench_voting_is_the_most_common_extracted_answer():
    engine = critiques("a \\boxed{1}", "no box at all", "b \\boxed{-1}", "c \\boxed{1}")

    [result] = judge([TASK], engine, sampling(4, "processbench"))

    assert result.label == 1
    assert result.confidence == pytest.approx(2 / 3)  # 2 of the 3 extracted answers
    assert result.details["answers"] == ["1", None, "-1", "1"]
    assert result.details["votes"] == {"1": 2, "-1": 1}
    assert result.details["winner"] == "1"
    assert result.rationale == "a \\boxed{1}"


def test_processbench_voting_breaks_ties_by_first_seen_answer():
    [result] = judge([TASK], critiques("x \\boxed{2}", "y \\boxed{1}"), sampling(2, "processbench"))

    assert result.label == 2  # Counter.most_common keeps first-seen order; the parseable rule would say 1


def test_processbench_voting_with_a_non_integer_winner_gives_no_label():
    engine = critiques("\\boxed{2.5}", "\\boxed{1}", "\\boxed{2.5}")

    [result] = judge([TASK], engine, sampling(3, "processbench"))

    assert result.status == "failed"
    assert result.label is None
    assert result.error == "the majority answer '2.5' is not a step index between -1 and 2"
    assert result.details["critiques"] == ["\\boxed{2.5}", "\\boxed{1}", "\\boxed{2.5}"]


def test_processbench_voting_with_an_out_of_range_winner_gives_no_label():
    [result] = judge([TASK], critiques("\\boxed{3}"), JudgeConfig())

    assert (result.status, result.error) == ("failed", "the majority answer '3' is not a step index between -1 and 2")


def test_processbench_voting_without_any_boxed_answer_is_unparseable():
    [result] = judge([TASK], critiques("I cannot tell."), JudgeConfig())

    assert (result.status, result.error) == ("failed", "unparseable critique")


def test_a_prompt_the_engine_cannot_serve_fails_that_solution_only():
    other = SolutionTask(solution_id=8, question="q", steps=("only step",))

    class TooLong(ScriptedGenerationEngine):
        def generate(self, prompts, params):
            generations = super().generate(prompts, params)
            generations[0] = Generation.failed("prompt is 40000 tokens; the model's context is 32768 tokens", 40000)
            return generations

    results = judge([TASK, other], TooLong(lambda p, d: "\\boxed{-1}"), JudgeConfig())

    assert [(r.status, r.error) for r in results] == [
        ("failed", "prompt is 40000 tokens; the model's context is 32768 tokens"),
        ("succeeded", ""),
    ]
    assert results[0].label is None
    assert (results[0].prompt_tokens, results[1].prompt_tokens) == (0, 10)  # the failed prompt was never served


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


def test_custom_template_file_is_a_str_format_template(tmp_path: Path):
    template = tmp_path / "judge.txt"
    template.write_text("\nProblem: {problem}\n{tagged_response}\nAnswer in \\boxed{{}}.\n\n")
    engine = critiques("\\boxed{0}")

    judge([TASK], engine, JudgeConfig(template_path=str(template), prompt_format="text"))

    assert engine.calls[0][0][0] == (
        "Problem: What is {x} if x = 2 + 2?\n<paragraph_0>\nx = 2 + 2\n</paragraph_0>\n\n<paragraph_1>\nSo x = 5.\n"
        "</paragraph_1>\n\n<paragraph_2>\nThe answer is \\boxed{5}.\n</paragraph_2>\nAnswer in \\boxed{}."
    )


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"samples": 0}, "samples", "must be at least 1"),
        ({"samples": 3}, "sampling.temperature", "must be above 0 when voting over several samples"),
        ({"template_path": "/nonexistent/judge.txt"}, "template_path", "no such file: /nonexistent/judge.txt"),
        ({"voting": "mean"}, "voting", "must be one of processbench, parseable_majority, not 'mean'"),
        ({"prompt_format": "raw"}, "prompt_format", "must be 'chat' or 'text', not 'raw'"),
    ],
)
def test_bad_configuration_names_the_field(kwargs, field, message):
    with pytest.raises(MethodConfigError) as raised:
        JudgeConfig(**kwargs)

    assert (raised.value.field, raised.value.message) == (field, message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Critique: {problem}", "fields must be {problem} and {tagged_response}, found {problem}"),
        (
            "{problem} {tagged_response} \\boxed{}",
            "fields must be {problem} and {tagged_response}, found {}, {problem}, {tagged_response}",
        ),
        (
            "{problem} {tagged_response} {",
            "not a str.format template (Single '{' encountered in format string); write literal braces as {{ and }}",
        ),
    ],
)
def test_template_with_other_fields_is_refused(tmp_path: Path, text, message):
    template = tmp_path / "bad.txt"
    template.write_text(text)

    with pytest.raises(MethodConfigError) as raised:
        judge([TASK], critiques("\\boxed{0}"), JudgeConfig(template_path=str(template)))

    assert (raised.value.field, raised.value.message) == ("template_path", message)
