"""Datasets over REST: create and list (`/datasets/`), read and change settings (`/datasets/<slug>/`)."""

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.critique import MAX_ERROR_TYPE_TITLE_CHARS, MAX_ERROR_TYPES, error_types_errors
from annotations.models import Dataset, MembershipRole
from annotations.permissions import InManagerGroup, IsDatasetManager, IsDatasetMember, IsReadOnly, IsStaff
from annotations.segmentation import pattern_errors
from annotations.selectors.datasets import dataset_get_with_counts, dataset_list_for_user
from annotations.services.datasets import DATASET_SETTINGS_FIELDS, dataset_create, dataset_update
from annotations.validators import scoring_method_names, scoring_methods_errors
from prmweb.api.errors import error_responses
from prmweb.api.serializers import JsonTypesMixin, StrictSerializerMixin, paginated
from prmweb.api.views import PAGE_PARAMETERS, BaseAPIView


class ScoringMethodsField(serializers.Field):
    """A list of distinct known method names, taken as sent: `[1]` is refused, never stored as "1"."""

    def to_internal_value(self, data: Any) -> list[str]:
        errors = scoring_methods_errors(data)
        if errors:
            raise serializers.ValidationError(errors)
        return list(data)

    def to_representation(self, value: Any) -> Any:
        return value


class ScoringMethodsFieldSchema(OpenApiSerializerFieldExtension):
    """Document ScoringMethodsField as an array of the known names (read when the schema is built)."""

    target_class = ScoringMethodsField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        names = list(scoring_method_names())
        return {"type": "array", "items": {"type": "string", "enum": names}, "uniqueItems": True}


class ErrorTypesField(serializers.Field):
    """The dataset's error-type taxonomy: a list of {slug, title, key} objects, checked as a whole."""

    def to_internal_value(self, data: Any) -> list[dict[str, str]]:
        errors = error_types_errors(data)
        if errors:
            raise serializers.ValidationError(errors)
        return [{"slug": entry["slug"], "title": entry["title"].strip(), "key": entry["key"]} for entry in data]

    def to_representation(self, value: Any) -> Any:
        return value


class ErrorTypesFieldSchema(OpenApiSerializerFieldExtension):
    """Document ErrorTypesField as an array of {slug, title, key} objects."""

    target_class = ErrorTypesField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        entry = {
            "type": "object",
            "properties": {
                "slug": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
                "title": {"type": "string", "maxLength": MAX_ERROR_TYPE_TITLE_CHARS},
                "key": {"type": "string", "pattern": "^[a-z]$"},
            },
            "required": ["slug", "title", "key"],
            "additionalProperties": False,
        }
        return {"type": "array", "items": entry, "minItems": 1, "maxItems": MAX_ERROR_TYPES}


class DatasetInSerializer(StrictSerializerMixin, JsonTypesMixin, serializers.ModelSerializer):
    """Settings a client may send: name, slug, texts and the annotation protocol."""

    slug = serializers.SlugField(max_length=100, help_text="URL name of the dataset: letters, digits, - and _.")
    scoring_methods = ScoringMethodsField(
        required=False,
        help_text='Suggestion methods prefilled after ingestion, each named once, e.g. ["arithmetic", "mc"].',
    )
    error_types = ErrorTypesField(
        required=False,
        help_text="Error types annotators pick for a marked step: stable slug, title, one-letter key. A slug "
        "that annotations or final labels use cannot be removed.",
    )
    audit_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    gold_rate = serializers.FloatField(min_value=0, max_value=1, required=False)
    segmentation_pattern = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text="Regular expression matching the separators between steps, e.g. `\\n(?=Step \\d+:)`; "
        "checked when set (compiles, never matches the empty string, no catastrophic backtracking).",
    )

    def validate_segmentation_pattern(self, value: str) -> str:
        if value and (errors := pattern_errors(value)):
            raise serializers.ValidationError(errors)
        return value

    class Meta:
        model = Dataset
        fields = DATASET_SETTINGS_FIELDS
        extra_kwargs = {
            "annotations_per_solution": {"min_value": 1, "max_value": 50},
            "max_annotations": {"min_value": 1, "max_value": 50},
            "claim_minutes": {"min_value": 1, "max_value": 24 * 60},
        }


class DatasetOutSerializer(serializers.ModelSerializer):
    created_by = serializers.CharField(source="created_by.username", read_only=True, allow_null=True)
    role = serializers.SerializerMethodField(help_text="Your role on this dataset (null: staff, not a member).")
    solution_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = ("id", *DATASET_SETTINGS_FIELDS, "created_by", "created_at", "role", "solution_count")
        read_only_fields = fields

    def get_role(self, dataset: Dataset) -> MembershipRole | None:
        role = getattr(dataset, "user_role", None)
        return MembershipRole(role) if role else None


class DatasetListCreateAPI(BaseAPIView):
    """List the datasets you may see; create one (staff and the "manager" group)."""

    permission_classes = [IsAuthenticated, IsReadOnly | IsStaff | InManagerGroup]
    denied_message = 'Only staff and users in the "manager" group may create datasets.'

    @extend_schema(
        operation_id="datasets_list",
        tags=["datasets"],
        summary="List the datasets you are a member of (staff: all)",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated("PaginatedDatasetList", DatasetOutSerializer(many=True)),
            **error_responses(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        return self.paginated_response(
            dataset_list_for_user(user=request.user), lambda page: DatasetOutSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="datasets_create",
        tags=["datasets"],
        summary="Create a dataset; you become its manager",
        request=DatasetInSerializer,
        responses={201: DatasetOutSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        serializer = DatasetInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        dataset = dataset_create(user=request.user, **serializer.validated_data)
        dataset = dataset_get_with_counts(dataset_id=dataset.pk, user=request.user)
        return Response(DatasetOutSerializer(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailAPI(DatasetScopedAPIView):
    """Read a dataset (members and staff); change its settings (its managers and staff)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetMember, IsReadOnly | IsStaff | IsDatasetManager]
    denied_message = "Only the dataset's managers may change its settings."

    @extend_schema(
        operation_id="datasets_retrieve",
        tags=["datasets"],
        summary="Read a dataset's settings, your role and its solution count",
        responses={200: DatasetOutSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        dataset = dataset_get_with_counts(dataset_id=self.get_access().dataset.pk, user=request.user)
        return Response(DatasetOutSerializer(dataset).data)

    @extend_schema(
        operation_id="datasets_partial_update",
        tags=["datasets"],
        summary="Change some of a dataset's settings (managers and staff)",
        request=DatasetInSerializer(partial=True),
        responses={200: DatasetOutSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        serializer = DatasetInSerializer(access.dataset, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        dataset_update(dataset=access.dataset, **serializer.validated_data)
        dataset = dataset_get_with_counts(dataset_id=access.dataset.pk, user=request.user)
        return Response(DatasetOutSerializer(dataset).data)
