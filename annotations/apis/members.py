"""A dataset's members over REST.

- GET /api/v1/datasets/<slug>/members/ (reviewers, managers, staff): usernames and roles, paginated
- POST /api/v1/datasets/<slug>/members/ {"username", "role"} (managers, staff): add, or change the role
- DELETE /api/v1/datasets/<slug>/members/<username>/ (managers, staff): remove; never the last manager
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.apis.common import DatasetScopedAPIView
from annotations.models import DatasetMembership, MembershipRole
from annotations.permissions import IsDatasetManager, IsDatasetMember, IsDatasetReviewer, IsReadOnly, IsStaff
from annotations.selectors.memberships import membership_list
from annotations.services.datasets import membership_remove, membership_set
from prmweb.api.errors import error_responses
from prmweb.api.serializers import JsonTypesMixin, StrictSerializerMixin, paginated
from prmweb.api.views import PAGE_PARAMETERS

DENIED = "Only the dataset's managers may change its members; its reviewers and managers may list them."


class MemberInSerializer(StrictSerializerMixin, JsonTypesMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, help_text="An existing user's username.")
    role = serializers.ChoiceField(choices=MembershipRole.choices)


class MemberOutSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = DatasetMembership
        fields = ("username", "role")
        read_only_fields = fields


class DatasetMemberListAPI(DatasetScopedAPIView):
    """List a dataset's members (reviewers, managers); add one or change a role (managers)."""

    permission_classes = [
        IsAuthenticated,
        IsStaff | IsDatasetMember,
        (IsReadOnly & IsDatasetReviewer) | IsStaff | IsDatasetManager,
    ]
    denied_message = DENIED

    @extend_schema(
        operation_id="dataset_members_list",
        tags=["datasets"],
        summary="List a dataset's members with their roles, by username",
        parameters=PAGE_PARAMETERS,
        responses={
            200: paginated("PaginatedMemberList", MemberOutSerializer(many=True)),
            **error_responses(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        members = membership_list(dataset=self.get_access().dataset)
        return self.paginated_response(members, lambda page: MemberOutSerializer(page, many=True).data)

    @extend_schema(
        operation_id="dataset_members_set",
        tags=["datasets"],
        summary="Add an existing user with a role, or change a member's role (idempotent)",
        description="201 when the user became a member, 200 when they were one (their role is set). "
        "Demoting the dataset's last manager is a 409.",
        request=MemberInSerializer,
        responses={
            201: MemberOutSerializer,
            200: MemberOutSerializer,
            **error_responses(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        serializer = MemberInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change = membership_set(dataset=self.get_access().dataset, **serializer.validated_data)
        code = status.HTTP_201_CREATED if change.created else status.HTTP_200_OK
        return Response(MemberOutSerializer(change.membership).data, status=code)


class DatasetMemberDetailAPI(DatasetScopedAPIView):
    """Remove a member from a dataset (managers); their annotations stay."""

    permission_classes = [IsAuthenticated, IsStaff | IsDatasetMember, IsStaff | IsDatasetManager]
    denied_message = DENIED

    @extend_schema(
        operation_id="dataset_members_remove",
        tags=["datasets"],
        summary="Remove a member (their annotations stay); the last manager cannot be removed",
        responses={
            204: OpenApiResponse(description="Removed."),
            **error_responses(401, 403, 404, 409),
        },
    )
    def delete(self, request: Request, slug: str, username: str) -> Response:
        membership_remove(dataset=self.get_access().dataset, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)
