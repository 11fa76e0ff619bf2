"""Export jobs: one row per export, so it can be found, watched and downloaded again."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from annotations.models.datasets import Dataset


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Export(models.Model):
    """A dataset export in one format with its filters, progress and resulting files."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="exports")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    format = models.CharField(max_length=30)
    file_format = models.CharField(max_length=20, default="jsonl")
    filters = models.JSONField(default=dict, blank=True)
    split_ratios = models.JSONField(default=dict, blank=True)
    seed = models.IntegerField(default=0)
    critique_source = models.CharField(
        max_length=10, blank=True, help_text="critique and step_feedback: human, judge or both."
    )
    status = models.CharField(max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    row_counts = models.JSONField(default=dict, blank=True, help_text="Rows per split.")
    files = models.JSONField(default=list, blank=True, help_text="Relative paths with sha256 and size.")
    output_dir = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rows_done__lte=models.F("rows_total")) | Q(rows_total=0), name="export_progress_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dataset} · {self.format} ({self.status})"
