"""Admin for scoring runs: read-only (runs are started over the API or by `score_solutions`)."""

from django.contrib import admin

from annotations.admin.base import ReadOnlyAdmin
from scoring.models import ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "dataset",
        "method",
        "status",
        "total",
        "succeeded",
        "failed",
        "skipped",
        "rollouts",
        "generated_tokens",
        "seconds",
        "created_at",
    )
    list_select_related = ("dataset",)
    list_filter = ("status", "method")
