"""Exports over REST: start one (`POST /exports/`), watch it (`GET /exports/`, `/exports/<id>/`), download it.

Dataset managers and staff only. A POST answers 202 with the queued export; the work runs in the
`run_export` Celery task on the `default` queue. In the embedded default (no broker) the export runs in
the request and the POST answers 201 with the finished export; when the broker is down, 503.
"""

import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetJobs, DatasetJobsAPIView
from annotations.exporters import CRITIQUE_SOURCES, FILE_FORMATS, FORMATTERS
from annotations.models import Dataset, Export, ExportStatus
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsStaff
from annotations.selectors.datasets import DatasetAccess, dataset_access_get
from annotations.selectors.exports import export_file_get, export_get, export_list_for_user, export_missing_error
from annotations.services.exports import export_create, export_runs_in_process
from prmweb.api.errors import ErrorSerializer, error_responses
from prmweb.api.serializers import JsonTypesMixin, StrictSerializerMixin, progress
from prmweb.api.views import BaseAPIView, absolute_url
from prmweb.errors import ConflictError, NotFoundError

DENIED = "Only the dataset's managers and staff may export it or see its exports."


class ExportInSerializer(StrictSerializerMixin, JsonTypesMixin, serializers.Serializer):
    """What to export: dataset, format, files, splits and filters."""

    dataset = serializers.SlugField(help_text="Slug of the dataset to export.")
    format = serializers.ChoiceField(choices=list(FORMATTERS), source="export_format")
    file_format = serializers.ChoiceField(choices=list(FILE_FORMATS), default="jsonl")
    split_ratios = serializers.JSONField(
        required=False,
        help_text='Share of problems per split: [0.8, 0.1, 0.1], {"train": 0.8, ...} or "0.8,0.1,0.1".',
    )
    seed = serializers.IntegerField(default=0, min_value=0, max_value=2**31 - 1)
    critique_source = serializers.ChoiceField(
        choices=list(CRITIQUE_SOURCES),
        required=False,
        help_text="critique and step_feedback only: explanations by people (human, the default), judge critiques "
        "that agree with the final label (judge), or both; each row names its source.",
    )
    filters = serializers.JSONField(
        required=False,
        help_text="label_sources, min_agreement, exclude_flagged, subsets, generators, decided_after, decided_before.",
    )


class ExportOutSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField(help_text="rows_done / rows_total (1.0 when done).")
    files = serializers.SerializerMethodField(help_text="Files with split, rows, bytes, sha256 and download url.")
    download_url = serializers.SerializerMethodField(help_text="The whole folder as a zip (once succeeded).")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields: tuple[str, ...] = (
            "id",
            "url",
            "dataset",
            "format",
            "file_format",
            "status",
            "rows_total",
            "rows_done",
            "progress",
            "row_counts",
            "filters",
            "split_ratios",
            "seed",
            "critique_source",
            "files",
            "download_url",
            "error",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields: tuple[str, ...] = fields

    def _request(self) -> Request:
        return self.context["request"]

    def get_progress(self, export: Export) -> float:
        return progress(export.rows_done, export.rows_total, finished=export.status == ExportStatus.SUCCEEDED)

    def get_url(self, export: Export) -> str:
        return absolute_url(self._request(), "export-detail", export_id=export.pk)

    def get_download_url(self, export: Export) -> str | None:
        if export.status != ExportStatus.SUCCEEDED:
            return None
        return absolute_url(self._request(), "export-download", export_id=export.pk)

    def get_files(self, export: Export) -> list[dict[str, Any]]:
        download = self.get_download_url(export)
        return [
            {**entry, "url": f"{download}?{urlencode({'file': entry['path']})}" if download else None}
            for entry in export.files
        ]


class ExportStartedSerializer(ExportOutSerializer):
    message = serializers.SerializerMethodField(help_text="Whether the export is queued or already ran.")

    class Meta(ExportOutSerializer.Meta):
        fields = ("message", *ExportOutSerializer.Meta.fields)
        read_only_fields = fields

    def get_message(self, export: Export) -> str:
        if not self.context.get("ran_in_request"):
            return "The export was handed to the task queue; poll its url for status and progress."
        return (
            "No task queue is configured (the embedded default), so the export ran in this request: "
            f"it has {export.status}."
        )


class _ExportAPIView(BaseAPIView):
    """A view under /exports/<id>/: the export and its dataset as the user sees it (404 when not visible)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetMember, IsStaff | IsDatasetManager]
    denied_message = DENIED

    def get_export(self) -> Export:
        cached: Export | None = getattr(self, "_export", None)
        if cached is None:
            cached = export_get(export_id=int(self.kwargs["export_id"]))
            self._export = cached
        return cached

    def get_access(self) -> DatasetAccess:
        """Return the export's dataset as the user sees it; an invisible one is the missing-export 404."""
        export = self.get_export()
        try:
            return dataset_access_get(slug=export.dataset.slug, user=self.request.user)
        except NotFoundError:
            raise export_missing_error(export.pk) from None


class ExportListCreateAPI(DatasetJobsAPIView):
    """Exports of the datasets you manage (staff: all): list them, or start one (it runs in the background)."""

    jobs = DatasetJobs(
        ExportInSerializer,
        ExportOutSerializer,
        export_list_for_user,
        "export",
        DENIED,
        started_serializer=ExportStartedSerializer,
    )

    def start(self, *, dataset: Dataset, data: dict[str, Any]) -> Export:
        """Start an export (runs in the background; poll its url for status and progress)"""
        return export_create(dataset=dataset, created_by=self.request.user, **data)

    def ran_in_request(self, job: Export) -> bool:
        return export_runs_in_process() and job.status != ExportStatus.QUEUED


class ExportDetailAPI(_ExportAPIView):
    @extend_schema(
        operation_id="exports_retrieve",
        summary="Read an export: status, progress, counts, files",
        responses={200: ExportOutSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request: Request, export_id: int) -> Response:
        return Response(ExportOutSerializer(self.get_export(), context={"request": request}).data)


class ExportDownloadAPI(_ExportAPIView):
    @extend_schema(
        operation_id="exports_download",
        summary="Download one file of a finished export (?file=<path>), or the whole folder as a zip",
        parameters=[OpenApiParameter("file", str, description="A path from the export's `files`, e.g. README.md.")],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(description="The file, or a zip of the folder."),
            **error_responses(401, 403, 404),
            409: OpenApiResponse(ErrorSerializer, description="The export has not succeeded (yet)."),
        },
    )
    def get(self, request: Request, export_id: int) -> FileResponse:
        export = self.get_export()
        if export.status != ExportStatus.SUCCEEDED:
            raise ConflictError(
                f"Export {export.pk} is {export.status}; files can be downloaded once it has succeeded.",
                errors={"status": [export.status]},
            )
        folder = Path(export.output_dir)
        if not folder.is_dir():
            raise NotFoundError(f"The files of export {export.pk} are no longer on disk.", errors={"file": []})
        name = request.query_params.get("file")
        if name:
            entry = export_file_get(export=export, path=name)
            return FileResponse((folder / entry["path"]).open("rb"), as_attachment=True, filename=Path(name).name)
        return FileResponse(_zip(folder, export), as_attachment=True, filename=f"{folder.name}.zip")


def _zip(folder: Path, export: Export) -> Any:
    """Return a temporary file holding the export's recorded files as a zip under the folder's name."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it once sent
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in export.files:
            archive.write(folder / entry["path"], arcname=f"{folder.name}/{entry['path']}")
    handle.seek(0)
    return handle
