"""What one batch of a method did: counts by status, summed cost and the errors (tasks and runs read it)."""

from dataclasses import dataclass, field

from annotations.models import SuggestionStatus
from scoring.services.suggestions import SuggestionValues


@dataclass
class RunOutcome:
    """What one batch did: counts by status, summed cost, and the error lines of failed solutions."""

    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    rollouts: int = 0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    solution_ids: list[int] = field(default_factory=list)

    def add(self, values: SuggestionValues) -> None:
        """Count one stored suggestion."""
        if values.status == SuggestionStatus.SUCCEEDED:
            self.succeeded += 1
        elif values.status == SuggestionStatus.SKIPPED:
            self.skipped += 1
        else:
            self.failed += 1
            self.errors.append(f"solution {values.solution_id}: {values.error}")
        self.rollouts += values.rollouts
        self.prompt_tokens += values.prompt_tokens
        self.generated_tokens += values.generated_tokens
        self.solution_ids.append(values.solution_id)
