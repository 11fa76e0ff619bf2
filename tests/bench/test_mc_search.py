"""The MC search benchmark runs small: binary search needs fewer rollouts for similar accuracy."""

import importlib.util
from pathlib import Path

from scoring.engines.base import SamplingParams
from scoring.methods.mc import build_prompt

BENCH = Path(__file__).resolve().parents[2] / "bench" / "mc_search.py"
STRATEGY_PAIR = ("binary-early", "linear-early")


def _load_bench():
    spec = importlib.util.spec_from_file_location("mc_search", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_on_a_monotone_policy_binary_matches_linear_with_fewer_rollouts(capsys):
    bench = _load_bench()

    rows = bench.main(["--solutions", "12", "--lengths", "5,20,40", "--p-after", "0", "--seed", "3"])

    totals = bench.totals(rows)
    assert totals["binary-early"].accuracy == totals["linear-early"].accuracy == totals["linear-full"].accuracy == 1.0
    assert totals["binary-early"].rollouts < totals["linear-early"].rollouts < totals["linear-full"].rollouts
    assert totals["binary-early"].generated_tokens < totals["linear-early"].generated_tokens
    long_binary, long_linear = (next(r for r in rows if r.length == 40 and r.strategy == s) for s in STRATEGY_PAIR)
    assert long_binary.rollouts * 2 < long_linear.rollouts
    out = capsys.readouterr().out
    assert "length  strategy      rollouts/sol  gen tokens/sol   calls  accuracy" in out
    assert "   all  binary-early" in out


def test_on_a_noisy_policy_binary_stays_cheaper_with_similar_accuracy():
    bench = _load_bench()

    rows = bench.simulate(lengths=[10, 30], solutions=30, rollouts=8, seed=1, p_before=0.8, p_after=0.02)

    totals = bench.totals(rows)
    assert totals["binary-early"].rollouts < totals["linear-early"].rollouts / 1.5
    assert abs(totals["binary-early"].accuracy - totals["linear-early"].accuracy) <= 0.15
    assert totals["linear-full"].rollouts == 8 * (10 + 30) * 30


def test_simulated_policy_is_seeded_and_counts_tokens():
    bench = _load_bench()
    solution = bench.SimulatedSolution(solution_id=1, length=4, error_step=1)

    prompts = [build_prompt(solution.task(), 1), build_prompt(solution.task(), 3)]
    first = bench.SimulatedPolicy([solution], 1.0, 0.0, seed=5).generate(prompts, SamplingParams(n=3))
    again = bench.SimulatedPolicy([solution], 1.0, 0.0, seed=5).generate(prompts, SamplingParams(n=3))

    assert first == again
    assert first[0].texts == ("... \\boxed{42}",) * 3  # prefix before the error step: p_before = 1
    assert first[1].texts == ("... \\boxed{7}",) * 3  # prefix holding the error step: p_after = 0
    assert first[0].generated_tokens == 3 * (30 * 3 + 10)
