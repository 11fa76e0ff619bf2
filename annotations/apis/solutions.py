"""Solutions over REST: ingest one or many, list with filters, read one with its labels.

Annotators read only their own settled work (solutions they annotated and can no longer change); see
annotations.selectors.solutions.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.apis.solution_serializers import (
    IngestResultSerializer,
    SolutionDetailSerializer,
    SolutionInSerializer,
    SolutionListItemSerializer,
    ingest_result_data,
)
from annotations.models import ReformatStatus, SolutionStatus
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsReadOnly, IsStaff
from annotations.selectors.solutions import SolutionFilters, solution_get_for_viewer, solution_list
from annotations.services.ingestion import MAX_BATCH_ITEMS, solutions_ingest_json
from prmweb.api.errors import error_responses
from prmweb.api.serializers import paginated
from prmweb.api.views import PAGE_PARAMETERS
from prmweb.core.gc_pause import gc_paused


class SolutionFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SolutionStatus.choices, required=False)
    reformat_status = serializers.ChoiceField(
        choices=ReformatStatus.choices,
        required=False,
        help_text="Responses sent with segmentation reformat in this state (rejected, failed: fell back, flagged).",
    )
    has_label = serializers.BooleanField(
        required=False, allow_null=True, default=None, help_text="true: only solutions with a final label."
    )
    generator = serializers.CharField(required=False, help_text="Exact generator name.")
    subset = serializers.CharField(required=False, help_text="Exact subset name.")
    external_id = serializers.CharField(required=False, help_text="Exact external id (the `id` you sent).")
    q = serializers.CharField(
        required=False, max_length=200, help_text="Text in the problem, the steps or the external id."
    )


INGEST_REQUEST = PolymorphicProxySerializer(
    component_name="SolutionIngest",  # "Request" is appended (COMPONENT_SPLIT_REQUEST)
    serializers=[SolutionInSerializer, SolutionInSerializer(many=True)],
    resource_type_field_name=None,
    many=False,
)

PAGINATED_SOLUTIONS = paginated("PaginatedSolutionList", SolutionListItemSerializer(many=True))


class SolutionListCreateAPI(DatasetScopedAPIView):
    """List a dataset's solutions (annotators: settled ones they annotated) or ingest new ones (managers and staff)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetMember, IsReadOnly | IsStaff | IsDatasetManager]
    denied_message = "Only the dataset's managers may ingest solutions."

    @extend_schema(
        operation_id="solutions_list",
        tags=["solutions"],
        summary="List a dataset's solutions, filtered and paginated (annotators: only settled ones they annotated)",
        parameters=[SolutionFilterSerializer, *PAGE_PARAMETERS],
        responses={200: PAGINATED_SOLUTIONS, **error_responses(400, 401, 404)},
    )
    def get(self, request: Request, slug: str) -> Response:
        filters = SolutionFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        access = self.get_access()
        solutions = solution_list(access=access, user=request.user, filters=SolutionFilters(**filters.validated_data))
        return self.paginated_response(solutions, lambda page: SolutionListItemSerializer(page, many=True).data)

    @extend_schema(
        operation_id="solutions_ingest",
        tags=["solutions"],
        summary=f"Ingest one solution or a list of up to {MAX_BATCH_ITEMS} (all or nothing, idempotent)",
        description=(
            "Send one solution object or a JSON array of them. A list is stored all or nothing: if any item "
            "is invalid, nothing is stored and `errors` holds every bad item's errors keyed by its index. "
            "An item whose `id` (or, without an id, whose problem and steps) is already in the dataset is "
            "reported as `existing` and left unchanged. 201 when anything was created, 200 when all existed."
        ),
        request=INGEST_REQUEST,
        responses={
            201: IngestResultSerializer,
            200: IngestResultSerializer,
            **error_responses(400, 401, 403, 404, 413),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        access = self.get_access()
        with gc_paused():  # decoding and checking up to 10,000 solutions makes no reference cycles
            result = solutions_ingest_json(dataset=access.dataset, payload=request.data, user=request.user)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(ingest_result_data(result), status=code)


class SolutionDetailAPI(DatasetScopedAPIView):
    """Read one solution with its labels, annotations and suggestions (annotators: a settled one they annotated)."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetMember]

    @extend_schema(
        operation_id="solutions_retrieve",
        tags=["solutions"],
        summary="Read one solution as ingested, with its labels, annotations and suggestions",
        description=(
            "Annotators may read only the solutions they annotated and can no longer change (final, discarded, "
            "gold with k annotations); any other id is a 404."
        ),
        responses={200: SolutionDetailSerializer, **error_responses(401, 404)},
    )
    def get(self, request: Request, slug: str, solution_id: int) -> Response:
        solution = solution_get_for_viewer(access=self.get_access(), user=request.user, solution_id=solution_id)
        return Response(SolutionDetailSerializer(solution).data)
