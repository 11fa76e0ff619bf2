"""Base view, pagination and URL helpers both apps' APIs use."""

from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from prmweb.errors import NotFoundError


class Pagination(PageNumberPagination):
    """`?page=N` (from 1) and `?page_size=N` (default 50, at most 500; anything but a positive integer is a 400)."""

    page_size = 50
    invalid_page_message = "{message}"
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

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any] | None:
        """Return the page's rows; a page that does not exist is a 404 naming `page`."""
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            reason = str(exc.detail).rstrip(".")
            raise NotFoundError("Invalid page.", errors={"page": [f"{reason} (pages count from 1)."]}) from exc


PAGE_PARAMETERS = [
    OpenApiParameter("page", int, description="Page number, from 1."),
    OpenApiParameter("page_size", int, description=f"Rows per page (default 50, at most {Pagination.max_page_size})."),
]


class BaseAPIView(APIView):
    """An API view whose 403 says what was refused (composed permission classes carry no message)."""

    denied_message = "You do not have permission to perform this action."

    def permission_denied(self, request: Request, message: str | None = None, code: str | None = None) -> Any:
        super().permission_denied(request, message=message or self.denied_message, code=code)

    def paginated_response(self, rows: QuerySet[Any] | list[Any], serialize: Callable[[list[Any]], Any]) -> Response:
        """Return one page of `rows` (`?page`, `?page_size`), each page serialized by `serialize`."""
        paginator = Pagination()
        page = paginator.paginate_queryset(rows, self.request, view=self)
        return paginator.get_paginated_response(serialize(list(page or [])))


def absolute_url(request: Request, name: str, **kwargs: Any) -> str:
    """Return the absolute URL of the route `name` in the namespace the request came through."""
    namespace = request.resolver_match.namespace if request.resolver_match else ""
    return request.build_absolute_uri(reverse(f"{namespace}:{name}" if namespace else name, kwargs=kwargs))
