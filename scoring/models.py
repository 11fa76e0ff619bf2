"""Scoring runs: one row per batch job of a method over a dataset, with progress and cost."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models import Dataset


class ScoringRunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class ScoringRun(models.Model):
    """A method run over (part of) a dataset; progress and total cost visible in admin and the API."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="scoring_runs")
    method = models.CharField(max_length=30)
    config_key = models.CharField(max_length=64, default="default")
    parameters = models.JSONField(default=dict, blank=True)
    force = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=ScoringRunStatus.choices, default=ScoringRunStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    succeeded = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    errors = models.TextField(blank=True)
    rollouts = models.PositiveBigIntegerField(default=0)
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    generated_tokens = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total=0) | Q(total__gte=models.F("succeeded") + models.F("failed") + models.F("skipped")),
                name="scoring_run_progress_valid",
            ),
            models.CheckConstraint(condition=Q(seconds__gte=0), name="scoring_run_seconds_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.method} on {self.dataset} ({self.status})"

    @property
    def done(self) -> int:
        return self.succeeded + self.failed + self.skipped
