"""Process reward model scoring (Qwen2.5-Math-PRM style) and the pure helpers its engines use.

Input format (Qwen2.5-Math-PRM model card): a chat with the system prompt below, the question as the
user turn, and the assistant turn `"<extra_0>".join(steps) + "<extra_0>"`; the PRM's two-class head is
read at every separator token and the softmax probability of class 1 (positive) is the step's score.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from scoring.engines.base import EngineError, StepScoringEngine, StepScoringRequest
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

QWEN_PRM_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
DEFAULT_SEPARATOR = "<extra_0>"
NO_STEPS = "solution has no steps"


@dataclass(frozen=True)
class PRMConfig:
    """Settings of one PRM run: a step is wrong when its positive probability is below `threshold`."""

    threshold: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise MethodConfigError("threshold", "must be in (0, 1]")


class PRMInput(NamedTuple):
    """The three chat turns of one PRM input."""

    system: str
    user: str
    assistant: str

    def as_messages(self) -> list[dict[str, str]]:
        """Return the turns as chat messages for a tokenizer's chat template."""
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": self.user},
            {"role": "assistant", "content": self.assistant},
        ]


def format_prm_input(question: str, steps: Sequence[str], separator: str = DEFAULT_SEPARATOR) -> PRMInput:
    """Return the PRM chat turns: steps joined AND ended by the separator, one separator per step.

    A separator string inside a step's own text is removed, so that the number of separators always
    equals the number of steps.
    """
    cleaned = [step.replace(separator, "") for step in steps]
    return PRMInput(QWEN_PRM_SYSTEM_PROMPT, question, separator.join(cleaned) + separator)


def positive_probabilities(logits_at_separators: Sequence[Sequence[float]]) -> list[float]:
    """Return the softmax probability of the positive class (index 1) for each separator's logits."""
    probabilities: list[float] = []
    for position, logits in enumerate(logits_at_separators):
        if len(logits) < 2:
            raise ValueError(f"logits_at_separators[{position}]: need at least 2 class logits, got {len(logits)}")
        top = max(logits)
        exps = [math.exp(value - top) for value in logits]
        probabilities.append(exps[1] / sum(exps))
    return probabilities


def earliest_below(probabilities: Sequence[float], threshold: float) -> int:
    """Return the first step whose probability is below the threshold, or -1 when none is."""
    return next((i for i, p in enumerate(probabilities) if p < threshold), -1)


def _result(task: SolutionTask, probabilities: Sequence[float], prompt_tokens: int, threshold: float) -> MethodResult:
    if len(probabilities) != len(task.steps):
        return MethodResult(
            solution_id=task.solution_id,
            status="failed",
            error=f"PRM returned {len(probabilities)} scores for {len(task.steps)} steps",
            prompt_tokens=prompt_tokens,
        )
    label = earliest_below(probabilities, threshold)
    confidence = 1.0 - probabilities[label] if label >= 0 else min(probabilities)
    return MethodResult(
        solution_id=task.solution_id,
        status="succeeded",
        label=label,
        step_scores=tuple(float(p) for p in probabilities),
        confidence=confidence,
        prompt_tokens=prompt_tokens,
        details={"threshold": threshold},
    )


def score(tasks: Sequence[SolutionTask], engine: StepScoringEngine, config: PRMConfig) -> list[MethodResult]:
    """Return one PRM suggestion per task, in order, from ONE batched score_steps call.

    The label is the earliest step with probability below the threshold (-1 if none); confidence is
    1 - p(flagged step), or the lowest step probability when nothing is flagged. A task whose scores do
    not match its step count (e.g. a truncated input) fails with that message.
    """
    positions = [position for position, task in enumerate(tasks) if task.steps]
    results: dict[int, MethodResult] = {}
    if positions:
        requests = [StepScoringRequest(question=tasks[p].question, steps=tasks[p].steps) for p in positions]
        scores = engine.score_steps(requests)
        if len(scores) != len(requests):
            raise EngineError(f"engine returned {len(scores)} step scores for {len(requests)} requests")
        for position, step_scores in zip(positions, scores, strict=True):
            results[position] = _result(
                tasks[position], step_scores.probabilities, step_scores.prompt_tokens, config.threshold
            )
    return [
        results.get(position) or MethodResult(solution_id=task.solution_id, status="skipped", error=NO_STEPS)
        for position, task in enumerate(tasks)
    ]
