"""Admin pages, built to stay fast with 100,000 solutions: no per-row queries, raw-id pickers."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from annotations.admin_exports import export_download_links, export_labels, export_labels_default, export_zip_link
from annotations.admin_review import mark_gold, reapply_triage, unmark_gold
from annotations.critique import default_error_types
from annotations.models import (
    Annotation,
    Claim,
    Dataset,
    DatasetMembership,
    Export,
    FinalLabel,
    FinalLabelChange,
    Problem,
    Solution,
    Suggestion,
)
from annotations.services.datasets import removed_error_types_errors
from annotations.validators import validate_error_types, validate_scoring_methods


class FastAdmin(admin.ModelAdmin):
    """Skip the unfiltered COUNT(*) on large tables and paginate modestly."""

    show_full_result_count = False
    list_per_page = 50


class MembershipInline(admin.TabularInline):
    model = DatasetMembership
    raw_id_fields = ("user",)
    extra = 0


class DatasetAdminForm(forms.ModelForm):
    """The dataset form, refusing what the API refuses: bad `scoring_methods` or `error_types`, used types dropped."""

    def clean_scoring_methods(self) -> Any:
        value = self.cleaned_data.get("scoring_methods")
        if value is None:  # an emptied field means "no methods", not JSON null
            return []
        validate_scoring_methods(value)
        return value

    def clean_error_types(self) -> Any:
        value = self.cleaned_data.get("error_types")
        if value in (None, "", []):  # an emptied (or absent) field means the default taxonomy
            value = default_error_types()
        validate_error_types(value)
        if self.instance.pk is not None:
            in_use = removed_error_types_errors(dataset=self.instance, taxonomy=value)
            if in_use:
                raise forms.ValidationError(in_use)
        return value


@admin.register(Dataset)
class DatasetAdmin(FastAdmin):
    form = DatasetAdminForm
    list_display = ("name", "slug", "annotations_per_solution", "max_annotations", "triage_mode", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    raw_id_fields = ("created_by",)
    actions = (export_labels, export_labels_default, reapply_triage)


@admin.register(DatasetMembership)
class DatasetMembershipAdmin(FastAdmin):
    list_display = ("user", "dataset", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "dataset")
    search_fields = ("user__username", "dataset__slug")
    raw_id_fields = ("user", "dataset")


@admin.register(Problem)
class ProblemAdmin(FastAdmin):
    list_display = ("id", "short_text", "dataset", "reference_answer", "created_at")
    list_select_related = ("dataset",)
    list_filter = ("dataset",)
    search_fields = ("text", "reference_answer")
    raw_id_fields = ("dataset",)
    readonly_fields = ("content_hash",)

    @admin.display(description="text")
    def short_text(self, obj: Problem) -> str:
        return obj.text[:80]


class AnnotationInline(admin.TabularInline):
    model = Annotation
    raw_id_fields = ("annotator",)
    readonly_fields = ("created_at", "updated_at")
    extra = 0


class SuggestionInline(admin.TabularInline):
    model = Suggestion
    fields = ("method", "config_key", "status", "label", "model_name", "rollouts", "generated_tokens", "seconds")
    readonly_fields = fields
    extra = 0
    can_delete = False


class FinalLabelChangeInline(admin.TabularInline):
    model = FinalLabelChange
    fk_name = "solution"
    fields = ("changed_at", "changed_by", "from_label", "to_label", "from_source", "to_source", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Solution)
class SolutionAdmin(FastAdmin):
    list_display = (
        "id",
        "external_id",
        "dataset",
        "generator",
        "subset",
        "num_steps",
        "status",
        "annotation_count",
        "imported_label",
        "final_answer_correct",
        "is_gold",
        "created_at",
    )
    list_select_related = ("dataset",)
    list_filter = ("status", "is_gold", "final_answer_correct", "subset", "dataset")
    search_fields = ("external_id", "=content_hash", "generator")
    raw_id_fields = ("dataset", "problem")
    readonly_fields = ("content_hash", "num_steps", "annotation_count", "created_at")
    inlines = (AnnotationInline, SuggestionInline, FinalLabelChangeInline)
    actions = (mark_gold, unmark_gold)


@admin.register(Annotation)
class AnnotationAdmin(FastAdmin):
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
    raw_id_fields = ("solution", "annotator")


@admin.register(Suggestion)
class SuggestionAdmin(FastAdmin):
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
    raw_id_fields = ("solution",)


@admin.register(FinalLabel)
class FinalLabelAdmin(FastAdmin):
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
    raw_id_fields = ("solution", "decided_by", "explanation_annotation", "explanation_suggestion")


@admin.register(FinalLabelChange)
class FinalLabelChangeAdmin(FastAdmin):
    list_display = ("solution", "from_label", "to_label", "from_source", "to_source", "changed_by", "changed_at")
    list_select_related = ("solution", "changed_by")
    list_filter = ("to_source",)
    search_fields = ("solution__external_id", "reason")
    raw_id_fields = ("solution", "changed_by")

    # The history is written by services only; nobody edits or deletes it by hand.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: FinalLabelChange | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: FinalLabelChange | None = None) -> bool:
        return False


@admin.register(Claim)
class ClaimAdmin(FastAdmin):
    list_display = ("solution", "annotator", "claimed_at", "expires_at")
    list_select_related = ("solution", "annotator")
    raw_id_fields = ("solution", "annotator")


@admin.register(Export)
class ExportAdmin(FastAdmin):
    list_display = (
        "id",
        "dataset",
        "format",
        "file_format",
        "critique_source",
        "status",
        "rows_done",
        "rows_total",
        "created_by",
        "created_at",
        export_zip_link,
    )
    list_select_related = ("dataset", "created_by")
    list_filter = ("status", "format")
    raw_id_fields = ("dataset", "created_by")
    readonly_fields = ("download",)

    @admin.display(description="download")
    def download(self, obj: Export) -> str:
        return export_download_links(obj)
