"""Exports over REST: start one (`POST /exports/`), watch it (`GET /exports/`, `/exports/<id>/`), download it.

Dataset managers and staff only. A POST answers 202 with the queued export; the work runs in the
`run_export` Celery task on the `default` queue (in-process after the commit in the embedded default).
"""

import tempfile
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import BaseAPIView, ErrorSerializer, Pagination, error_responses, paginated
from annotations.exporters import CRITIQUE_SOURCES, FILE_FORMATS, FORMATTERS
from annotations.models import Export, ExportStatus
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsStaff
from annotations.selectors.datasets import DatasetAccess, dataset_access_get
from annotations.selectors.exports import export_file_get, export_get, export_list_for_user
from annotations.services.exports import export_create
from prmweb.errors import ConflictError, NotFoundError

DENIED = "Only the dataset's managers and staff may export it or see its exports."


def _url(request: Request, name: str, **kwargs: Any) -> str:
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    return request.build_absolute_uri(reverse(f"{namespace}:{name}" if namespace else name, kwargs=kwargs))


class ExportInSerializer(serializers.Serializer):
    """What to export: dataset, format, files, splits and filters."""

    dataset = serializers.SlugField(help_text="Slug of the dataset to export.")
    format = serializers.ChoiceField(choices=list(FORMATTERS))
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

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(name) for name in set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {name: [f"Unknown field. Allowed: {', '.join(self.fields)}."] for name in unknown}
                )
        return super().to_internal_value(data)


class ExportOutSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField(help_text="rows_done / rows_total (1.0 when done).")
    files = serializers.SerializerMethodField(help_text="Files with split, rows, bytes, sha256 and download url.")
    download_url = serializers.SerializerMethodField(help_text="The whole folder as a zip (once succeeded).")
    url = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = (
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
        read_only_fields = fields

    def _request(self) -> Request:
        return self.context["request"]

    def get_progress(self, export: Export) -> float:
        if export.status == ExportStatus.SUCCEEDED:
            return 1.0
        return round(export.rows_done / export.rows_total, 4) if export.rows_total else 0.0

    def get_url(self, export: Export) -> str:
        return _url(self._request(), "export-detail", export_id=export.pk)

    def get_download_url(self, export: Export) -> str | None:
        if export.status != ExportStatus.SUCCEEDED:
            return None
        return _url(self._request(), "export-download", export_id=export.pk)

    def get_files(self, export: Export) -> list[dict[str, Any]]:
        download = self.get_download_url(export)
        return [
            {**entry, "url": f"{download}?{urlencode({'file': entry['path']})}" if download else None}
            for entry in export.files
        ]


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
        return dataset_access_get(slug=self.get_export().dataset.slug, user=self.request.user)


class ExportListCreateAPI(BaseAPIView):
    denied_message = DENIED

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), (IsStaff | IsDatasetMember)(), (IsStaff | IsDatasetManager)()]
        return [IsAuthenticated()]

    def get_access(self) -> DatasetAccess:
        """Return the dataset named in the POST body as the user sees it (404 when not visible)."""
        slug = self.request.data.get("dataset") if isinstance(self.request.data, dict) else None
        if not isinstance(slug, str) or not slug:
            raise ValidationError({"dataset": ["This field is required: the slug of the dataset to export."]})
        return dataset_access_get(slug=slug, user=self.request.user)

    @extend_schema(
        operation_id="exports_list",
        summary="List exports of the datasets you manage (staff: all), newest first",
        parameters=[OpenApiParameter("dataset", str, description="Only this dataset's exports (slug).")],
        responses={200: paginated("PaginatedExportList", ExportOutSerializer(many=True)), **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        exports = export_list_for_user(user=request.user, dataset_slug=request.query_params.get("dataset"))
        paginator = Pagination()
        page = paginator.paginate_queryset(exports, request, view=self)
        return paginator.get_paginated_response(ExportOutSerializer(page, many=True, context={"request": request}).data)

    @extend_schema(
        operation_id="exports_create",
        summary="Start an export (runs in the background; poll its url for status and progress)",
        request=ExportInSerializer,
        responses={202: ExportOutSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = ExportInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        export = export_create(
            dataset=self.get_access().dataset,
            created_by=request.user,
            export_format=data["format"],
            file_format=data["file_format"],
            filters=data.get("filters"),
            split_ratios=data.get("split_ratios"),
            seed=data["seed"],
            critique_source=data.get("critique_source"),
        )
        export = export_get(export_id=export.pk)  # re-read: in the embedded default it has already run
        return Response(ExportOutSerializer(export, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)


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
