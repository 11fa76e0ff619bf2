"""Serializer helpers both apps' APIs use: refuse unknown fields, describe a page of results."""

from typing import Any

from drf_spectacular.utils import inline_serializer
from rest_framework import serializers


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


def progress(done: int, total: int, *, finished: bool) -> float:
    """Return done / total rounded to 4 places, 1.0 once finished, 0.0 before anything is counted."""
    if finished:
        return 1.0
    return round(done / total, 4) if total else 0.0
