"""Process reward model scoring (Qwen2.5-Math-PRM style): thresholds over per-step probabilities.

The engine builds the PRM's input (`scoring.engines.prm_input`: the Qwen2.5-Math-PRM chat format, steps
joined and ended by the separator token, or plain text when `prompt_format="text"`); the PRM's two-class
head is read at every separator token and the softmax probability of class 1 (positive) is the step's
score. A step is wrong when its probability is below the threshold.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scoring.engines.base import (
    PROMPT_FORMATS,
    EngineError,
    PromptFormat,
    StepScores,
    StepScoringEngine,
    StepScoringRequest,
)
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

NO_STEPS = "solution has no steps"


@dataclass(frozen=True)
class PRMConfig:
    """Settings of one PRM run: a step is wrong when its positive probability is below `threshold`.

    `prompt_format` is `chat` (the tokenizer's chat template, as the Qwen2.5-Math-PRM model card) or
    `text` (for a PRM without a chat template, e.g. a TRL token classifier).
    """

    threshold: float = 0.5
    prompt_format: PromptFormat = "chat"

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise MethodConfigError("threshold", "must be in (0, 1]")
        if self.prompt_format not in PROMPT_FORMATS:
            raise MethodConfigError("prompt_format", f"must be 'chat' or 'text', not {self.prompt_format!r}")


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


def _result(task: SolutionTask, scores: StepScores, config: PRMConfig) -> MethodResult:
    probabilities, prompt_tokens = scores.probabilities, scores.prompt_tokens
    if scores.error or len(probabilities) != len(task.steps):
        error = scores.error or f"PRM returned {len(probabilities)} scores for {len(task.steps)} steps"
        return MethodResult(solution_id=task.solution_id, status="failed", error=error, prompt_tokens=prompt_tokens)
    label = earliest_below(probabilities, config.threshold)
    confidence = 1.0 - probabilities[label] if label >= 0 else min(probabilities)
    return MethodResult(
        solution_id=task.solution_id,
        status="succeeded",
        label=label,
        step_scores=tuple(float(p) for p in probabilities),
        confidence=confidence,
        prompt_tokens=prompt_tokens,
        details={"threshold": config.threshold, "prompt_format": config.prompt_format},
    )


def score(tasks: Sequence[SolutionTask], engine: StepScoringEngine, config: PRMConfig) -> list[MethodResult]:
    """Return one PRM suggestion per task, in order, from ONE batched score_steps call.

    The label is the earliest step with probability below the threshold (-1 if none); confidence is
    1 - p(flagged step), or the lowest step probability when nothing is flagged. A task the engine could
    not score (longer than the context) or whose scores do not match its step count fails with that
    message; the other tasks of the batch are unaffected.
    """
    positions = [position for position, task in enumerate(tasks) if task.steps]
    results: dict[int, MethodResult] = {}
    if positions:
        requests = [StepScoringRequest(tasks[p].question, tasks[p].steps, config.prompt_format) for p in positions]
        scores = engine.score_steps(requests)
        if len(scores) != len(requests):
            raise EngineError(f"engine returned {len(scores)} step scores for {len(requests)} requests")
        for position, step_scores in zip(positions, scores, strict=True):
            results[position] = _result(tasks[position], step_scores, config)
    return [
        results.get(position) or MethodResult(solution_id=task.solution_id, status="skipped", error=NO_STEPS)
        for position, task in enumerate(tasks)
    ]
