"""External suggestions over REST: scores a team computed elsewhere, evaluated like built-in methods.

- POST /api/v1/datasets/<slug>/suggestions/ (managers, staff): one suggestion or a list, all or nothing
- DELETE /api/v1/datasets/<slug>/suggestions/?method=NAME[&config_key=KEY] (managers, staff)

Input is checked by `annotations.score_input` (pure), not by a DRF serializer; `ExternalSuggestionInSerializer`
documents its shape in the OpenAPI schema.
"""

from drf_spectacular.utils import OpenApiParameter, PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.permissions import IsDatasetManager, IsStaff
from annotations.score_input import (
    MAX_CONFIG_KEY_CHARS,
    MAX_EXTERNAL_ID_CHARS,
    MAX_METHOD_CHARS,
    MAX_MODEL_NAME_CHARS,
    MAX_RATIONALE_CHARS,
    MAX_SCORE_ITEMS,
)
from annotations.services.external_scores import (
    ScoreIngestResult,
    external_scores_delete,
    external_scores_ingest_json,
)
from prmweb.api.errors import error_responses
from prmweb.api.serializers import StrictSerializerMixin


class ExternalSuggestionInSerializer(serializers.Serializer):
    """One external suggestion: the solution, your method's name, and per-step scores and/or a label."""

    solution_id = serializers.IntegerField(required=False, help_text="The solution's id here; or send external_id.")
    external_id = serializers.CharField(
        max_length=MAX_EXTERNAL_ID_CHARS, required=False, help_text="The `id` the solution was ingested with."
    )
    method = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        max_length=MAX_METHOD_CHARS,
        help_text="Your method's name, e.g. my-prm: letters, digits, _ . -; never a built-in method's name.",
    )
    config_key = serializers.CharField(
        max_length=MAX_CONFIG_KEY_CHARS,
        required=False,
        help_text="Your model version or configuration (default `default`); one suggestion per solution, "
        "method and config_key: sending it again updates it.",
    )
    step_scores = serializers.ListField(
        child=serializers.FloatField(min_value=0, max_value=1, allow_null=True),
        required=False,
        help_text="One score in [0, 1] per step of the solution (null: a step you did not score; an ORM may "
        "score the last step only).",
    )
    label = serializers.IntegerField(  # type: ignore[assignment]
        min_value=-1,
        required=False,
        allow_null=True,
        help_text="Earliest wrong step (0-based), or -1 when all steps are correct. Without it, no label "
        "(ProcessBench F1 counts a miss) unless `threshold` derives one.",
    )
    threshold = serializers.FloatField(
        required=False,
        help_text="Derive the label from step_scores: the first step scored below it, else -1. Not with label.",
    )
    model_name = serializers.CharField(max_length=MAX_MODEL_NAME_CHARS, required=False, allow_blank=True)
    rationale = serializers.CharField(max_length=MAX_RATIONALE_CHARS, required=False, allow_blank=True)
    confidence = serializers.FloatField(min_value=0, max_value=1, required=False, allow_null=True)


INGEST_REQUEST = PolymorphicProxySerializer(
    component_name="ExternalSuggestionIngestRequest",
    serializers=[ExternalSuggestionInSerializer, ExternalSuggestionInSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)


class ScoredItemSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the item in the request (0 for a single object).")
    status = serializers.ChoiceField(choices=["created", "updated"])
    solution_id = serializers.IntegerField()
    method = serializers.CharField()
    config_key = serializers.CharField()
    label = serializers.IntegerField(  # type: ignore[assignment]
        allow_null=True, help_text="The label stored (sent or derived)."
    )


class ScoreIngestResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    items = ScoredItemSerializer(many=True)


class ExternalDeleteQuerySerializer(StrictSerializerMixin, serializers.Serializer):
    method = serializers.CharField(max_length=MAX_METHOD_CHARS, help_text="The external method's name.")
    config_key = serializers.CharField(
        max_length=MAX_CONFIG_KEY_CHARS, required=False, help_text="Only this configuration (default: all)."
    )


def _result(result: ScoreIngestResult) -> dict[str, object]:
    items = [
        {
            "index": item.index,
            "status": item.status,
            "solution_id": item.solution_id,
            "method": item.method,
            "config_key": item.config_key,
            "label": item.label,
        }
        for item in result.items
    ]
    return {"created": result.created, "updated": result.updated, "items": items}


class ExternalSuggestionsAPI(DatasetScopedAPIView):
    """Ingest or delete a dataset's external suggestions (managers and staff)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetManager]
    denied_message = "Only the dataset's managers may ingest or delete external suggestions."

    @extend_schema(
        operation_id="external_suggestions_ingest",
        tags=["suggestions"],
        summary=f"Ingest external suggestions: one or a list of up to {MAX_SCORE_ITEMS} (all or nothing)",
        description=(
            "Scores computed outside prmweb (your PRM, an ORM) under a method name of your choice, marked "
            "external (engine `external`): the dashboard's evaluation table, the metrics API and "
            "`evaluate_methods` evaluate them like built-in methods; no task ever runs them, and annotators "
            "never see them. Each names its solution by `solution_id` or `external_id` and sends `step_scores` "
            "(one per step) and/or a `label`. A list is stored all or nothing (`errors` by item index). "
            "201 when anything was created, 200 when every item updated a stored one."
        ),
        request=INGEST_REQUEST,
        responses={
            201: ScoreIngestResultSerializer,
            200: ScoreIngestResultSerializer,
            **error_responses(400, 401, 403, 404, 413),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        result = external_scores_ingest_json(dataset=self.get_access().dataset, payload=request.data, user=request.user)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(_result(result), status=code)

    @extend_schema(
        operation_id="external_suggestions_delete",
        tags=["suggestions"],
        summary="Delete an external method's suggestions (one configuration, or all of them)",
        parameters=[
            OpenApiParameter("method", str, required=True, description="The external method's name."),
            OpenApiParameter("config_key", str, description="Only this configuration (default: all)."),
        ],
        responses={
            200: inline_serializer("ExternalSuggestionsDeleted", {"deleted": serializers.IntegerField()}),
            **error_responses(400, 401, 403, 404),
        },
    )
    def delete(self, request: Request, slug: str) -> Response:
        query = ExternalDeleteQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        deleted = external_scores_delete(dataset=self.get_access().dataset, **query.validated_data)
        return Response({"deleted": deleted})
