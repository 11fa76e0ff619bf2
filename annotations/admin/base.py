"""What every admin page shares: fast lists, read-only models, and actions that ask for a form first.

The admin changes nothing by editing rows: models are read-only here, and every change is an action
(or a form) that calls a service, so the history rows and the protocol's checks hold whatever the
entry point. An action with a form shows it for the selected rows; on a valid submit it calls the
service for all of them in one transaction (all or nothing) and reports what changed.
"""

from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from prmweb.errors import ApplicationError


class FastAdmin(admin.ModelAdmin):
    """Skip the unfiltered COUNT(*) on large tables and paginate modestly."""

    show_full_result_count = False
    list_per_page = 50


class NoWritesMixin:
    """Nobody adds, edits or deletes these rows by hand: services write them."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, FastAdmin):
    """A model whose rows are written by services only."""


class ReadOnlyInline(NoWritesMixin, admin.TabularInline):
    """Rows shown under their parent, never edited there (every field read-only)."""

    extra = 0

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fields or ()


def admin_user(request: HttpRequest) -> User:
    """Return the signed-in staff user of an admin request (the admin lets no one else in)."""
    return cast(User, request.user)


def user_may(request: HttpRequest, permission: str) -> bool:
    """Return whether the request's user holds the Django permission `app_label.codename`."""
    return bool(request.user.has_perm(permission))


MAX_LISTED_ERRORS = 20


def add_service_errors(form: forms.BaseForm, error: ApplicationError, *, fields: dict[str, str]) -> None:
    """Show a service's errors on the form: under the field `fields` maps them to, or above the form.

    Errors of no form field (a pasted batch's items: `{"0": {"problem": [...]}}`) are listed above it, each
    as "item 0, problem: ...", up to MAX_LISTED_ERRORS of them.
    """
    form.add_error(None, error.message)
    elsewhere: list[str] = []
    for name, problems in error.errors.items():
        field = fields.get(name, name)
        if field in form.fields and isinstance(problems, list):
            form.add_error(field, [str(problem) for problem in problems])
        else:
            elsewhere.extend(_error_lines(name, problems))
    elsewhere = [line for line in elsewhere if not error.message.endswith(line)]  # the summary names one
    if elsewhere:
        shown = elsewhere[:MAX_LISTED_ERRORS]
        if len(elsewhere) > MAX_LISTED_ERRORS:
            shown.append(f"… and {len(elsewhere) - MAX_LISTED_ERRORS} more.")
        form.add_error(None, shown)


def _error_lines(name: str, problems: Any, *, item: str = "") -> list[str]:
    """Return "item N, field: message" lines for a nested error structure."""
    if isinstance(problems, dict):
        lines = []
        for key, value in problems.items():
            if not item and str(name).isdigit():
                lines.extend(_error_lines(str(key), value, item=f"item {name}, "))
            else:
                lines.extend(_error_lines(f"{name}.{key}", value, item=item))
        return lines
    messages = problems if isinstance(problems, list) else [problems]
    return [f"{item}{name}: {message}" for message in messages]


RowT = TypeVar("RowT", bound=Model)


def run_for_each(rows: Iterable[RowT], call: Callable[[RowT], object]) -> None:
    """Call `call` for every row in one transaction: one failure undoes them all (ApplicationError names the row)."""
    with transaction.atomic():
        for row in rows:
            try:
                call(row)
            except ApplicationError as error:
                error.message = f"{row}: {error.message}"
                raise


def form_action_page(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    action: str,
    form: forms.Form,
    intro: str,
    submit: str,
) -> TemplateResponse:
    """Return the page that shows an action's form for the selected rows (submitting it applies the action)."""
    found = modeladmin.get_actions(request).get(action)
    description = found[2] if found is not None else action
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": str(description).rstrip("…. "),
        "form": form,
        "objects": queryset,
        "intro": intro,
        "submit": submit,
        "action": action,
        "opts": modeladmin.model._meta,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "media": modeladmin.media + form.media,
    }
    return TemplateResponse(request, "admin/annotations/action_form.html", context)


FormT = TypeVar("FormT", bound=forms.Form)


def bound_form(form_class: type[FormT], request: HttpRequest, **kwargs: Any) -> FormT:
    """Return the action's form, bound to the POST once the user submitted it (the `apply` field)."""
    if "apply" in request.POST:
        return form_class(request.POST, request.FILES, **kwargs)
    return form_class(**kwargs)


def report(request: HttpRequest, text: str) -> None:
    messages.success(request, text)


def form_action(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    form_class: type[forms.Form],
    apply: Callable[[dict[str, Any], list[Any]], str],
    page: dict[str, str],
    fields: dict[str, str] | None = None,
) -> TemplateResponse | None:
    """Show `form_class` for the selected rows; once submitted and valid, `apply(cleaned data, rows)`.

    `apply` calls the services and returns the message to show; an ApplicationError it raises is shown
    on the form (`fields` maps the service's field names to the form's). `page` holds the page's
    `action`, `intro` and `submit` texts.
    """
    form = bound_form(form_class, request)
    if form.is_bound and form.is_valid():
        try:
            done = apply(form.cleaned_data, list(queryset))
        except ApplicationError as error:
            add_service_errors(form, error, fields=fields or {})
        else:
            report(request, done)
            return None
    return form_action_page(modeladmin, request, queryset, form=form, **page)
