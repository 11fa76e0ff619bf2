"""What every API view shares: the dataset behind a URL, pagination, the error body, the 403 message."""

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.views import APIView

from annotations.selectors.datasets import DatasetAccess, dataset_access_get


class ErrorSerializer(serializers.Serializer):
    """Every error: a sentence for people and the problems by field (by item index for a bulk)."""

    message = serializers.CharField()
    errors = serializers.DictField(child=serializers.JSONField())  # type: ignore[assignment]


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Return the documented error responses for `extend_schema(responses=...)`."""
    descriptions = {
        400: "Invalid input; `errors` names each field (by item index for a list).",
        401: "No valid token or session.",
        403: "Authenticated but not allowed.",
        404: "Not found, or a dataset you are not a member of.",
        409: "Conflicts with the current state; `errors` names the field.",
        413: "Request body or batch over its limit.",
        503: "A service the request needs (the task queue) is unavailable; nothing was done. Retry later.",
    }
    return {code: OpenApiResponse(ErrorSerializer, description=descriptions[code]) for code in codes}


def paginated(name: str, item_serializer: serializers.BaseSerializer) -> serializers.Serializer:
    """Return the schema of a page of `Pagination`: count, next, previous and the results."""
    return inline_serializer(
        name=name,
        fields={
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": item_serializer,
        },
    )


class StrictSerializerMixin:
    """Refuse fields the serializer does not know instead of silently dropping them."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            known = {name for name, field in self.fields.items() if not field.read_only}  # type: ignore[attr-defined]
            unknown = sorted(str(name) for name in set(data) - known)
            if unknown:
                raise serializers.ValidationError(
                    {name: [f"Unknown field. Allowed fields: {', '.join(sorted(known))}."] for name in unknown}
                )
        return super().to_internal_value(data)  # type: ignore[misc]


class Pagination(PageNumberPagination):
    """`?page=N` (from 1) and `?page_size=N` (default 50, at most 500; anything but a positive integer is a 400)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request: Request) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise serializers.ValidationError(
                {"page_size": [f"Must be a positive integer (at most {self.max_page_size} rows are sent)."]}
            )
        return min(int(raw), self.max_page_size)


class BaseAPIView(APIView):
    """An API view whose 403 says what was refused (composed permission classes carry no message)."""

    denied_message = "You do not have permission to perform this action."

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> Any:
        super().permission_denied(request, message=message or self.denied_message, code=code)


class DatasetScopedAPIView(BaseAPIView):
    """A view under /datasets/<slug>/: resolves the dataset once per request, 404 for non-members."""

    def get_access(self) -> DatasetAccess:
        """Return the URL's dataset as the requesting user sees it (cached for the request)."""
        cached: DatasetAccess | None = getattr(self, "_access", None)
        if cached is None:
            cached = dataset_access_get(slug=self.kwargs["slug"], user=self.request.user)
            self._access = cached
        return cached


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description=f"Rows per page (default 50, at most {Pagination.max_page_size})."),
]
