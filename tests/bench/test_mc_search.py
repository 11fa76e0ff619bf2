"""The MC search benchmark runs small: costs, prefix-cache accounting and the default strategy's accuracy."""

import importlib.util
from pathlib import Path

from scoring.engines.base import SamplingParams
from scoring.methods.mc import MCConfig, build_prompt

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mc_search.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("mc_search", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_on_a_monotone_policy_every_strategy_is_right_and_binary_is_cheapest(capsys):
    bench = _load_bench()

    rows = bench.main(
        ["--solutions", "12", "--lengths", "5,20,40", "--p-after", "0", "--seed", "3", "--difficulty", "easy"]
    )

    totals = bench.totals(rows)
    assert {row.accuracy for row in totals.values()} == {1.0}
    assert totals["binary-early"].rollouts < totals["linear-early"].rollouts < totals["linear-full"].rollouts
    assert totals["binary-early"].generated_tokens < totals["linear-early"].generated_tokens
    assert totals["default"].rollouts == totals["binary-confirm"].rollouts  # the default IS binary + confirmation
    out = capsys.readouterr().out
    assert "default = binary, boundary confirmed, N=8, hard_label_only=False, every rollout" in out
    assert "length  strategy       rollouts   gen tok prompt tok  cached  calls  acc err  acc ok   acc all" in out
    assert "   all  binary-early" in out


def test_with_a_difficulty_spread_confirmation_makes_binary_search_the_most_accurate(capsys):
    bench = _load_bench()

    rows = bench.main(["--solutions", "40", "--lengths", "10,30", "--seed", "1"])

    totals = bench.totals(rows)
    default, linear, plain = totals["default"], totals["linear-early"], totals["binary-full"]
    assert default.accuracy > linear.accuracy + 0.05 and default.accuracy > plain.accuracy + 0.05
    assert default.accuracy_erroneous > plain.accuracy_erroneous + 0.05
    assert default.generated_tokens < linear.generated_tokens and default.calls < linear.calls
    assert totals["linear-full"].rollouts == 8 * (9 + 29) * 40  # the boxed last step needs no rollout
    assert "accuracy by problem difficulty (all lengths)" in capsys.readouterr().out


def test_prefix_caching_counts_only_tokens_no_earlier_prompt_shared():
    bench = _load_bench()
    first, second = bench.SimulatedSolution(1, 6, -1), bench.SimulatedSolution(2, 6, -1)
    policy = bench.SimulatedPolicy([first, second], 1.0, 0.0, seed=0)
    config = MCConfig(confirm=False)

    policy.generate([build_prompt(first.task(), 3, config), build_prompt(first.task(), 1, config)], SamplingParams())
    policy.generate([build_prompt(first.task(), 5, config), build_prompt(second.task(), 2, config)], SamplingParams())

    # full: 20 system + 60 question + 30 per step; cached: a prefix of an earlier prompt of the same solution
    assert policy.prompt_tokens == (80 + 90) + (80 + 30) + (80 + 150) + (80 + 60)
    assert policy.cached_prompt_tokens == (80 + 90) + 0 + 60 + (60 + 60)  # the system turn is shared by all


def test_simulated_policy_is_seeded_and_counts_tokens():
    bench = _load_bench()
    solution = bench.SimulatedSolution(solution_id=1, length=4, error_step=1, p_correct=0.3, difficulty="medium")

    prompts = [build_prompt(solution.task(), 1), build_prompt(solution.task(), 3)]
    first = bench.SimulatedPolicy([solution], 1.0, 0.0, seed=5).generate(prompts, SamplingParams(n=3))
    again = bench.SimulatedPolicy([solution], 1.0, 0.0, seed=5).generate(prompts, SamplingParams(n=3))

    assert first == again
    assert first[0].texts == ("... \\boxed{42}",) * 3  # prefix before the error step: p_before = 1
    assert first[1].texts == ("... \\boxed{7}",) * 3  # prefix holding the error step: p_after = 0
    assert first[0].generated_tokens == 3 * (30 * 3 + 10)
    assert solution.task().steps[-1] == "step-3: so the answer is \\boxed{7}."  # erroneous: a wrong final answer
