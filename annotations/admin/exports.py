"""Admin side of exports: actions on datasets (with a form page first), the export list and download links.

The actions only call `export_create`; the work runs in the `run_export` task after the commit. The service
and the exporters' registry are imported when a form or an action first needs them: Django imports every
admin module at start-up (issue #16).
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from annotations.admin.base import ReadOnlyAdmin, bound_form, form_action_page
from annotations.models import Dataset, Export, ExportStatus, FinalLabelSource
from prmweb.errors import ApplicationError

DEFAULT_FORMAT = "processbench"
DEFAULT_FILE_FORMAT = "jsonl"


def _format_choices() -> list[tuple[str, str]]:
    from annotations.exporters import FORMATTERS

    return [(name, name) for name in FORMATTERS]


def _file_format_choices() -> list[tuple[str, str]]:
    from annotations.exporters import FILE_FORMATS

    return [(name, name) for name in FILE_FORMATS]


def _critique_source_choices() -> list[tuple[str, str]]:
    from annotations.exporters import CRITIQUE_SOURCES

    return [("", "—"), *((name, name) for name in CRITIQUE_SOURCES)]


class ExportForm(forms.Form):
    """Format, files, splits and filters of an export started from the admin."""

    export_format = forms.ChoiceField(label="Format", choices=_format_choices)
    file_format = forms.ChoiceField(choices=_file_format_choices, initial=DEFAULT_FILE_FORMAT)
    split_ratios = forms.CharField(
        label="Split", initial="0.8,0.1,0.1", help_text="Shares of problems for train, validation, test."
    )
    seed = forms.IntegerField(min_value=0, initial=0, help_text="Seed of the split by problem.")
    critique_source = forms.ChoiceField(
        choices=_critique_source_choices,
        required=False,
        help_text="critique and step_feedback only: human (default), judge (critiques agreeing with the label), both.",
    )
    label_sources = forms.MultipleChoiceField(
        choices=FinalLabelSource.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Keep only labels from these sources (none ticked: all).",
    )
    min_agreement = forms.FloatField(min_value=0, max_value=1, required=False, help_text="0 to 1.")
    exclude_flagged = forms.BooleanField(required=False, help_text="Drop solutions with a flagged annotation.")
    subsets = forms.CharField(required=False, help_text="Comma-separated.")
    generators = forms.CharField(required=False, help_text="Comma-separated.")
    decided_after = forms.DateTimeField(required=False, help_text="Final label decided at or after (UTC).")
    decided_before = forms.DateTimeField(required=False, help_text="Final label decided before (UTC).")

    def filters(self) -> dict[str, Any]:
        """Return the filters the cleaned form sets, in the service's shape."""
        data = self.cleaned_data
        filters: dict[str, Any] = {}
        for name in ("label_sources", "subsets", "generators"):
            if data.get(name):
                filters[name] = data[name]
        if data.get("min_agreement") is not None:
            filters["min_agreement"] = data["min_agreement"]
        if data.get("exclude_flagged"):
            filters["exclude_flagged"] = True
        for name in ("decided_after", "decided_before"):
            if data.get(name):
                filters[name] = data[name].isoformat()
        return filters


def _started_message(request: HttpRequest, exports: list[Export]) -> None:
    ids = ",".join(str(export.pk) for export in exports)
    link = reverse("admin:annotations_export_changelist") + f"?id__in={ids}"
    messages.success(
        request,
        format_html(
            'Started {} export(s) ({}). <a href="{}">Follow their progress and download them</a>.',
            len(exports),
            ", ".join(f"{export.dataset.slug}: {export.format}" for export in exports),
            link,
        ),
    )


def _create_all(request: HttpRequest, datasets: QuerySet[Dataset], form: ExportForm) -> list[Export]:
    from annotations.services.exports import export_create

    data = form.cleaned_data
    return [
        export_create(
            dataset=dataset,
            created_by=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
            export_format=data["export_format"],
            file_format=data["file_format"],
            split_ratios=data["split_ratios"],
            seed=data["seed"],
            filters=form.filters(),
            critique_source=data.get("critique_source") or None,
        )
        for dataset in datasets
    ]


def _add_service_errors(form: ExportForm, exc: ApplicationError) -> None:
    fields = {"format": "export_format", "split_ratios": "split_ratios", "seed": "seed", "file_format": "file_format"}
    for name, errors in exc.errors.items():
        field = fields.get(name) or name.removeprefix("filters.")
        form.add_error(field if field in form.fields else None, errors)


@admin.action(description="Export labels… (choose format, splits and filters)", permissions=["view"])
def export_labels(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Dataset]) -> Any:
    """Show the export form for the selected datasets; on submit start one export per dataset."""
    form = bound_form(ExportForm, request, initial={"export_format": DEFAULT_FORMAT})
    if form.is_bound and form.is_valid():
        try:
            exports = _create_all(request, queryset, form)
        except ApplicationError as exc:
            _add_service_errors(form, exc)
        else:
            _started_message(request, exports)
            return None
    intro = "One export per dataset; each becomes a row under Exports, where it can be followed and downloaded."
    return form_action_page(
        modeladmin, request, queryset, action="export_labels", form=form, intro=intro, submit="Start export"
    )


@admin.action(description=f"Export labels as {DEFAULT_FORMAT} {DEFAULT_FILE_FORMAT} (default splits, no filters)")
def export_labels_default(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Dataset]) -> None:
    """Start one default-format export per selected dataset and link to the export rows."""
    from annotations.services.exports import export_create

    exports: list[Export] = []
    try:
        for dataset in queryset:
            exports.append(
                export_create(
                    dataset=dataset,
                    created_by=request.user if request.user.is_authenticated else None,  # type: ignore[arg-type]
                    export_format=DEFAULT_FORMAT,
                    file_format=DEFAULT_FILE_FORMAT,
                )
            )
    except ApplicationError as exc:  # e.g. the task queue is down: say so, keep what was started
        messages.error(request, exc.message)
    if exports:
        _started_message(request, exports)


@admin.display(description="download")
def export_download_links(export: Export) -> str:
    """Return links to the zip of a finished export and to each of its files."""
    if export.status != ExportStatus.SUCCEEDED:
        return "—"
    url = reverse("api:export-download", kwargs={"export_id": export.pk})
    files = format_html_join(
        " ", '<a href="{}?file={}">{}</a>', ((url, entry["path"], entry["path"]) for entry in export.files)
    )
    return format_html('<a href="{}">zip</a> {}', url, files)


@admin.display(description="download")
def export_zip_link(export: Export) -> str:
    """Return a link to the zip of a finished export (for the changelist)."""
    if export.status != ExportStatus.SUCCEEDED:
        return "—"
    return format_html('<a href="{}">zip</a>', reverse("api:export-download", kwargs={"export_id": export.pk}))


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    """Exports are jobs: started by the actions on datasets (or the API, or the command), never edited."""

    list_display = (
        "id",
        "dataset",
        "format",
        "file_format",
        "critique_source",
        "status",
        "solutions_read",
        "rows_written",
        "created_by",
        "created_at",
        export_zip_link,
    )
    list_select_related = ("dataset", "created_by")
    list_filter = ("status", "format")
    raw_id_fields = ("dataset", "created_by")
    # rows_total/rows_done count solutions read (the progress): shown as such, beside the rows written
    exclude = ("rows_total", "rows_done")
    readonly_fields = ("solutions_read", "rows_written", "download")

    @admin.display(description="solutions read")
    def solutions_read(self, obj: Export) -> str:
        """Return the progress counts, which count solutions read (a critic export writes fewer or more rows)."""
        return f"{obj.rows_done} / {obj.rows_total}"

    @admin.display(description="rows written")
    def rows_written(self, obj: Export) -> str:
        """Return the rows the finished export wrote, summed over its splits ("—" until it has succeeded)."""
        if obj.status != ExportStatus.SUCCEEDED:
            return "—"
        return str(sum(obj.row_counts.values()))

    @admin.display(description="download")
    def download(self, obj: Export) -> str:
        return export_download_links(obj)
