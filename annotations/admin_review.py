"""Admin actions for quality work: mark solutions as gold (or not) and re-apply triage to datasets."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from annotations.models import Dataset, Solution
from annotations.services.agreement import dataset_triage
from annotations.services.gold import solutions_set_gold
from prmweb.errors import ApplicationError


def _set_gold(request: HttpRequest, queryset: QuerySet[Solution], *, is_gold: bool) -> None:
    try:
        changed = solutions_set_gold(
            solution_ids=list(queryset.values_list("pk", flat=True)),
            is_gold=is_gold,
            changed_by=request.user,  # type: ignore[arg-type]
        )
    except ApplicationError as error:
        messages.error(request, f"{error.message} {' '.join(error.errors.get('is_gold', []))}")
        return
    verb = "marked as gold" if is_gold else "no longer gold"
    messages.success(request, f"{changed} solution(s) {verb}.")


@admin.action(description="Mark as gold (the imported label becomes the final label)")
def mark_gold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> None:
    _set_gold(request, queryset, is_gold=True)


@admin.action(description="Unmark gold (back to the agreement protocol)")
def unmark_gold(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Solution]) -> None:
    _set_gold(request, queryset, is_gold=False)


@admin.action(description="Re-apply triage (after changing triage mode or audit rate)")
def reapply_triage(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
    for dataset in queryset:
        seen = dataset_triage(dataset=dataset)
        messages.success(request, f"{dataset.name}: triage applied to {seen} solution(s) without annotations.")
