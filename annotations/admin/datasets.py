"""Datasets and memberships in the admin, saved through the services the API uses.

A dataset's form saves with `dataset_create` (its creator becomes its manager) or `dataset_update`;
memberships with `membership_set` and `membership_remove` (never the last manager). Solutions come in
through the "Ingest solutions" action (`solutions_ingest_json`, recording who ingested them). The actions
import their services when they run: Django imports every admin module at start-up (issue #16).
"""

import json
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from annotations import suggestion_methods
from annotations.admin.base import (
    FastAdmin,
    ReadOnlyInline,
    add_service_errors,
    admin_user,
    form_action,
    report,
    run_for_each,
    user_may,
)
from annotations.admin.exports import export_labels, export_labels_default
from annotations.critique import default_error_types
from annotations.models import Dataset, DatasetMembership
from annotations.services.datasets import (
    DATASET_SETTINGS_FIELDS,
    dataset_create,
    dataset_update,
    membership_remove,
    membership_set,
)
from annotations.validators import segmentation_errors
from prmweb.errors import ApplicationError


def _method_choices() -> list[tuple[str, str]]:
    return [
        (method.name, f"{method.name}: {method.title}. {method.role}")
        for method in suggestion_methods.registered_methods()
    ]


class ServiceModelForm(forms.ModelForm):
    """A model form whose valid data is saved by a service (`save_with_service`); its errors become the form's."""

    user: Any = None  # the admin sets the requesting user

    def save_with_service(self) -> Any:
        raise NotImplementedError

    def full_clean(self) -> None:
        super().full_clean()
        if not self.is_bound or self.errors:
            return
        try:
            self.instance = self.save_with_service()
        except ApplicationError as error:
            add_service_errors(self, error, fields={})


class DatasetAdminForm(ServiceModelForm):
    """A dataset's settings; the suggestion methods are those the scoring app registered."""

    scoring_methods = forms.MultipleChoiceField(
        choices=_method_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Prefilled for every new solution, after ingestion.",
    )

    class Meta:
        model = Dataset
        fields = DATASET_SETTINGS_FIELDS

    def clean_error_types(self) -> Any:
        value = self.cleaned_data.get("error_types")
        return default_error_types() if value in (None, "", []) else value  # emptied: the default taxonomy

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        segmentation, pattern = cleaned.get("segmentation"), cleaned.get("segmentation_pattern", "")
        if segmentation is not None and "segmentation_pattern" not in self.errors:
            for name, messages in segmentation_errors(segmentation, pattern).items():
                self.add_error(name, messages)  # before the model's check constraint words it less clearly
        return cleaned

    def save_with_service(self) -> Dataset:
        values = {name: self.cleaned_data[name] for name in DATASET_SETTINGS_FIELDS if name in self.cleaned_data}
        if self.instance.pk is None:
            return dataset_create(user=self.user, **values)
        return dataset_update(dataset=self.instance, **values)


class IngestForm(forms.Form):
    solutions = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "cols": 100}),
        help_text="One solution object or a JSON array of them, as the API takes them (problem, steps, id, ...).",
    )
    file = forms.FileField(required=False, help_text="Or a JSON file holding the same.")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        text, upload = cleaned.get("solutions") or "", cleaned.get("file")
        if bool(text.strip()) == bool(upload):
            raise forms.ValidationError("Paste the solutions or choose a file (one of the two).")
        field = "solutions" if text.strip() else "file"
        cleaned["payload"] = _decode(self, field, text if text.strip() else _read(upload))
        return cleaned


def _read(upload: Any) -> str:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0
    if limit and upload.size > limit:
        raise forms.ValidationError(
            {"file": f"The file is over {limit} bytes; import it with the import_solutions command."}
        )
    try:
        return str(upload.read().decode("utf-8"))
    except UnicodeDecodeError as error:
        raise forms.ValidationError({"file": f"Not UTF-8 text (byte {error.start})."}) from None


def _decode(form: forms.Form, field: str, text: str) -> Any:
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise forms.ValidationError({field: "Not valid JSON: nested too deeply."}) from None
    except ValueError as error:
        raise forms.ValidationError({field: f"Not valid JSON: {error}."}) from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


@admin.action(description="Ingest solutions… (paste JSON or choose a file)", permissions=["add"])
def ingest_solutions(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Dataset]) -> Any:
    """Ingest solutions into one dataset as the API does (validated, deduplicated, all or nothing)."""
    from annotations.services.ingestion import solutions_ingest_json

    if queryset[:2].count() != 1:
        messages.error(request, "Choose exactly one dataset to ingest solutions into.")
        return None
    user = admin_user(request)

    def apply(data: dict[str, Any], datasets: list[Dataset]) -> str:
        result = solutions_ingest_json(dataset=datasets[0], payload=data["payload"], user=user)
        return f"{datasets[0].name}: {result.created} solution(s) created, {result.existing} already there."

    intro = "All or nothing: one invalid solution stores none; solutions already in the dataset are left as they are."
    page = {"action": "ingest_solutions", "intro": intro, "submit": "Ingest"}
    return form_action(modeladmin, request, queryset, form_class=IngestForm, apply=apply, page=page)


@admin.action(description="Re-apply triage (after changing triage mode or audit rate)", permissions=["change"])
def reapply_triage(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
    from annotations.services.agreement import dataset_triage

    for dataset in queryset:
        seen = dataset_triage(dataset=dataset)
        report(request, f"{dataset.name}: triage applied to {seen} solution(s) without annotations.")


class MembershipInline(ReadOnlyInline):
    """Members, shown; changed under Dataset memberships (so the last manager always stays)."""

    model = DatasetMembership
    fields = ("user", "role", "created_at")


@admin.register(Dataset)
class DatasetAdmin(FastAdmin):
    form = DatasetAdminForm
    list_display = ("name", "slug", "annotations_per_solution", "max_annotations", "triage_mode", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)
    actions = (ingest_solutions, export_labels, export_labels_default, reapply_triage)

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"user": request.user})

    def save_model(self, request: HttpRequest, obj: Dataset, form: Any, change: bool) -> None:
        """Do nothing: the form saved the dataset through its service."""


class MembershipAdminForm(ServiceModelForm):
    class Meta:
        model = DatasetMembership
        fields = ("dataset", "user", "role")

    def save_with_service(self) -> DatasetMembership:
        dataset = self.cleaned_data.get("dataset") or self.instance.dataset
        user = self.cleaned_data.get("user") or self.instance.user
        return membership_set(dataset=dataset, username=user.get_username(), role=self.cleaned_data["role"]).membership


@admin.action(description="Remove from the dataset (never its last manager)", permissions=["remove"])
def remove_members(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[DatasetMembership]) -> None:
    memberships = list(queryset.select_related("dataset", "user"))

    def remove(membership: DatasetMembership) -> None:
        membership_remove(dataset=membership.dataset, username=membership.user.get_username())

    try:
        run_for_each(memberships, remove)
    except ApplicationError as error:
        messages.error(request, error.message)
        return
    report(request, f"{len(memberships)} membership(s) removed.")


@admin.register(DatasetMembership)
class DatasetMembershipAdmin(FastAdmin):
    form = MembershipAdminForm
    list_display = ("user", "dataset", "role", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "dataset")
    search_fields = ("user__username", "dataset__slug")
    raw_id_fields = ("user", "dataset")
    actions = (remove_members,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return ("dataset", "user") if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the action removes members, keeping the last manager

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "annotations.delete_datasetmembership")

    def save_model(self, request: HttpRequest, obj: DatasetMembership, form: Any, change: bool) -> None:
        """Do nothing: the form saved the membership through its service."""
