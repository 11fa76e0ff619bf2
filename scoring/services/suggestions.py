"""Write suggestions: validated upserts, one row per (solution, method, configuration key).

Running a method twice updates the same rows (never duplicates them): every write is an upsert on the
database's unique constraint `suggestion_unique_config`.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone

from annotations.models import Solution, Suggestion, SuggestionStatus
from prmweb.core.redaction import redact_addresses
from prmweb.errors import ApplicationError

UPDATE_FIELDS = [
    "engine",
    "model_name",
    "parameters",
    "status",
    "error",
    "label",
    "step_count",
    "step_scores",
    "confidence",
    "rationale",
    "rollouts",
    "prompt_tokens",
    "generated_tokens",
    "seconds",
    "updated_at",
]
MAX_ERROR_CHARS = 5000
MAX_RATIONALE_CHARS = 100_000


@dataclass(frozen=True)
class SuggestionValues:
    """Everything stored for one suggestion of one solution."""

    solution_id: int
    step_count: int
    status: str
    label: int | None = None
    step_scores: Sequence[float | None] = ()
    confidence: float | None = None
    rationale: str = ""
    error: str = ""
    engine: str = ""
    model_name: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    rollouts: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0


def _probability_error(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return "must be a number in [0, 1] or null"
    return None if 0.0 <= value <= 1.0 else f"{value} is outside [0, 1]"


def validate_suggestion_values(values: SuggestionValues) -> dict[str, list[str]]:
    """Return {field: [messages]} for everything wrong with a suggestion (empty when valid)."""
    errors: dict[str, list[str]] = {}
    if values.status not in SuggestionStatus.values:
        errors["status"] = [f"must be one of {', '.join(SuggestionStatus.values)}"]
    if values.label is not None and not -1 <= values.label < values.step_count:
        errors["label"] = [f"must be -1 or a step index from 0 to {values.step_count - 1}"]
    if values.step_scores and len(values.step_scores) != values.step_count:
        errors["step_scores"] = [f"has {len(values.step_scores)} scores for {values.step_count} steps"]
    for index, score in enumerate(values.step_scores):
        if message := _probability_error(score):
            errors[f"step_scores[{index}]"] = [message]
    if message := _probability_error(values.confidence):
        errors["confidence"] = [message]
    for name in ("rollouts", "prompt_tokens", "generated_tokens", "seconds"):
        if getattr(values, name) < 0:
            errors[name] = ["must not be negative"]
    return errors


def _row(values: SuggestionValues, method: str, config_key: str) -> Suggestion:
    return Suggestion(
        solution_id=values.solution_id,
        method=method,
        config_key=config_key,
        engine=values.engine[:30],
        model_name=values.model_name[:300],
        parameters=values.parameters,
        status=values.status,
        error=redact_addresses(values.error)[:MAX_ERROR_CHARS],
        label=values.label,
        step_count=values.step_count,
        step_scores=[None if score is None else float(score) for score in values.step_scores],
        confidence=values.confidence,
        rationale=values.rationale[:MAX_RATIONALE_CHARS],
        rollouts=values.rollouts,
        prompt_tokens=values.prompt_tokens,
        generated_tokens=values.generated_tokens,
        seconds=values.seconds,
        updated_at=timezone.now(),
    )


def suggestions_upsert(*, method: str, config_key: str, rows: Sequence[SuggestionValues]) -> None:
    """Insert or update many suggestions in one statement; raise ApplicationError before writing any bad row.

    Idempotent: the same values written twice leave one row per (solution, method, config_key).
    """
    for values in rows:
        if errors := validate_suggestion_values(values):
            raise ApplicationError(
                f"Invalid {method} suggestion for solution {values.solution_id}.",
                errors={f"{values.solution_id}.{name}": messages for name, messages in errors.items()},
            )
    Suggestion.objects.bulk_create(
        [_row(values, method, config_key) for values in rows],
        update_conflicts=True,
        unique_fields=["solution", "method", "config_key"],
        update_fields=UPDATE_FIELDS,
    )


def suggestion_upsert(*, solution: Solution, method: str, config_key: str, values: SuggestionValues) -> Suggestion:
    """Insert or update one suggestion (validated: label range, scores and confidence in [0, 1]); return it."""
    if values.solution_id != solution.pk:
        raise ApplicationError("The values belong to another solution.", errors={"solution_id": ["does not match"]})
    suggestions_upsert(method=method, config_key=config_key, rows=[values])
    return Suggestion.objects.get(solution=solution, method=method, config_key=config_key)


@transaction.atomic
def suggestions_mark(
    *, method: str, config_key: str, solutions: Sequence[Solution], status: str, error: str = ""
) -> None:
    """Set the status of these solutions' suggestions (creating the missing rows), keeping stored results."""
    now = timezone.now()
    error = redact_addresses(error)
    Suggestion.objects.filter(
        method=method, config_key=config_key, solution_id__in=[solution.pk for solution in solutions]
    ).update(status=status, error=error[:MAX_ERROR_CHARS], updated_at=now)
    Suggestion.objects.bulk_create(
        [
            Suggestion(
                solution_id=solution.pk,
                method=method,
                config_key=config_key,
                status=status,
                error=error[:MAX_ERROR_CHARS],
                step_count=solution.num_steps,
                updated_at=now,
            )
            for solution in solutions
        ],
        ignore_conflicts=True,
    )
