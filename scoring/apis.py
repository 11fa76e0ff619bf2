"""Scoring runs over REST: start one (`POST /scoring-runs/`), watch it (`GET /scoring-runs/`, `/<id>/`).

Dataset managers and staff only. A POST answers 202 with the queued run; its batches run on the
workers (`gpu` queue for model methods, `default` for CPU ones), or in-process in the embedded default.
"""

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import PAGE_PARAMETERS, BaseAPIView, Pagination, error_responses, paginated
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsStaff
from annotations.selectors.datasets import DatasetAccess, dataset_access_get
from scoring.models import ScoringRun
from scoring.selectors import scoring_run_get, scoring_run_list
from scoring.services import scoring_run_submit
from scoring.services.runs import MAX_LIMIT
from scoring.tasks import TASKS_BY_METHOD

DENIED = "Only the dataset's managers and staff may start or see its scoring runs."


class ScoringRunInSerializer(serializers.Serializer):
    """Which method to run over which dataset."""

    dataset = serializers.SlugField(help_text="Slug of the dataset to score.")
    method = serializers.ChoiceField(choices=list(TASKS_BY_METHOD), help_text="The suggestion method to run.")
    force = serializers.BooleanField(default=False, help_text="Re-run solutions that already have a suggestion.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, help_text="At most N solutions.")
    parameters = serializers.DictField(
        required=False, help_text='Overrides of the configured method parameters, e.g. {"rollouts_per_step": 16}.'
    )

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(name) for name in set(data) - set(self.fields))
            if unknown:
                raise ValidationError(
                    {name: [f"Unknown field. Allowed: {', '.join(self.fields)}."] for name in unknown}
                )
        return super().to_internal_value(data)


class ScoringRunListQuerySerializer(serializers.Serializer):
    dataset = serializers.SlugField(required=False, help_text="Only this dataset's runs (slug).")


class ScoringRunOutSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    dataset = serializers.CharField(source="dataset.slug", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    done = serializers.IntegerField(read_only=True, help_text="succeeded + failed + skipped")
    progress = serializers.SerializerMethodField(help_text="done / total (1.0 when finished).")
    cost = serializers.SerializerMethodField(help_text="Rollouts, prompt and generated tokens, seconds, summed.")

    class Meta:
        model = ScoringRun
        fields = (
            "id",
            "url",
            "dataset",
            "method",
            "config_key",
            "parameters",
            "force",
            "status",
            "total",
            "succeeded",
            "failed",
            "skipped",
            "done",
            "progress",
            "errors",
            "cost",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        )
        read_only_fields = fields

    def get_url(self, run: ScoringRun) -> str:
        request: Request = self.context["request"]
        namespace = request.resolver_match.namespace if request.resolver_match else ""
        name = f"{namespace}:scoring-run-detail" if namespace else "scoring-run-detail"
        return request.build_absolute_uri(reverse(name, kwargs={"run_id": run.pk}))

    def get_progress(self, run: ScoringRun) -> float:
        if run.status == "succeeded":
            return 1.0
        return round(run.done / run.total, 4) if run.total else 0.0

    def get_cost(self, run: ScoringRun) -> dict[str, float]:  # "number": int | float makes an ambiguous oneOf
        return {
            "rollouts": run.rollouts,
            "prompt_tokens": run.prompt_tokens,
            "generated_tokens": run.generated_tokens,
            "seconds": round(run.seconds, 3),
        }


class ScoringRunListCreateAPI(BaseAPIView):
    denied_message = DENIED

    def get_permissions(self) -> list[Any]:
        if self.request.method == "POST":
            return [IsAuthenticated(), (IsStaff | IsDatasetMember)(), (IsStaff | IsDatasetManager)()]
        return [IsAuthenticated()]

    def get_access(self) -> DatasetAccess:
        """Return the dataset named in the POST body as the user sees it (404 when not visible)."""
        slug = self.request.data.get("dataset") if isinstance(self.request.data, dict) else None
        if not isinstance(slug, str) or not slug:
            raise ValidationError({"dataset": ["This field is required: the slug of the dataset to score."]})
        return dataset_access_get(slug=slug, user=self.request.user)

    @extend_schema(
        operation_id="scoring_runs_list",
        summary="List scoring runs of the datasets you manage (staff: all), newest first",
        parameters=[OpenApiParameter("dataset", str, description="Only this dataset's runs (slug)."), *PAGE_PARAMETERS],
        responses={
            200: paginated("PaginatedScoringRunList", ScoringRunOutSerializer(many=True)),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        query = ScoringRunListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        runs = scoring_run_list(user=request.user, dataset_slug=query.validated_data.get("dataset"))
        paginator = Pagination()
        page = paginator.paginate_queryset(runs, request, view=self)
        data = ScoringRunOutSerializer(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="scoring_runs_create",
        summary="Start a scoring run (runs in the background; poll its url for status, progress and cost)",
        request=ScoringRunInSerializer,
        responses={202: ScoringRunOutSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request: Request) -> Response:
        serializer = ScoringRunInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = scoring_run_submit(
            dataset=self.get_access().dataset,
            method=data["method"],
            user=request.user,
            force=data["force"],
            parameters=data.get("parameters"),
            limit=data.get("limit"),
        )
        run = scoring_run_get(run_id=run.pk, user=request.user)  # re-read: in the embedded default it has run
        return Response(
            ScoringRunOutSerializer(run, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )


class ScoringRunDetailAPI(BaseAPIView):
    permission_classes = [IsAuthenticated]
    denied_message = DENIED

    @extend_schema(
        operation_id="scoring_runs_retrieve",
        summary="Read a scoring run: status, progress counts, errors and total cost",
        responses={200: ScoringRunOutSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, run_id: int) -> Response:
        run = scoring_run_get(run_id=run_id, user=request.user)
        return Response(ScoringRunOutSerializer(run, context={"request": request}).data)
