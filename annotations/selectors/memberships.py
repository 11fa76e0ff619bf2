"""Reads of a dataset's members."""

from django.db.models import QuerySet

from annotations.models import Dataset, DatasetMembership


def membership_list(*, dataset: Dataset) -> QuerySet[DatasetMembership]:
    """Return the dataset's memberships with their users, by username (one query per page)."""
    return DatasetMembership.objects.filter(dataset=dataset).select_related("user").order_by("user__username", "pk")
