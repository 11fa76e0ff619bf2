"""Admin for scoring runs."""

from django.contrib import admin

from scoring.models import ScoringRun


@admin.register(ScoringRun)
class ScoringRunAdmin(admin.ModelAdmin):
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
    raw_id_fields = ("dataset", "created_by")
    show_full_result_count = False
