"""Time-limited holds of a solution by one annotator."""

from django.conf import settings
from django.db import models

from annotations.models.solutions import Solution


class Claim(models.Model):
    """An annotator's lease on a solution; expired claims no longer count."""

    solution = models.ForeignKey(Solution, on_delete=models.CASCADE, related_name="claims")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="claims")
    claimed_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["solution", "annotator"], name="claim_unique_solution_annotator")
        ]
        indexes = [models.Index(fields=["expires_at"], name="claim_expires_idx")]

    def __str__(self) -> str:
        return f"{self.annotator} holds {self.solution_id} until {self.expires_at:%H:%M}"
