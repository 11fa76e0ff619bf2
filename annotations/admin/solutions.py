"""Solutions and problems in the admin: read-only rows; labels, gold, triage and deletion as actions.

Every action calls the service the review pages and the API call (`review_decide`, `review_reopen`,
`solutions_set_gold`, `dataset_triage`, `solution_delete`), so each change writes its history row and
passes the protocol's checks; an action over several solutions is all or nothing. The actions import
their services when they run (Django imports every admin module at start-up, issue #16); only the review
service, whose note limit the forms read, is imported here.
"""

from itertools import groupby
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest

from annotations.admin.base import (
    ReadOnlyAdmin,
    ReadOnlyInline,
    admin_user,
    form_action,
    report,
    run_for_each,
    user_may,
)
from annotations.models import Annotation, Dataset, FinalLabelChange, Problem, Solution, Suggestion
from annotations.services.review import MAX_NOTE_CHARS, review_decide, review_reopen
from prmweb.errors import ApplicationError

REASON_HELP = "Kept in the final label's history with your name."
NOTE = {"note": "reason"}  # the services call the reason a note


def _reason() -> forms.CharField:
    return forms.CharField(max_length=MAX_NOTE_CHARS, widget=forms.Textarea(attrs={"rows": 3}), help_text=REASON_HELP)


class FinalLabelForm(forms.Form):
    label = forms.IntegerField(
        min_value=-1, help_text="0-based index of the earliest wrong step (Step 3 is 2); -1: every step is correct."
    )
    reason = _reason()


class ReopenForm(forms.Form):
    target = forms.ChoiceField(
        choices=[("open", "Back to annotators (open)"), ("needs_review", "To a reviewer (needs review)")]
    )
    reason = _reason()


class DeleteForm(forms.Form):
    reason = _reason()


def _by_dataset(queryset: QuerySet[Solution]) -> list[tuple[Dataset, list[int]]]:
    rows = sorted(queryset.select_related("dataset"), key=lambda solution: solution.dataset_id)
    return [
        (group[0].dataset, [solution.pk for solution in group])
        for group in (list(items) for _, items in groupby(rows, key=lambda solution: solution.dataset_id))
    ]


@admin.action(description="Set the final label… (with a reason; history kept)", permissions=["decide"])
def set_final_label(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> Any:
    """Give the selected solutions a final label from a reviewer's decision (source `review`)."""
    reviewer = admin_user(request)

    def apply(data: dict[str, Any], solutions: list[Solution]) -> str:
        label, note = data["label"], data["reason"]
        run_for_each(solutions, lambda s: review_decide(solution_id=s.pk, reviewer=reviewer, label=label, note=note))
        return f"{len(solutions)} solution(s) now have the final label {label} (review)."

    intro = "The label becomes final for each solution (source: review), replacing any label it had."
    page = {"action": "set_final_label", "intro": intro, "submit": "Set final label"}
    return form_action(modeladmin, request, queryset, form_class=FinalLabelForm, apply=apply, page=page, fields=NOTE)


@admin.action(description="Reopen… (remove the final label; history kept)", permissions=["decide"])
def reopen(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> Any:
    """Send final or discarded solutions back to annotators or to review."""
    reviewer = admin_user(request)

    def apply(data: dict[str, Any], solutions: list[Solution]) -> str:
        target, reason = data["target"], data["reason"]
        run_for_each(
            solutions,
            lambda s: review_reopen(solution_id=s.pk, reviewer=reviewer, target=target, reason=reason),
        )
        return f"{len(solutions)} solution(s) reopened ({target})."

    intro = "Only final or discarded solutions can be reopened; their final label is removed."
    page = {"action": "reopen", "intro": intro, "submit": "Reopen"}
    return form_action(modeladmin, request, queryset, form_class=ReopenForm, apply=apply, page=page, fields=NOTE)


def _set_gold(request: HttpRequest, queryset: QuerySet[Solution], *, is_gold: bool) -> None:
    from annotations.services.gold import solutions_set_gold

    user = admin_user(request)
    try:
        with transaction.atomic():
            counts = [
                solutions_set_gold(dataset=dataset, solution_ids=ids, is_gold=is_gold, changed_by=user)
                for dataset, ids in _by_dataset(queryset)
            ]
    except ApplicationError as error:
        messages.error(request, f"{error.message} {' '.join(error.errors.get('is_gold', []))}")
        return
    report(request, f"{sum(counts)} solution(s) {'marked as gold' if is_gold else 'no longer gold'}.")


@admin.action(description="Mark as gold (the imported label becomes the final label)", permissions=["gold"])
def mark_gold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> None:
    _set_gold(request, queryset, is_gold=True)


@admin.action(description="Unmark gold (back to the agreement protocol)", permissions=["gold"])
def unmark_gold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> None:
    _set_gold(request, queryset, is_gold=False)


@admin.action(description="Re-run triage (machine consensus decides who labels)", permissions=["gold"])
def rerun_triage(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> None:
    """Apply the dataset's triage to the selected solutions (those people already own are left alone)."""
    from annotations.services.agreement import dataset_triage

    seen = sum(dataset_triage(dataset=dataset, solution_ids=ids) for dataset, ids in _by_dataset(queryset))
    report(request, f"Triage applied to {seen} solution(s).")


@admin.action(description="Delete with their labels… (history kept)", permissions=["remove"])
def delete_with_history(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> Any:
    """Delete solutions with their annotations, suggestions and final labels; their history stays."""
    from annotations.services.solutions import solution_delete

    user = admin_user(request)

    def apply(data: dict[str, Any], solutions: list[Solution]) -> str:
        reason = data["reason"]
        run_for_each(solutions, lambda s: solution_delete(solution_id=s.pk, deleted_by=user, reason=reason))
        return f"Deleted {len(solutions)} solution(s) with their labels; their history is kept."

    intro = "Their annotations, suggestions, claims and final labels are deleted too; the label history stays."
    page = {"action": "delete_with_history", "intro": intro, "submit": "Delete"}
    return form_action(modeladmin, request, queryset, form_class=DeleteForm, apply=apply, page=page)


class AnnotationInline(ReadOnlyInline):
    model = Annotation
    fields = ("annotator", "earliest_error_step", "rationale", "seconds_spent", "suggestions_visible", "created_at")


class SuggestionInline(ReadOnlyInline):
    model = Suggestion
    fields = ("method", "config_key", "status", "label", "model_name", "rollouts", "generated_tokens", "seconds")


class FinalLabelChangeInline(ReadOnlyInline):
    model = FinalLabelChange
    fk_name = "solution"
    fields = ("changed_at", "changed_by", "from_label", "to_label", "from_source", "to_source", "reason")


@admin.register(Solution)
class SolutionAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "external_id",
        "dataset",
        "generator",
        "subset",
        "num_steps",
        "status",
        "reformat_status",
        "annotation_count",
        "imported_label",
        "final_answer_correct",
        "is_gold",
        "ingested_by",
        "created_at",
    )
    list_select_related = ("dataset", "ingested_by")
    list_filter = ("status", "reformat_status", "is_gold", "final_answer_correct", "subset", "dataset")
    search_fields = ("external_id", "=content_hash", "generator")
    inlines = (AnnotationInline, SuggestionInline, FinalLabelChangeInline)
    actions = (set_final_label, reopen, mark_gold, unmark_gold, rerun_triage, delete_with_history)

    def has_decide_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "annotations.change_finallabel")

    def has_gold_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "annotations.change_solution")

    def has_remove_permission(self, request: HttpRequest) -> bool:
        return user_may(request, "annotations.delete_solution")


@admin.register(Problem)
class ProblemAdmin(ReadOnlyAdmin):
    list_display = ("id", "short_text", "dataset", "reference_answer", "created_at")
    list_select_related = ("dataset",)
    list_filter = ("dataset",)
    search_fields = ("text", "reference_answer")

    @admin.display(description="text")
    def short_text(self, obj: Problem) -> str:
        return obj.text[:80]
