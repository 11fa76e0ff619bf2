"""Plain rows the exporters read: one solution with its final label and provenance, free of Django."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class AnnotationRecord:
    """One annotator's label for a solution, with how it was made."""

    annotator: str
    earliest_error_step: int
    rationale: str
    flag_ambiguous: bool
    flag_reference_wrong: bool
    flag_unsure: bool
    seconds_spent: float
    suggestions_visible: bool
    created_at: datetime
    updated_at: datetime
    error_type: str | None = None
    step_notes: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class SuggestionRecord:
    """One machine method's label for a solution, with the model, parameters, scores and cost."""

    method: str
    config_key: str
    engine: str
    model_name: str
    parameters: dict[str, Any]
    status: str
    error: str
    label: int | None
    step_scores: list[float | None]
    confidence: float | None
    rationale: str
    rollouts: int
    prompt_tokens: int
    generated_tokens: int
    seconds: float
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class FinalLabelRecord:
    """The accepted label of a solution and where it came from."""

    label: int
    source: str
    agreement: float | None
    decided_by: str
    decided_at: datetime
    explanation: str = ""
    error_type: str | None = None
    explanation_source: str = ""
    explanation_annotator: str = ""
    explanation_step_notes: Sequence[Mapping[str, Any]] = ()


@dataclass(frozen=True)
class JudgeCritiqueRecord:
    """A succeeded judge suggestion's critique (its rationale) and the label it voted for."""

    label: int
    critique: str
    model_name: str = ""


@dataclass(frozen=True)
class SolutionRecord:
    """One solution as the exporters see it.

    `id` is the solution's external id, else `solution-<pk>`; `problem_key` identifies its problem
    (the unit of splitting: all solutions of one problem land in the same split). `judge_critiques`
    (read for the critic formats) are newest first.
    """

    id: str
    solution_id: int
    problem_key: str
    problem: str
    steps: Sequence[str]
    generator: str = ""
    subset: str = ""
    reference_answer: str = ""
    final_answer: str = ""
    final_answer_correct: bool | None = None
    imported_label: int | None = None
    final_label: FinalLabelRecord | None = None
    annotations: Sequence[AnnotationRecord] = field(default_factory=tuple)
    suggestions: Sequence[SuggestionRecord] = field(default_factory=tuple)
    judge_critiques: Sequence[JudgeCritiqueRecord] = field(default_factory=tuple)


def training_steps(steps: Sequence[str], label: int) -> tuple[list[str], list[bool]]:
    """Return the steps a training export keeps and each one's correctness.

    Steps up to and including the earliest error are kept: those before it are correct, the error step
    is wrong, later steps are dropped. A solution with label -1 keeps every step, all correct.
    """
    if not -1 <= label < len(steps):
        raise ValueError(f"label {label} is not -1 or a step index of a {len(steps)}-step solution")
    if label == -1:
        return list(steps), [True] * len(steps)
    return list(steps[: label + 1]), [True] * label + [False]
