"""The one interface every inference engine implements; methods depend on this, never on an engine.

Engines know nothing of methods: they turn batches of prompts into sampled completions, and batches of
(question, steps) into per-step PRM probabilities. Results are small frozen dataclasses.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings for one generate call (vLLM's default max_tokens is 16: always set it)."""

    n: int = 1
    max_tokens: int = 1024
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True)
class Generation:
    """The completions sampled for one prompt, with token counts for cost accounting."""

    texts: tuple[str, ...]
    prompt_tokens: int = 0
    generated_tokens: int = 0


@dataclass(frozen=True)
class StepScoringRequest:
    """One solution to score with a PRM: the question and its ordered steps."""

    question: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class StepScores:
    """Per-step probability that the step is correct (positive class), one per step."""

    probabilities: tuple[float, ...]
    prompt_tokens: int = 0


@dataclass(frozen=True)
class EngineInfo:
    """What produced a suggestion: recorded with it."""

    engine: str
    model_name: str
    extra: dict[str, object] = field(default_factory=dict)


class EngineError(Exception):
    """An engine failed permanently (bad configuration, bad model): do not retry."""


class TransientEngineError(EngineError):
    """An engine failed in a way worth retrying (timeout, 429/503, connection reset)."""


@runtime_checkable
class GenerationEngine(Protocol):
    """Samples completions for a batch of prompts in one call."""

    info: EngineInfo

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt, in order, each with `params.n` texts."""
        ...


@runtime_checkable
class StepScoringEngine(Protocol):
    """Scores every step of a batch of solutions with a process reward model in one call."""

    info: EngineInfo

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        """Return one StepScores per request, in order, with one probability per step."""
        ...
