"""Serializer helpers both apps' APIs use: refuse unknown fields and wrongly typed JSON values, describe a page of
results."""

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


class JsonTypesMixin:
    """Refuse a JSON value of the wrong type instead of converting it, as the ingestion API does.

    DRF reads `"2"` as 2, `"yes"` or `1` as true and `5` as `"5"`; a JSON body says what it means, so for a
    body serializer each of those is a 400 naming the field. (Query-string serializers, whose values are all
    text, do not use this.)
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            errors = {
                name: [message]
                for name, field in self.fields.items()  # type: ignore[attr-defined]
                if name in data and not field.read_only and (message := json_type_error(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)  # type: ignore[misc]


def json_type_error(field: serializers.Field, value: Any) -> str | None:
    """Return what is wrong with the JSON type of `value` for `field`, or None (null is the field's business)."""
    if value is None:
        return None
    if isinstance(field, serializers.BooleanField):
        return None if isinstance(value, bool) else "Must be true or false."
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if isinstance(field, serializers.IntegerField):
        return None if isinstance(value, int) and not isinstance(value, bool) else "Must be an integer."
    if isinstance(field, serializers.FloatField):
        return None if is_number else "Must be a number."
    text_choices = isinstance(field, serializers.ChoiceField) and all(isinstance(key, str) for key in field.choices)
    if isinstance(field, serializers.CharField) or text_choices:
        return None if isinstance(value, str) else "Must be a string."
    return None


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
