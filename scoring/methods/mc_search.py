"""The search state of MC estimation for one solution: which prefixes to sample, what they scored, the verdict.

A prefix's verdict is positive when at least one rollout (first `\\boxed{}` of the completion) matched the
reference, zero otherwise; a prefix that already states a boxed answer is decided by it without rollouts.

`binary` with `confirm` (the default strategy): once the search converges on a boundary (the last positive
prefix L-1 and the first zero prefix L), each sampled boundary prefix gets one more round of rollouts, and
that confirmation round decides its verdict. A lucky positive after the error (a policy recovering by
chance) or a false zero before it (a hard problem) is caught there; the bounds are then rebuilt from the
verdicts and the search goes on until a boundary is confirmed. Each prefix is confirmed at most once.
"""

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from prmweb.core.answers import answers_equivalent, extract_boxed_in, extract_first_boxed
from scoring.engines.base import Generation
from scoring.methods.base import MethodResult, SolutionTask

if TYPE_CHECKING:
    from scoring.methods.mc import MCConfig


@dataclass
class Tally:
    """The rollouts of one prefix: a first round and, once confirmed, a confirmation round."""

    drawn: int = 0
    correct: int = 0
    unboxed: int = 0
    truncated: int = 0
    decided: bool = False
    confirming: bool = False
    confirm_drawn: int = 0
    confirm_correct: int = 0

    @property
    def round_counts(self) -> tuple[int, int]:
        """Return (drawn, correct) of the round that decides: the confirmation round once there is one."""
        return (self.confirm_drawn, self.confirm_correct) if self.confirming else (self.drawn, self.correct)

    @property
    def positive(self) -> bool:
        """Return the verdict: the confirmation round's when there is one, else the first round's."""
        return self.round_counts[1] > 0

    def score(self) -> float | None:
        """Return the share of correct rollouts of the deciding round (1 or 0 when decided by the prefix)."""
        if self.decided:
            return float(self.correct)
        drawn, correct = self.round_counts
        return correct / drawn if drawn else None


@dataclass
class PrefixSearch:
    """Search state of one solution: which prefixes are sampled, what they scored, and the verdict."""

    task: SolutionTask
    config: "MCConfig"
    tallies: dict[int, Tally] = field(default_factory=dict)
    low: int = 0
    high: int = 0
    label: int | None = None
    error: str = ""
    probes: list[int] = field(default_factory=list)
    confirming: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
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

    @property
    def done(self) -> bool:
        return self.label is not None or bool(self.error)

    @property
    def _every_prefix(self) -> bool:
        return self.config.strategy == "linear" and not self.config.hard_label_only

    def pending(self) -> list[int]:
        """Return the prefixes (last step index) to sample in the next round."""
        if self.done:
            return []
        if self._every_prefix:
            return [i for i in range(self.step_count) if i not in self.tallies]
        if self.confirming:
            return [step for step in self.confirming if not self._resolved(step)]
        probe = self.low if self.config.strategy == "linear" else (self.low + self.high) // 2
        if probe not in self.probes:
            self.probes.append(probe)
        return [probe]

    def decide_by_prefix(self, step: int) -> bool:
        """Score a prefix that already states a boxed answer by that answer (no rollout); return if it did."""
        if step in self.tallies:
            return self.tallies[step].decided
        answer = extract_boxed_in(self.task.steps[: step + 1])
        if answer is None:
            return False
        self.tallies[step] = Tally(correct=int(self._verdict(answer)), decided=True)
        return True

    def record(self, step: int, generation: Generation) -> None:
        """Count one prefix's completions, the correct ones (first boxed answer) and the unboxed/truncated ones."""
        if generation.error:  # not served: no cost; the first failing prefix names the reason
            self.error = self.error or f"rollouts after step {step + 1}: {generation.error}"
            return
        self.prompt_tokens += generation.prompt_tokens
        self.generated_tokens += generation.generated_tokens
        tally = self.tallies.setdefault(step, Tally())
        reasons = generation.finish_reasons or ("stop",) * len(generation.texts)
        for text, reason in zip(generation.texts, reasons, strict=True):
            answer = extract_first_boxed(text)
            right = answer is not None and self._verdict(answer)
            tally.unboxed += answer is None
            tally.truncated += reason == "length"
            if tally.confirming:
                tally.confirm_drawn += 1
                tally.confirm_correct += right
            else:
                tally.drawn += 1
                tally.correct += right
        self.rollouts += len(generation.texts)

    def _verdict(self, answer: str) -> bool:
        if answer not in self.verdicts:
            self.verdicts[answer] = answers_equivalent(answer, self.task.reference_answer or "")
        return self.verdicts[answer]

    def _resolved(self, step: int) -> bool:
        tally = self.tallies.get(step)
        if tally is None:
            return False
        drawn, correct = tally.round_counts
        return tally.decided or drawn >= self.config.rollouts_per_step or (self.config.stops_early and correct > 0)

    def advance(self) -> None:
        """Move the search on after a round; set `label` once the earliest zero prefix is known (and confirmed)."""
        self.rounds += 1
        if self.error:
            return
        if self._every_prefix:
            zeros = [i for i in range(self.step_count) if not self.tallies[i].positive]
            self.label = zeros[0] if zeros else -1
            return
        if self.confirming:
            if all(self._resolved(step) for step in self.confirming):
                self.confirmed.extend(self.confirming)
                self.confirming = []
                self._rebound()
        elif self._resolved(probe := self.probes[-1]):
            self._step(probe, self.tallies[probe].positive)
        if not self.confirming and self.low >= self.high and self.label is None:
            self._settle()

    def _step(self, probe: int, positive: bool) -> None:
        if self.config.strategy == "linear":
            if not positive or probe + 1 == self.step_count:
                self.label = -1 if positive else probe
            self.low = probe + 1
            return
        if positive:
            self.low = probe + 1
        else:
            self.high = probe

    def _settle(self) -> None:
        """Confirm the boundary prefixes once (binary with `confirm`), else give the label."""
        if self.config.strategy == "binary" and self.config.confirm:
            boundary = (self.high - 1, self.high)
            targets = [step for step in boundary if self._confirmable(step)]
            if targets:
                for step in targets:
                    self.tallies[step].confirming = True
                self.confirming = targets
                return
        self.label = self.high if self.high < self.step_count else -1

    def _confirmable(self, step: int) -> bool:
        tally = self.tallies.get(step)
        return tally is not None and not tally.decided and not tally.confirming

    def _rebound(self) -> None:
        """Rebuild the search bounds from the verdicts after a confirmation round."""
        self.high = min((step for step, tally in self.tallies.items() if not tally.positive), default=self.step_count)
        positives = [step + 1 for step, tally in self.tallies.items() if tally.positive and step < self.high]
        self.low = max(positives, default=0)

    def details(self) -> dict[str, Any]:
        """Return the search trace, the per-step tallies and the answer-check tallies."""
        tallies = [self.tallies.get(i, Tally()) for i in range(self.step_count)]
        return {
            "strategy": self.config.strategy,
            "rollouts_per_step": self.config.rollouts_per_step,
            "hard_label_only": self.config.hard_label_only,
            "early_stop": self.config.stops_early,
            "confirm": self.config.confirm,
            "rollouts_per_round": self.config.rollouts_per_round,
            "prompt_format": self.config.prompt_format,
            "rounds": self.rounds,
            "probes": list(self.probes),
            "confirmed": list(self.confirmed),
            "step_rollouts": [tally.drawn + tally.confirm_drawn for tally in tallies],
            "step_correct": [tally.correct + tally.confirm_correct for tally in tallies],
            "decided_by_prefix": [i for i, tally in enumerate(tallies) if tally.decided],
            "unboxed": sum(tally.unboxed for tally in tallies),
            "truncated": sum(tally.truncated for tally in tallies),
        }

    def result(self) -> MethodResult:
        """Return the finished suggestion (or the failure) with scores, cost and the search trace."""
        return MethodResult(
            solution_id=self.task.solution_id,
            status="failed" if self.error else "succeeded",
            label=None if self.error else self.label,
            step_scores=tuple(self.tallies[i].score() if i in self.tallies else None for i in range(self.step_count)),
            error=self.error,
            rollouts=self.rollouts,
            prompt_tokens=self.prompt_tokens,
            generated_tokens=self.generated_tokens,
            details=self.details(),
        )
