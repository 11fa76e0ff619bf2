"""MC search strategies on a simulated policy: cost, prompt tokens with and without prefix caching, accuracy.

    python bench/mc_search.py [--solutions 200] [--rollouts 8] [--seed 0] [--lengths 5,10,20,40]
                              [--p-after 0.02] [--error-share 0.5] [--difficulty spread|easy]

For each solution length, it makes `--solutions` solutions; a share `--error-share` of them has a true
earliest error at a uniformly drawn step, the others are all correct. As in ProcessBench, the last step
states the final answer in `\\boxed{}` (right for correct solutions, wrong for erroneous ones), so MC scores
that prefix by its own answer. Each PROBLEM draws how often the simulated policy completes a correct prefix
to the right answer (`--difficulty spread`: easy 50% p~U(0.7, 0.95), medium 30% U(0.3, 0.7), hard 20%
U(0.03, 0.3), where a correct prefix often gets 0 of N; `easy`: every problem p = 0.8); once the prefix
holds the error, a completion is right with probability `--p-after` (a lucky recovery). Completions write
30 tokens per remaining step; prompts are a 20-token system turn, a 60-token question and 30 tokens per
prefix step. Every strategy sees the same solutions and a policy seeded alike, and batches all solutions of
a length in one `estimate` call per round.

Printed per length and strategy: rollouts, generated tokens and prompt tokens per solution (every prompt
prefilled, and with vLLM's prefix caching, where a prompt costs only the tokens no earlier prompt of the
run shared: MC prompts of one solution are prefixes of each other, since the assistant turn stays open),
generate calls, and earliest-error accuracy on erroneous and on correct solutions; then accuracy by
difficulty. `default` is `MCConfig()` with `--rollouts`: the project's default configuration.
"""

import argparse
import random
import re
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.engines.base import ChatPrompt, EngineInfo, Generation, Prompt, SamplingParams  # noqa: E402
from scoring.methods.base import SolutionTask  # noqa: E402
from scoring.methods.mc import MCConfig, estimate  # noqa: E402

SYSTEM_TOKENS, QUESTION_TOKENS, TOKENS_PER_STEP = 20, 60, 30
ANSWER = "42"
DIFFICULTIES = {"easy": (0.5, 0.7, 0.95), "medium": (0.3, 0.3, 0.7), "hard": (0.2, 0.03, 0.3)}  # share, low, high
STRATEGIES: dict[str, dict[str, Any]] = {
    "default": {},
    "linear-full": {"strategy": "linear", "hard_label_only": False},
    "linear-early": {"strategy": "linear", "hard_label_only": True, "early_stop": True},
    "binary-full": {"strategy": "binary", "hard_label_only": False, "confirm": False},
    "binary-early": {"strategy": "binary", "hard_label_only": True, "early_stop": True, "confirm": False},
    "binary-confirm": {"strategy": "binary", "hard_label_only": False, "confirm": True},
    "binary-early-c": {"strategy": "binary", "hard_label_only": True, "early_stop": True, "confirm": True},
}
_SOLUTION = re.compile(r"\[sim-(\d+)\]")
_STEP = re.compile(r"\bstep-\d+\b")


@dataclass(frozen=True)
class SimulatedSolution:
    """One synthetic solution: length, true earliest error (-1: all correct), and its problem's difficulty."""

    solution_id: int
    length: int
    error_step: int
    p_correct: float = 0.8
    difficulty: str = "easy"

    def task(self) -> SolutionTask:
        final = ANSWER if self.error_step == -1 else "7"
        steps = [f"step-{i}: we compute something." for i in range(self.length - 1)]
        steps.append(f"step-{self.length - 1}: so the answer is \\boxed{{{final}}}.")
        return SolutionTask(self.solution_id, f"[sim-{self.solution_id}] Find the value.", tuple(steps), ANSWER)


def _text(prompt: Prompt) -> str:
    return "\n".join(m.content for m in prompt.messages) if isinstance(prompt, ChatPrompt) else prompt


class SimulatedPolicy:
    """A seeded GenerationEngine whose chance of the right answer drops once the prefix holds the error.

    It also counts prompt tokens as an engine prefills them: all of them, and with prefix caching.
    """

    info = EngineInfo(engine="simulated", model_name="simulated-policy")

    def __init__(self, solutions: Sequence[SimulatedSolution], p_before: float, p_after: float, seed: int):
        self.solutions = {solution.solution_id: solution for solution in solutions}
        self.p_before, self.p_after = p_before, p_after
        self.random = random.Random(seed)
        self.calls = 0
        self.prompt_tokens = self.cached_prompt_tokens = 0
        self._longest_seen: dict[int, int] = {}

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        self.calls += 1
        return [self._complete(_text(prompt), params.n) for prompt in prompts]

    def _prefill(self, solution_id: int, prefix: int) -> int:
        """Count the prompt's tokens; return them, and add the uncached share to the prefix-cache total."""
        full = SYSTEM_TOKENS + QUESTION_TOKENS + TOKENS_PER_STEP * prefix
        seen = self._longest_seen.get(solution_id)
        cached = SYSTEM_TOKENS if self.prompt_tokens else 0
        if seen is not None:
            cached = SYSTEM_TOKENS + QUESTION_TOKENS + TOKENS_PER_STEP * min(prefix, seen)
        self._longest_seen[solution_id] = max(prefix, seen or 0)
        self.prompt_tokens += full
        self.cached_prompt_tokens += full - cached
        return full

    def _complete(self, prompt: str, n: int) -> Generation:
        match = _SOLUTION.search(prompt)
        if match is None:
            raise ValueError("prompt without a simulated solution marker")
        solution = self.solutions[int(match.group(1))]
        prefix = len(_STEP.findall(prompt))
        wrong_prefix = 0 <= solution.error_step < prefix
        chance = self.p_after if wrong_prefix else (solution.p_correct if self.p_before < 0 else self.p_before)
        texts = tuple(f"... \\boxed{{{ANSWER if self.random.random() < chance else '7'}}}" for _ in range(n))
        tokens = n * (TOKENS_PER_STEP * (solution.length - prefix) + 10)
        return Generation(
            texts=texts, prompt_tokens=self._prefill(solution.solution_id, prefix), generated_tokens=tokens
        )


@dataclass
class Row:
    """Figures of one strategy at one solution length (length 0: all lengths)."""

    length: int
    strategy: str
    solutions: int = 0
    rollouts: int = 0
    generated_tokens: int = 0
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0
    calls: int = 0
    erroneous: int = 0
    erroneous_right: int = 0
    correct_right: int = 0
    by_difficulty: Counter = field(default_factory=Counter)  # (difficulty, right?) -> solutions

    @property
    def correct(self) -> int:
        return self.erroneous_right + self.correct_right

    @property
    def accuracy(self) -> float:
        return self.correct / self.solutions if self.solutions else 0.0

    @property
    def accuracy_erroneous(self) -> float:
        return self.erroneous_right / self.erroneous if self.erroneous else 0.0

    @property
    def accuracy_correct(self) -> float:
        correct = self.solutions - self.erroneous
        return self.correct_right / correct if correct else 0.0

    def add(self, other: "Row") -> None:
        for name in ("solutions", "rollouts", "generated_tokens", "prompt_tokens", "cached_prompt_tokens", "calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.erroneous += other.erroneous
        self.erroneous_right += other.erroneous_right
        self.correct_right += other.correct_right
        self.by_difficulty.update(other.by_difficulty)

    def line(self) -> str:
        per = max(1, self.solutions)
        return (
            f"{self.length or 'all':>6}  {self.strategy:<15}{self.rollouts / per:>7.1f}"
            f"{self.generated_tokens / per:>10.0f}{self.prompt_tokens / per:>10.0f}"
            f"{self.cached_prompt_tokens / per:>9.0f}{self.calls:>7}"
            f"{100 * self.accuracy_erroneous:>9.1f}%{100 * self.accuracy_correct:>8.1f}%{100 * self.accuracy:>8.1f}%"
        )


HEADER = "length  strategy       rollouts   gen tok prompt tok  cached  calls  acc err  acc ok   acc all"


def make_solutions(length: int, count: int, error_share: float, rng: random.Random, first_id: int, spread: bool):
    """Return `count` simulated solutions of one length with seeded error steps and problem difficulties."""
    solutions = []
    for i in range(count):
        error_step = rng.randrange(length) if rng.random() < error_share else -1
        difficulty, p_correct = "easy", 0.8
        if spread:
            difficulty = rng.choices(list(DIFFICULTIES), [share for share, _, _ in DIFFICULTIES.values()])[0]
            _, low, high = DIFFICULTIES[difficulty]
            p_correct = rng.uniform(low, high)
        solutions.append(SimulatedSolution(first_id + i, length, error_step, p_correct, difficulty))
    return solutions


def _row(length: int, name: str, batch: list[SimulatedSolution], results: list, policy: SimulatedPolicy) -> Row:
    row = Row(length, name, len(batch), sum(r.rollouts for r in results), sum(r.generated_tokens for r in results))
    row.prompt_tokens, row.cached_prompt_tokens, row.calls = (
        policy.prompt_tokens,
        policy.cached_prompt_tokens,
        policy.calls,
    )
    for result, solution in zip(results, batch, strict=True):
        right = result.label == solution.error_step
        row.erroneous += solution.error_step >= 0
        row.erroneous_right += right and solution.error_step >= 0
        row.correct_right += right and solution.error_step < 0
        row.by_difficulty[(solution.difficulty, right)] += 1
    return row


def simulate(
    lengths: Sequence[int],
    solutions: int,
    rollouts: int,
    seed: int,
    p_before: float = -1.0,
    p_after: float = 0.02,
    error_share: float = 0.5,
    spread: bool = True,
) -> list[Row]:
    """Return one Row per (length, strategy); p_before < 0 uses each problem's own difficulty."""
    rng = random.Random(seed)
    rows = []
    for length in lengths:
        batch = make_solutions(length, solutions, error_share, rng, length * 10_000, spread and p_before < 0)
        for name, settings in STRATEGIES.items():
            policy = SimulatedPolicy(batch, p_before, p_after, seed=seed + length)
            config = MCConfig(rollouts_per_step=rollouts, **settings)
            results = estimate([solution.task() for solution in batch], policy, config)
            rows.append(_row(length, name, batch, results, policy))
    return rows


def totals(rows: Sequence[Row]) -> dict[str, Row]:
    """Return per-strategy totals over all lengths (length 0 marks a total)."""
    summary = {name: Row(0, name) for name in STRATEGIES}
    for row in rows:
        summary[row.strategy].add(row)
    return summary


def describe_default(rollouts: int) -> str:
    """Return the default configuration in words, e.g. 'binary, N=8, every rollout'."""
    config = MCConfig(rollouts_per_step=rollouts)
    stop = f"early stop in chunks of {config.rollouts_per_round}" if config.stops_early else "every rollout"
    confirm = ", boundary confirmed" if config.strategy == "binary" and config.confirm else ""
    return f"{config.strategy}{confirm}, N={rollouts}, hard_label_only={config.hard_label_only}, {stop}"


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the simulation, print the tables and return the rows."""
    parser = argparse.ArgumentParser(description="MC search strategies on a simulated policy")
    parser.add_argument("--solutions", type=int, default=20, help="solutions per length")
    parser.add_argument("--rollouts", type=int, default=8, help="rollouts per step prefix (N)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lengths", default="5,10,20,40", help="comma-separated solution lengths")
    parser.add_argument("--p-after", type=float, default=0.02, help="chance of the right answer after the error")
    parser.add_argument("--error-share", type=float, default=0.5, help="share of solutions with an error")
    parser.add_argument("--difficulty", choices=("spread", "easy"), default="spread", help="per-problem difficulty")
    args = parser.parse_args(argv)
    lengths = [int(value) for value in args.lengths.split(",")]
    spread = args.difficulty == "spread"
    p_before = -1.0 if spread else 0.8
    rows = simulate(lengths, args.solutions, args.rollouts, args.seed, p_before, args.p_after, args.error_share, spread)
    print(
        f"N={args.rollouts}, {args.solutions} solutions per length, seed {args.seed}, difficulty {args.difficulty}, "
        f"p_after={args.p_after}, error share {args.error_share}; default = {describe_default(args.rollouts)}"
    )
    print("per solution: rollouts, generated tokens, prompt tokens prefilled (all / with prefix caching)")
    print(HEADER)
    for row in rows:
        print(row.line())
    summary = totals(rows)
    for row in summary.values():
        print(row.line())
    if spread:
        print("accuracy by problem difficulty (all lengths)")
        for name, row in summary.items():
            shares = []
            for difficulty in DIFFICULTIES:
                right, wrong = row.by_difficulty[(difficulty, True)], row.by_difficulty[(difficulty, False)]
                shares.append(f"{difficulty} {100 * right / max(1, right + wrong):5.1f}%")
            print(f"  {name:<15} " + "  ".join(shares))
    return rows


if __name__ == "__main__":
    main()
