"""Plain data shared by every suggestion method; no Django here.

A method takes a batch of `SolutionTask`s (one per solution) and returns one `MethodResult` per task,
in order. Methods that need a model receive an engine (see `scoring.engines.base`) and batch every
prompt of a round into one engine call, across all the solutions of the batch.
"""

from dataclasses import dataclass, field
from typing import Any, Literal

ResultStatus = Literal["succeeded", "skipped", "failed"]


@dataclass(frozen=True)
class SolutionTask:
    """What a method needs to know about one solution."""

    solution_id: int
    question: str
    steps: tuple[str, ...]
    reference_answer: str | None = None


@dataclass(frozen=True)
class MethodResult:
    """One method's verdict on one solution, with per-step scores, rationale and cost.

    `label` is the earliest erroneous step (0-based) or -1 when all steps look correct; it is None when
    the method produced no label (skipped, failed, or no consensus). `step_scores` holds one entry per
    step, each a probability in [0, 1] or None when that step was not scored.
    """

    solution_id: int
    status: ResultStatus
    label: int | None = None
    step_scores: tuple[float | None, ...] = ()
    confidence: float | None = None
    rationale: str = ""
    error: str = ""
    rollouts: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    details: dict[str, Any] = field(default_factory=dict)


class MethodConfigError(ValueError):
    """A method configuration value is invalid; `field` names the offending setting."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
