"""MC search cost and accuracy on a simulated policy: linear search with early stop vs binary search.

    python bench/mc_search.py [--solutions 20] [--rollouts 8] [--seed 0] [--lengths 5,10,20,40]
                              [--p-before 0.8] [--p-after 0.02] [--error-share 0.5]

For each solution length, it makes `--solutions` solutions; a share `--error-share` of them has a true
earliest error at a uniformly drawn step, the others are all correct. The simulated policy (a
GenerationEngine) completes a prefix to the right answer with probability `p_before` while the prefix
holds no wrong step, and `p_after` once it does; each completion "writes" 30 tokens per remaining step.
Every strategy sees the same solutions and the same seeded policy and batches all solutions of a length
in one `estimate` call. Printed per length and strategy: rollouts and generated tokens per solution,
generate calls, and earliest-error accuracy (MC label == true label).
Strategies: `linear-full` (every prefix, N rollouts each: the soft-score baseline), `linear-early`
(hard label: prefixes in order, chunks of rollouts, stop at the first correct one and at the first zero
prefix) and `binary-early` (hard label: binary search for the first zero prefix, same chunking).
"""

import argparse
import random
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from scoring.engines.base import ChatPrompt, EngineInfo, Generation, Prompt, SamplingParams  # noqa: E402
from scoring.methods.base import SolutionTask  # noqa: E402
from scoring.methods.mc import MCConfig, estimate  # noqa: E402

TOKENS_PER_STEP = 30
ANSWER = "42"
STRATEGIES = {
    "linear-full": {"strategy": "linear", "hard_label_only": False},
    "linear-early": {"strategy": "linear", "hard_label_only": True, "early_stop": True},
    "binary-early": {"strategy": "binary", "hard_label_only": True, "early_stop": True},
}
_SOLUTION = re.compile(r"\[sim-(\d+)\]")
_STEP = re.compile(r"\bstep-\d+\b")


@dataclass(frozen=True)
class SimulatedSolution:
    """One synthetic solution: its length and true earliest error (-1 when all steps are correct)."""

    solution_id: int
    length: int
    error_step: int

    def task(self) -> SolutionTask:
        steps = tuple(f"step-{i}: we compute something." for i in range(self.length))
        return SolutionTask(self.solution_id, f"[sim-{self.solution_id}] Find the value.", steps, ANSWER)


class SimulatedPolicy:
    """A seeded GenerationEngine whose chance of the right answer drops once the prefix holds the error."""

    info = EngineInfo(engine="simulated", model_name="simulated-policy")

    def __init__(self, solutions: Sequence[SimulatedSolution], p_before: float, p_after: float, seed: int):
        self.solutions = {solution.solution_id: solution for solution in solutions}
        self.p_before, self.p_after = p_before, p_after
        self.random = random.Random(seed)
        self.calls = 0

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        self.calls += 1
        return [self._complete(prompt, params.n) for prompt in prompts]

    def _complete(self, prompt: Prompt, n: int) -> Generation:
        if isinstance(prompt, ChatPrompt):
            prompt = "\n".join(message.content for message in prompt.messages)
        match = _SOLUTION.search(prompt)
        if match is None:
            raise ValueError("prompt without a simulated solution marker")
        solution = self.solutions[int(match.group(1))]
        prefix = len(_STEP.findall(prompt))
        wrong_prefix = 0 <= solution.error_step < prefix
        chance = self.p_after if wrong_prefix else self.p_before
        texts = tuple(f"... \\boxed{{{ANSWER if self.random.random() < chance else '7'}}}" for _ in range(n))
        tokens = n * (TOKENS_PER_STEP * (solution.length - prefix) + 10)
        return Generation(texts=texts, prompt_tokens=len(prompt.split()), generated_tokens=tokens)


@dataclass(frozen=True)
class Row:
    """Figures of one strategy at one solution length."""

    length: int
    strategy: str
    solutions: int
    rollouts: int
    generated_tokens: int
    calls: int
    correct: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.solutions if self.solutions else 0.0

    def line(self) -> str:
        return (
            f"{self.length:>6}  {self.strategy:<13} {self.rollouts / self.solutions:>12.1f} "
            f"{self.generated_tokens / self.solutions:>15.0f} {self.calls:>7}  {100 * self.accuracy:>7.1f}%"
        )


def make_solutions(length: int, count: int, error_share: float, rng: random.Random, first_id: int) -> list:
    """Return `count` simulated solutions of one length with seeded true error steps."""
    return [
        SimulatedSolution(first_id + i, length, rng.randrange(length) if rng.random() < error_share else -1)
        for i in range(count)
    ]


def simulate(
    lengths: Sequence[int],
    solutions: int,
    rollouts: int,
    seed: int,
    p_before: float = 0.8,
    p_after: float = 0.02,
    error_share: float = 0.5,
) -> list[Row]:
    """Return one Row per (length, strategy)."""
    rng = random.Random(seed)
    rows = []
    for length in lengths:
        batch = make_solutions(length, solutions, error_share, rng, first_id=length * 10_000)
        for name, settings in STRATEGIES.items():
            policy = SimulatedPolicy(batch, p_before, p_after, seed=seed + length)
            config = MCConfig(rollouts_per_step=rollouts, **settings)  # type: ignore[arg-type]
            results = estimate([solution.task() for solution in batch], policy, config)
            rows.append(
                Row(
                    length=length,
                    strategy=name,
                    solutions=len(batch),
                    rollouts=sum(r.rollouts for r in results),
                    generated_tokens=sum(r.generated_tokens for r in results),
                    calls=policy.calls,
                    correct=sum(r.label == s.error_step for r, s in zip(results, batch, strict=True)),
                )
            )
    return rows


def totals(rows: Sequence[Row]) -> dict[str, Row]:
    """Return per-strategy totals over all lengths (length 0 marks a total)."""
    summary = {}
    for name in STRATEGIES:
        mine = [row for row in rows if row.strategy == name]
        summary[name] = Row(
            0,
            name,
            sum(r.solutions for r in mine),
            sum(r.rollouts for r in mine),
            sum(r.generated_tokens for r in mine),
            sum(r.calls for r in mine),
            sum(r.correct for r in mine),
        )
    return summary


def main(argv: Sequence[str] | None = None) -> list[Row]:
    """Run the simulation, print the table and return its rows."""
    parser = argparse.ArgumentParser(description="MC linear vs binary search on a simulated policy")
    parser.add_argument("--solutions", type=int, default=20, help="solutions per length")
    parser.add_argument("--rollouts", type=int, default=8, help="rollouts per step prefix (N)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lengths", default="5,10,20,40", help="comma-separated solution lengths")
    parser.add_argument("--p-before", type=float, default=0.8, help="chance of the right answer before the error")
    parser.add_argument("--p-after", type=float, default=0.02, help="chance of the right answer after the error")
    parser.add_argument("--error-share", type=float, default=0.5, help="share of solutions with an error")
    args = parser.parse_args(argv)
    lengths = [int(value) for value in args.lengths.split(",")]
    rows = simulate(lengths, args.solutions, args.rollouts, args.seed, args.p_before, args.p_after, args.error_share)
    print(
        f"N={args.rollouts} rollouts per prefix, {args.solutions} solutions per length, seed {args.seed}, "
        f"p_before={args.p_before}, p_after={args.p_after}, error share {args.error_share}"
    )
    print("length  strategy      rollouts/sol  gen tokens/sol   calls  accuracy")
    for row in rows:
        print(row.line())
    for row in totals(rows).values():
        print(row.line().replace("     0", "   all", 1))
    return rows


if __name__ == "__main__":
    main()
