"""MC estimation on scripted policies: scores, labels, early stop, binary search, batching and cost."""

import math

import pytest

from scoring.engines.base import ChatMessage, ChatPrompt, EngineError, Generation, SamplingParams
from scoring.methods.base import MethodConfigError, SolutionTask
from scoring.methods.mc import DEFAULT_MC_STOP, MCConfig, build_prompt, estimate
from tests.scoring.methods.fakes import RIGHT, WRONG, ScriptedGenerationEngine, mc_policy, prompt_text

ALL = set(range(64))  # every draw right, confirmation rounds included
NONE: set[int] = set()


def task(question: str, steps: int, solution_id: int = 1, reference: str | None = "42") -> SolutionTask:
    return SolutionTask(
        solution_id=solution_id,
        question=f"[{question}] What is six times seven?",
        steps=tuple(f"step-{i}: some work" for i in range(steps)),
        reference_answer=reference,
    )


def monotone(steps: int, first_zero: int) -> list[set[int]]:
    """Every prefix before `first_zero` has all rollouts correct; from it on none (-1: never zero)."""
    return [ALL if first_zero == -1 or i < first_zero else NONE for i in range(steps)]


def test_linear_soft_scores_every_prefix_in_one_call():
    draws = [{0, 1, 2, 3, 4, 5}, {0, 1}, NONE, {3}]
    engine = ScriptedGenerationEngine(mc_policy({"Q1": draws}))

    [result] = estimate([task("Q1", 4)], engine, MCConfig(strategy="linear"))

    assert len(engine.calls) == 1
    prompts, params = engine.calls[0]
    assert len(prompts) == 4 and params.n == 8
    assert result.status == "succeeded"
    assert result.step_scores == (0.75, 0.25, 0.0, 0.125)
    assert result.label == 2
    assert result.rollouts == 32
    assert result.prompt_tokens == 40 and result.generated_tokens == 4 * 3 * 8
    assert result.details["step_rollouts"] == [8, 8, 8, 8]
    assert result.details["step_correct"] == [6, 2, 0, 1]


def test_linear_all_prefixes_reachable_is_all_correct():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": monotone(3, -1)}))

    [result] = estimate([task("Q1", 3)], engine, MCConfig(strategy="linear"))

    assert result.label == -1
    assert result.step_scores == (1.0, 1.0, 1.0)


def test_linear_hard_label_stops_each_prefix_at_first_correct_rollout_and_at_first_zero():
    # chunks of 2 (N=8): prefix 0 correct on draw 0, prefix 1 first correct on draw 5, prefix 2 never
    draws = [{0}, {5}, NONE, ALL, ALL]
    engine = ScriptedGenerationEngine(mc_policy({"Q1": draws}))
    config = MCConfig(strategy="linear", hard_label_only=True, early_stop=True)

    [result] = estimate([task("Q1", 5)], engine, config)

    assert result.label == 2
    assert result.details["step_rollouts"] == [2, 6, 8, 0, 0]
    assert result.rollouts == 16
    assert [params.n for _, params in engine.calls] == [2] * 8  # 1 + 3 + 4 rounds of n=2
    assert result.step_scores == (0.5, pytest.approx(1 / 6), 0.0, None, None)
    assert result.details["early_stop"] is True


def test_hard_label_without_early_stop_draws_all_rollouts_per_prefix():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": [{0}, {5}, NONE, ALL]}))
    config = MCConfig(strategy="linear", hard_label_only=True, early_stop=False)

    [result] = estimate([task("Q1", 4)], engine, config)

    assert result.label == 2
    assert result.rollouts == 24
    assert [params.n for _, params in engine.calls] == [8, 8, 8]


def test_early_stop_only_applies_when_hard_label_is_wanted():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": [{0}, NONE]}))

    [result] = estimate([task("Q1", 2)], engine, MCConfig(strategy="linear", early_stop=True))

    assert result.rollouts == 16
    assert result.details["early_stop"] is False


def test_binary_search_finds_first_zero_with_few_rollouts():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": monotone(8, 5)}))

    [result] = estimate([task("Q1", 8)], engine, MCConfig(strategy="binary", confirm=False))

    assert result.label == 5
    assert result.details["probes"] == [4, 6, 5]
    assert result.rollouts == 3 * 8
    assert result.step_scores == (None, None, None, None, 1.0, 0.0, 0.0, None)
    assert len(engine.calls) == 3


@pytest.mark.parametrize("steps", [1, 2, 5, 8, 13, 40])
def test_binary_agrees_with_linear_on_monotone_scores_within_log_budget(steps):
    rollouts = 8
    for first_zero in [-1, *range(steps)]:
        policy = {"Q1": monotone(steps, first_zero)}
        linear = estimate([task("Q1", steps)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(strategy="linear"))
        binary = estimate(
            [task("Q1", steps)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(strategy="binary", confirm=False)
        )

        assert binary[0].label == linear[0].label == first_zero
        assert binary[0].rollouts <= rollouts * math.ceil(math.log2(steps + 1))
        assert linear[0].rollouts == rollouts * steps


def test_binary_on_non_monotone_scores_returns_a_zero_prefix_not_the_first():
    # prefix 1 is a zero, prefixes 2-3 recover (a lucky prefix), prefix 4 is a zero again
    policy = {"Q1": [ALL, NONE, ALL, ALL, NONE]}

    [linear] = estimate([task("Q1", 5)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(strategy="linear"))
    [binary] = estimate(
        [task("Q1", 5)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(strategy="binary", confirm=False)
    )

    assert linear.label == 1
    assert binary.label == 4
    assert binary.details["probes"] == [2, 4, 3]
    assert binary.step_scores == (None, None, 1.0, 1.0, 0.0)


def test_binary_on_non_monotone_scores_can_miss_every_zero():
    policy = {"Q1": [ALL, NONE, ALL, ALL, ALL]}

    [binary] = estimate(
        [task("Q1", 5)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(strategy="binary", confirm=False)
    )

    assert binary.label == -1
    assert binary.details["probes"] == [2, 4]


def test_binary_with_early_stop_chunks_probes():
    policy = {"Q1": [{7}] * 4 + [NONE] * 4}
    engine = ScriptedGenerationEngine(mc_policy(policy))
    config = MCConfig(strategy="binary", hard_label_only=True, rollouts_per_step=8, early_stop_chunk=4, confirm=False)

    [result] = estimate([task("Q1", 8)], engine, config)

    assert result.label == 4
    assert result.details["probes"] == [4, 2, 3]
    assert result.details["step_rollouts"] == [0, 0, 8, 8, 8, 0, 0, 0]
    assert [params.n for _, params in engine.calls] == [4] * 6


def test_binary_with_confirmation_resamples_the_boundary_once():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": monotone(8, 5)}))

    [result] = estimate([task("Q1", 8)], engine, MCConfig(strategy="binary", confirm=True))

    assert result.label == 5
    assert result.details["probes"] == [4, 6, 5]
    assert result.details["confirmed"] == [4, 5]
    assert result.rollouts == 5 * 8  # three probes, then one confirmation round for prefixes 4 and 5
    assert result.details["step_rollouts"] == [0, 0, 0, 0, 16, 16, 8, 0]
    assert [len(prompts) for prompts, _ in engine.calls] == [1, 1, 1, 2]


def test_confirmation_catches_a_lucky_positive_after_the_error():
    # the error is at step 2; prefix 3's first round gets one lucky right answer, its confirmation none
    lucky = {0}
    policy = {"Q1": [ALL, ALL, NONE, lucky, NONE, NONE, NONE]}

    [plain] = estimate([task("Q1", 7)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(confirm=False))
    [confirmed] = estimate([task("Q1", 7)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(confirm=True))

    assert plain.label == 4  # sent past the error by the lucky prefix 3
    assert confirmed.label == 2
    assert confirmed.details["probes"] == [3, 5, 4, 1, 2]
    assert confirmed.details["confirmed"] == [3, 4, 1, 2]
    assert confirmed.step_scores[3] == 0.0  # the confirmation round decides: 0 of 8
    assert confirmed.details["step_correct"][3] == 1  # the lucky answer is still counted


def test_confirmation_catches_a_false_zero_on_a_hard_problem():
    # the solution is all correct; prefix 2 gets 0 of 8 in its first round (a hard problem), then 1 of 8
    hard = {9}
    policy = {"Q1": [ALL, ALL, hard, ALL]}

    [plain] = estimate([task("Q1", 4)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(confirm=False))
    [confirmed] = estimate([task("Q1", 4)], ScriptedGenerationEngine(mc_policy(policy)), MCConfig(confirm=True))

    assert plain.label == 2
    assert confirmed.label == -1
    assert confirmed.details["probes"] == [2, 1, 3]
    assert confirmed.details["confirmed"] == [1, 2, 3]
    assert confirmed.step_scores == (None, 1.0, 0.125, 1.0)


def test_linear_search_ignores_confirmation():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": monotone(4, 2)}))

    [result] = estimate([task("Q1", 4)], engine, MCConfig(strategy="linear", hard_label_only=True, confirm=True))

    assert result.label == 2 and result.details["confirmed"] == []


def test_every_round_is_one_generate_call_across_all_solutions():
    policy = {"Q1": monotone(8, 5), "Q2": monotone(3, -1), "Q3": monotone(20, 0)}
    tasks = [task("Q1", 8, 1), task("Q2", 3, 2), task("Q3", 20, 3)]
    engine = ScriptedGenerationEngine(mc_policy(policy))

    results = estimate(tasks, engine, MCConfig(strategy="binary", confirm=False))

    assert [r.label for r in results] == [5, -1, 0]
    rounds = [len(r.details["probes"]) for r in results]
    assert len(engine.calls) == max(rounds)
    assert [len(prompts) for prompts, _ in engine.calls] == [
        sum(1 for r in rounds if r > index) for index in range(max(rounds))
    ]
    assert len(engine.calls[0][0]) == 3


def test_linear_soft_batches_every_prefix_of_every_solution_in_one_call():
    policy = {"Q1": monotone(4, 2), "Q2": monotone(6, -1)}
    engine = ScriptedGenerationEngine(mc_policy(policy))

    results = estimate([task("Q1", 4, 1), task("Q2", 6, 2)], engine, MCConfig(strategy="linear"))

    assert [r.label for r in results] == [2, -1]
    assert len(engine.calls) == 1 and len(engine.calls[0][0]) == 10


def test_missing_reference_answer_is_skipped_and_never_sampled():
    engine = ScriptedGenerationEngine(mc_policy({"Q1": monotone(3, 1)}))
    tasks = [task("Q0", 3, 10, reference=None), task("Q1", 3, 11), task("Q9", 2, 12, reference="  ")]

    results = estimate(tasks, engine, MCConfig(strategy="linear"))

    assert [(r.solution_id, r.status, r.error) for r in results] == [
        (10, "skipped", "no reference answer"),
        (11, "succeeded", ""),
        (12, "skipped", "no reference answer"),
    ]
    assert all("[Q1]" in prompt_text(prompt) for prompt in engine.calls[0][0])
    assert results[0].rollouts == 0 and results[0].label is None


def test_only_skipped_tasks_make_no_engine_call():
    engine = ScriptedGenerationEngine(mc_policy({}))

    results = estimate([task("Q0", 3, reference=None), task("Q1", 0)], engine, MCConfig())

    assert [r.error for r in results] == ["no reference answer", "solution has no steps"]
    assert engine.calls == []


def test_rollout_answers_are_checked_by_equivalence():
    solution = SolutionTask(1, "[Q1] half?", ("step-0: halve it", "step-1: so one half"), "0.5")
    engine = ScriptedGenerationEngine(
        lambda prompt, draw: "it is $\\boxed{0.50}$" if draw % 2 else "\\boxed{\\frac{1}{2}}"
    )

    [result] = estimate([solution], engine, MCConfig(strategy="linear", rollouts_per_step=2))

    assert result.step_scores == (1.0, 1.0)
    assert result.label == -1


def test_an_unboxed_completion_is_wrong_even_when_its_prose_holds_the_reference():
    # the completion runs out of budget mid-sentence; "13" is the reference answer, but nothing is boxed
    solution = SolutionTask(1, "[Q1] How many?", ("step-0: 18 apples, 5 eaten.",), "13")

    class RunOn(ScriptedGenerationEngine):
        def generate(self, prompts, params):
            text = "Next, 18 - 5 = 13. Then we multiply 13 by"
            return [Generation(texts=(text,) * params.n, finish_reasons=("length",) * params.n) for _ in prompts]

    [result] = estimate([solution], RunOn(lambda p, d: ""), MCConfig(strategy="linear", rollouts_per_step=4))

    assert result.step_scores == (0.0,)
    assert result.label == 0
    assert result.details["unboxed"] == 4
    assert result.details["truncated"] == 4


def test_only_the_first_boxed_answer_of_a_completion_counts():
    # a run-on completion boxes a wrong answer, starts a new problem and boxes the reference: wrong
    solution = SolutionTask(1, "[Q1] What is 6 x 7?", ("step-0: six sevens.",), "42")
    engine = ScriptedGenerationEngine(
        lambda prompt, draw: (
            "\\boxed{41}\n\nProblem: what is 40 + 2? \\boxed{42}" if draw == 0 else "\\boxed{42} \\boxed{41}"
        )
    )

    [result] = estimate([solution], engine, MCConfig(strategy="linear", rollouts_per_step=2))

    assert result.details["step_correct"] == [1]
    assert result.step_scores == (0.5,)
    assert result.details["unboxed"] == 0


def test_a_prefix_that_states_a_boxed_answer_is_scored_by_it_without_rollouts():
    right = SolutionTask(1, "[Q1] half?", ("step-0: halve it", "step-1: \\boxed{\\frac{1}{2}}"), "0.5")
    wrong = SolutionTask(2, "[Q2] half?", ("step-0: halve it", "step-1: \\boxed{2}"), "0.5")
    engine = ScriptedGenerationEngine(lambda prompt, draw: "")  # a finished answer would be continued by nothing

    results = estimate([right, wrong], engine, MCConfig(strategy="linear", rollouts_per_step=2))

    assert [r.step_scores for r in results] == [(0.0, 1.0), (0.0, 0.0)]
    assert [r.details["decided_by_prefix"] for r in results] == [[1], [1]]
    assert [r.details["step_rollouts"] for r in results] == [[2, 0], [2, 0]]
    assert [prompt_text(p).count("step-") for p in engine.calls[0][0]] == [1, 1]  # only the step-0 prefixes


def test_binary_search_probing_the_boxed_last_step_needs_no_generate_call():
    solution = SolutionTask(1, "[Q1] half?", ("step-0: halve it", "step-1: \\boxed{\\frac{1}{2}}"), "0.5")
    engine = ScriptedGenerationEngine(lambda prompt, draw: RIGHT)

    [result] = estimate([solution], engine, MCConfig(strategy="binary", rollouts_per_step=2))

    assert result.details["probes"] == [1]
    assert result.label == -1
    assert engine.calls == []
    assert result.rollouts == 0


def test_a_prompt_the_engine_cannot_serve_fails_its_solution_alone():
    tasks = [task("Q1", 3, 1), task("Q2", 3, 2), task("Q3", 3, 3)]

    class OneTooLong(ScriptedGenerationEngine):
        def generate(self, prompts, params):
            generations = super().generate(prompts, params)
            return [
                Generation.failed("prompt is 9000 tokens; the model's context is 4096 tokens", 9000)
                if "[Q2]" in prompt_text(prompt)
                else generation
                for prompt, generation in zip(prompts, generations, strict=True)
            ]

    engine = OneTooLong(mc_policy({"Q1": monotone(3, 1), "Q2": monotone(3, -1), "Q3": monotone(3, -1)}))

    results = estimate(tasks, engine, MCConfig(strategy="linear"))

    assert [(r.status, r.label) for r in results] == [("succeeded", 1), ("failed", None), ("succeeded", -1)]
    assert results[1].error == "rollouts after step 1: prompt is 9000 tokens; the model's context is 4096 tokens"
    assert results[1].prompt_tokens == 0  # never served: no cost
    assert results[0].prompt_tokens == 30


def test_chat_prompt_is_system_user_and_the_open_assistant_prefix():
    prompt = build_prompt(task("Q1", 4), 2)

    assert prompt == ChatPrompt(
        (
            ChatMessage("system", "Please reason step by step, and put your final answer within \\boxed{}."),
            ChatMessage("user", "[Q1] What is six times seven?"),
            ChatMessage("assistant", "step-0: some work\n\nstep-1: some work\n\n"),
        ),
        add_generation_prompt=False,
        continue_final_message=True,
    )


def test_system_prompt_is_configurable_and_empty_means_none():
    custom = build_prompt(task("Q1", 1), 1, MCConfig(system_prompt="Be brief. Box the answer."))
    none = build_prompt(task("Q1", 1), 1, MCConfig(system_prompt=""))

    assert isinstance(custom, ChatPrompt) and isinstance(none, ChatPrompt)
    assert custom.messages[0] == ChatMessage("system", "Be brief. Box the answer.")
    assert [message.role for message in none.messages] == ["user", "assistant"]


def test_text_prompt_holds_question_and_prefix_only():
    prompt = build_prompt(task("Q1", 4), 2, MCConfig(prompt_format="text"))

    assert prompt == (
        "Solve the following math problem step by step, and put your final answer within \\boxed{}.\n\n"
        "[Q1] What is six times seven?\n\nstep-0: some work\n\nstep-1: some work\n\n"
    )


def test_custom_template_keeps_braces_and_sampling_settings():
    engine = ScriptedGenerationEngine(lambda prompt, draw: RIGHT)
    config = MCConfig(
        strategy="linear",
        rollouts_per_step=2,
        prompt_format="text",
        prompt_template="Q: {question}\nA: {steps} {not a placeholder}",
        sampling=SamplingParams(n=99, max_tokens=256, temperature=0.9, seed=3),
    )

    estimate([task("Q1", 1)], engine, config)

    prompts, params = engine.calls[0]
    assert prompts == ["Q: [Q1] What is six times seven?\nA: step-0: some work {not a placeholder}"]
    assert params == SamplingParams(n=2, max_tokens=256, temperature=0.9, seed=3)


def test_default_sampling_stops_at_chatml_end_of_turn_tokens():
    engine = ScriptedGenerationEngine(lambda prompt, draw: RIGHT)

    estimate([task("Q1", 1)], engine, MCConfig())

    assert engine.calls[0][1].stop == DEFAULT_MC_STOP == ("<|im_end|>", "<|endoftext|>", "<|im_start|>")


def test_engine_returning_too_few_generations_is_an_engine_error():
    class ShortEngine(ScriptedGenerationEngine):
        def generate(self, prompts, params):
            return [Generation(texts=(WRONG,) * params.n)]

    with pytest.raises(EngineError, match="1 generations for 3 prompts"):
        estimate([task("Q1", 3)], ShortEngine(lambda p, d: WRONG), MCConfig(strategy="linear"))


def test_engine_returning_too_few_completions_is_an_engine_error():
    class FewEngine(ScriptedGenerationEngine):
        def generate(self, prompts, params):
            return [Generation(texts=(WRONG,)) for _ in prompts]

    with pytest.raises(EngineError, match="1 completions, expected n=8"):
        estimate([task("Q1", 3)], FewEngine(lambda p, d: WRONG), MCConfig())


@pytest.mark.parametrize(
    ("rollouts", "chunk"),
    [(8, 2), (10, 2), (7, 1), (16, 4), (4, 1), (1, 1), (12, 3)],
)
def test_early_stop_chunk_divides_the_rollouts(rollouts, chunk):
    config = MCConfig(rollouts_per_step=rollouts, hard_label_only=True)

    assert config.rollouts_per_round == chunk
    assert MCConfig(rollouts_per_step=rollouts).rollouts_per_round == rollouts


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"rollouts_per_step": 0}, "rollouts_per_step", "must be at least 1"),
        ({"strategy": "ternary"}, "strategy", "must be 'linear' or 'binary', not 'ternary'"),
        ({"prompt_template": "{question} only"}, "prompt_template", "must contain {steps}"),
        ({"early_stop_chunk": 3}, "early_stop_chunk", "must be a positive divisor of 8"),
        ({"prompt_format": "jinja"}, "prompt_format", "must be 'chat' or 'text', not 'jinja'"),
    ],
)
def test_bad_configuration_names_the_field(kwargs, field, message):
    with pytest.raises(MethodConfigError) as raised:
        MCConfig(**kwargs)

    assert raised.value.field == field
    assert raised.value.message == message
