"""Annotations, suggestions, final labels, their history and claims in the admin: read-only.

People's labels come from the workbench, machines' from the workers, final labels from the protocol,
reviewers and the solution actions; claims are released by the periodic task or the action below, which
imports its service when it runs (Django imports every admin module at start-up, issue #16).
"""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from annotations.admin.base import ReadOnlyAdmin, report, user_may
from annotations.models import Annotation, Claim, FinalLabel, FinalLabelChange, Suggestion


@admin.register(Annotation)
class AnnotationAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "solution",
        "annotator",
        "earliest_error_step",
        "error_type",
        "seconds_spent",
        "suggestions_visible",
        "flag_ambiguous",
        "flag_reference_wrong",
        "flag_unsure",
        "created_at",
    )
    list_select_related = ("solution", "annotator")
    list_filter = (
        "suggestions_visible",
        "flag_unsure",
        "flag_ambiguous",
        "flag_reference_wrong",
        "error_type",
        "solution__dataset",
    )
    search_fields = ("annotator__username", "solution__external_id", "rationale")


@admin.register(Suggestion)
class SuggestionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "solution",
        "method",
        "config_key",
        "status",
        "label",
        "model_name",
        "rollouts",
        "generated_tokens",
        "seconds",
        "updated_at",
    )
    list_select_related = ("solution",)
    list_filter = ("method", "status", "engine")
    search_fields = ("solution__external_id", "model_name", "error")


@admin.register(FinalLabel)
class FinalLabelAdmin(ReadOnlyAdmin):
    """Final labels change through the solution actions (set final label, reopen, gold), never here."""

    list_display = (
        "solution",
        "label",
        "source",
        "agreement",
        "error_type",
        "explanation_source",
        "decided_by",
        "decided_at",
    )
    list_select_related = ("solution", "decided_by")
    list_filter = ("source", "explanation_source", "error_type", "solution__dataset")
    search_fields = ("solution__external_id", "explanation")


@admin.register(FinalLabelChange)
class FinalLabelChangeAdmin(ReadOnlyAdmin):
    """The history is written by services only; it outlives deleted solutions (`solution_ref`)."""

    list_display = (
        "solution_ref",
        "dataset",
        "from_label",
        "to_label",
        "from_source",
        "to_source",
        "changed_by",
        "changed_at",
    )
    list_select_related = ("dataset", "changed_by")
    list_filter = ("to_source", "dataset")
    search_fields = ("solution_ref", "reason")


@admin.action(description="Release (the solutions go back to the queue)", permissions=["release"])
def release_claims(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Claim]) -> None:
    from annotations.services.claims import claim_release

    released = sum(
        claim_release(solution_id=claim.solution_id, annotator=claim.annotator)  # type: ignore[arg-type]
        for claim in queryset.select_related("annotator")
    )
    report(request, f"{released} claim(s) released.")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ("solution", "annotator", "claimed_at", "expires_at")
    list_select_related = ("solution", "annotator")
    actions = (release_claims,)

    def has_release_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "annotations.delete_claim")
