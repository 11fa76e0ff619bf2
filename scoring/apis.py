"""Scoring runs over REST: start one (`POST /scoring-runs/`), watch it (`GET /scoring-runs/`, `/<id>/`).

Dataset managers and staff only. A POST answers 202 with the queued run; its batches run on the
workers (`gpu` queue for model methods, `default` for CPU ones), or in-process in the embedded default.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetJobs, DatasetJobsAPIView
from annotations.models import Dataset
from prmweb.api.errors import error_responses
from prmweb.api.serializers import JsonTypesMixin, StrictSerializerMixin, progress
from prmweb.api.views import BaseAPIView, absolute_url
from scoring.methods.registry import runnable_methods
from scoring.models import ScoringRun, ScoringRunStatus
from scoring.selectors import scoring_run_get, scoring_run_list
from scoring.services import scoring_run_submit
from scoring.services.runs import MAX_LIMIT

DENIED = "Only the dataset's managers and staff may start or see its scoring runs."


class ScoringRunInSerializer(StrictSerializerMixin, JsonTypesMixin, serializers.Serializer):
    """Which method to run over which dataset."""

    dataset = serializers.SlugField(help_text="Slug of the dataset to score.")
    method = serializers.ChoiceField(
        choices=[spec.name for spec in runnable_methods()], help_text="The suggestion method to run."
    )
    force = serializers.BooleanField(default=False, help_text="Re-run solutions that already have a suggestion.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, help_text="At most N solutions.")
    parameters = serializers.DictField(
        required=False, help_text='Overrides of the configured method parameters, e.g. {"rollouts_per_step": 16}.'
    )


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
        return absolute_url(self.context["request"], "scoring-run-detail", run_id=run.pk)

    def get_progress(self, run: ScoringRun) -> float:
        return progress(run.done, run.total, finished=run.status == ScoringRunStatus.SUCCEEDED)

    def get_cost(self, run: ScoringRun) -> dict[str, float]:  # "number": int | float makes an ambiguous oneOf
        return {
            "rollouts": run.rollouts,
            "prompt_tokens": run.prompt_tokens,
            "generated_tokens": run.generated_tokens,
            "seconds": round(run.seconds, 3),
        }


class ScoringRunListCreateAPI(DatasetJobsAPIView):
    """Scoring runs of the datasets you manage (staff: all): list them, or start one (it runs on the workers)."""

    jobs = DatasetJobs(ScoringRunInSerializer, ScoringRunOutSerializer, scoring_run_list, "score", DENIED)

    def start(self, *, dataset: Dataset, data: dict[str, Any]) -> ScoringRun:
        """Start a scoring run (runs in the background; poll its url for status, progress and cost)"""
        return scoring_run_submit(dataset=dataset, user=self.request.user, **data)


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
