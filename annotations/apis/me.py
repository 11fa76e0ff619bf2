"""Who am I: the requesting user, whether they may create datasets, and their datasets with roles."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from annotations.models import DatasetMembership
from annotations.selectors.datasets import memberships_for_user, user_can_create_datasets, user_is_staff
from prmweb.api.errors import error_responses
from prmweb.api.views import BaseAPIView


class MembershipSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(source="dataset.slug")
    name = serializers.CharField(source="dataset.name")

    class Meta:
        model = DatasetMembership
        fields = ("slug", "name", "role")
        read_only_fields = fields


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    is_staff = serializers.BooleanField()
    can_create_datasets = serializers.BooleanField()
    datasets = MembershipSerializer(many=True)


class MeAPI(BaseAPIView):
    """Return the requesting user, whether they may create datasets, and their datasets with roles."""

    @extend_schema(
        operation_id="me_retrieve",
        tags=["me"],
        summary="Who am I: my datasets and roles",
        responses={200: MeSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "username": user.get_username(),
            "is_staff": user_is_staff(user),
            "can_create_datasets": user_can_create_datasets(user),
            "datasets": memberships_for_user(user=user),
        }
        return Response(MeSerializer(data).data)
