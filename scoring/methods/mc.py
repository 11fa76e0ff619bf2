"""Monte-Carlo estimation of step correctness (Math-Shepherd; OmegaPRM's binary search).

For a step prefix (steps 0..i) the policy samples N completions of the question plus `steps[:i+1]`;
each rollout's final answer (the last answer in prefix + completion) is checked against the reference
answer. A prefix's soft score is the share of correct rollouts; a step is wrong when 0 rollouts are
correct, and the earliest error is the first such step (-1 when there is none).

Strategies:
- `linear` samples every prefix in one round; with `hard_label_only` it walks the prefixes in order, one
  round each, and stops at the first zero.
- `binary` searches for the first zero prefix (about N*ceil(log2(M+1)) rollouts for M steps instead of N*M).
  It assumes the share correct does not rise again after an error. When it does (a lucky prefix after a
  wrong one), binary search returns *a* zero prefix whose probed predecessors all scored above zero,
  not necessarily the first one, and -1 when every probed prefix scored above zero; the probe order is
  kept in `details["probes"]` so the search can be audited.

With `hard_label_only` and `early_stop`, a prefix is sampled in chunks and abandoned at its first correct
rollout. Every round sends the prompts of all pending prefixes of all solutions in ONE `generate` call.
"""

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from prmweb.core.answers import answers_equivalent, extract_final_answer
from scoring.engines.base import EngineError, Generation, GenerationEngine, SamplingParams
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

Strategy = Literal["linear", "binary"]

DEFAULT_MC_TEMPLATE = (
    "Solve the following math problem step by step, and put your final answer within \\boxed{}.\n\n"
    "{question}\n\n{steps}\n\n"
)
NO_REFERENCE = "no reference answer"
NO_STEPS = "solution has no steps"
_PLACEHOLDER = re.compile(r"\{(question|steps)\}")


def _default_sampling() -> SamplingParams:
    return SamplingParams(n=1, max_tokens=1024, temperature=0.7, top_p=1.0)


@dataclass(frozen=True)
class MCConfig:
    """Settings of one MC estimation; `sampling.n` is ignored (rollouts_per_step or the chunk size rule).

    `prompt_template` holds the literal placeholders `{question}` and `{steps}` (the prefix steps joined
    by blank lines); they are replaced as plain text, so braces such as `\\boxed{}` need no escaping.
    `early_stop_chunk` is the number of rollouts drawn per prefix per round under early stop; it must
    divide `rollouts_per_step` (default: the largest divisor not above ceil(N/4)).
    """

    rollouts_per_step: int = 8
    strategy: Strategy = "binary"
    early_stop: bool = True
    hard_label_only: bool = False
    sampling: SamplingParams = field(default_factory=_default_sampling)
    prompt_template: str = DEFAULT_MC_TEMPLATE
    early_stop_chunk: int | None = None

    def __post_init__(self) -> None:
        if self.rollouts_per_step < 1:
            raise MethodConfigError("rollouts_per_step", "must be at least 1")
        if self.strategy not in ("linear", "binary"):
            raise MethodConfigError("strategy", f"must be 'linear' or 'binary', not {self.strategy!r}")
        for placeholder in ("{question}", "{steps}"):
            if placeholder not in self.prompt_template:
                raise MethodConfigError("prompt_template", f"must contain {placeholder}")
        chunk = self.early_stop_chunk
        if chunk is not None and (chunk < 1 or self.rollouts_per_step % chunk):
            raise MethodConfigError("early_stop_chunk", f"must be a positive divisor of {self.rollouts_per_step}")

    @property
    def stops_early(self) -> bool:
        """Return whether prefixes are sampled in chunks and abandoned at their first correct rollout."""
        return self.early_stop and self.hard_label_only

    @property
    def rollouts_per_round(self) -> int:
        """Return how many completions each pending prefix gets per round (the `n` of every call)."""
        if not self.stops_early:
            return self.rollouts_per_step
        if self.early_stop_chunk is not None:
            return self.early_stop_chunk
        ceiling = math.ceil(self.rollouts_per_step / 4)
        return max(d for d in range(1, ceiling + 1) if self.rollouts_per_step % d == 0)


def build_prompt(task: SolutionTask, prefix_length: int, template: str = DEFAULT_MC_TEMPLATE) -> str:
    """Return the rollout prompt for the first `prefix_length` steps of a solution."""
    values = {"question": task.question.strip(), "steps": "\n\n".join(s.strip() for s in task.steps[:prefix_length])}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template)


@dataclass
class _Tally:
    drawn: int = 0
    correct: int = 0


@dataclass
class _Search:
    """Search state of one solution: which prefixes are sampled, what they scored, and the verdict."""

    task: SolutionTask
    config: MCConfig
    tallies: dict[int, _Tally] = field(default_factory=dict)
    low: int = 0
    high: int = 0
    label: int | None = None
    probes: list[int] = field(default_factory=list)
    rounds: int = 0
    rollouts: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    verdicts: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.high = len(self.task.steps)

    @property
    def step_count(self) -> int:
        return len(self.task.steps)

    def pending(self) -> list[int]:
        """Return the prefixes (last step index) to sample in the next round."""
        if self.label is not None:
            return []
        if self.config.strategy == "linear" and not self.config.hard_label_only:
            return [i for i in range(self.step_count) if i not in self.tallies]
        probe = self.low if self.config.strategy == "linear" else (self.low + self.high) // 2
        if probe not in self.probes:
            self.probes.append(probe)
        return [probe]

    def record(self, step: int, generation: Generation) -> None:
        """Count one prefix's completions and the correct ones among them."""
        tally = self.tallies.setdefault(step, _Tally())
        prefix = self.task.steps[: step + 1]
        for text in generation.texts:
            tally.drawn += 1
            tally.correct += self._is_correct(prefix, text)
        self.rollouts += len(generation.texts)
        self.prompt_tokens += generation.prompt_tokens
        self.generated_tokens += generation.generated_tokens

    def _is_correct(self, prefix: tuple[str, ...], completion: str) -> bool:
        answer = extract_final_answer((*prefix, completion))
        if not answer:
            return False
        if answer not in self.verdicts:
            self.verdicts[answer] = answers_equivalent(answer, self.task.reference_answer or "")
        return self.verdicts[answer]

    def _resolved(self, step: int) -> bool:
        tally = self.tallies[step]
        return tally.drawn >= self.config.rollouts_per_step or (self.config.stops_early and tally.correct > 0)

    def advance(self) -> None:
        """Move the search on after a round; set `label` once the earliest zero prefix is known."""
        self.rounds += 1
        if self.config.strategy == "linear" and not self.config.hard_label_only:
            zeros = [i for i in range(self.step_count) if self.tallies[i].correct == 0]
            self.label = zeros[0] if zeros else -1
            return
        probe = self.probes[-1]
        if not self._resolved(probe):
            return
        zero = self.tallies[probe].correct == 0
        if self.config.strategy == "linear":
            if zero or probe + 1 == self.step_count:
                self.label = probe if zero else -1
            self.low = probe + 1
            return
        if zero:
            self.high = probe
        else:
            self.low = probe + 1
        if self.low >= self.high:
            self.label = self.high if self.high < self.step_count else -1

    def result(self) -> MethodResult:
        """Return the finished suggestion with scores, cost and the search trace."""
        scores = tuple(
            (self.tallies[i].correct / self.tallies[i].drawn) if i in self.tallies else None
            for i in range(self.step_count)
        )
        return MethodResult(
            solution_id=self.task.solution_id,
            status="succeeded",
            label=self.label,
            step_scores=scores,
            rollouts=self.rollouts,
            prompt_tokens=self.prompt_tokens,
            generated_tokens=self.generated_tokens,
            details={
                "strategy": self.config.strategy,
                "rollouts_per_step": self.config.rollouts_per_step,
                "hard_label_only": self.config.hard_label_only,
                "early_stop": self.config.stops_early,
                "rollouts_per_round": self.config.rollouts_per_round,
                "rounds": self.rounds,
                "probes": list(self.probes),
                "step_rollouts": [self.tallies[i].drawn if i in self.tallies else 0 for i in range(self.step_count)],
                "step_correct": [self.tallies[i].correct if i in self.tallies else 0 for i in range(self.step_count)],
            },
        )


def _skip_reason(task: SolutionTask) -> str:
    return NO_REFERENCE if not (task.reference_answer and task.reference_answer.strip()) else NO_STEPS


def _skipped(task: SolutionTask, reason: str) -> MethodResult:
    return MethodResult(solution_id=task.solution_id, status="skipped", error=reason)


def _run_round(searches: Sequence[_Search], engine: GenerationEngine, config: MCConfig) -> None:
    """Sample every pending prefix of every search in one generate call and record the completions."""
    batch = [(search, step) for search in searches for step in search.pending()]
    prompts = [build_prompt(search.task, step + 1, config.prompt_template) for search, step in batch]
    per_prompt = config.rollouts_per_round
    generations = engine.generate(prompts, replace(config.sampling, n=per_prompt))
    if len(generations) != len(prompts):
        raise EngineError(f"engine returned {len(generations)} generations for {len(prompts)} prompts")
    for (search, step), generation in zip(batch, generations, strict=True):
        if len(generation.texts) != per_prompt:
            raise EngineError(f"engine returned {len(generation.texts)} completions, expected n={per_prompt}")
        search.record(step, generation)
    for search in {id(search): search for search, _ in batch}.values():
        search.advance()


def estimate(tasks: Sequence[SolutionTask], engine: GenerationEngine, config: MCConfig) -> list[MethodResult]:
    """Return one MC suggestion per task, in order, batching each round's prompts across all tasks.

    Tasks without a reference answer (or without steps) are skipped with the reason. Engine errors
    propagate (the caller decides whether to retry).
    """
    searches: dict[int, _Search] = {}
    for position, task in enumerate(tasks):
        if task.reference_answer and task.reference_answer.strip() and task.steps:
            searches[position] = _Search(task=task, config=config)
    while active := [search for search in searches.values() if search.label is None]:
        _run_round(active, engine, config)
    return [
        searches[position].result() if position in searches else _skipped(task, _skip_reason(task))
        for position, task in enumerate(tasks)
    ]
