"""Reads about datasets and who may see them.

A dataset is visible to its members and to staff; to everyone else it does not exist (404).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AbstractUser, AnonymousUser, User
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from annotations.models import Annotation, Dataset, DatasetMembership, FinalLabel, MembershipRole, Solution
from prmweb.errors import NotFoundError

DATASET_CREATOR_GROUP = "manager"

AnyUser = AbstractBaseUser | AnonymousUser


def user_id_of(user: AnyUser) -> int:
    """Return the user's id, or 0 (no user has it) for an anonymous user."""
    return int(user.pk) if user.is_authenticated and user.pk is not None else 0


@dataclass(frozen=True)
class DatasetAccess:
    """A dataset as one user sees it: their membership role (None for staff who are not members)."""

    dataset: Dataset
    role: str | None
    is_staff: bool

    @property
    def is_member(self) -> bool:
        return self.role is not None

    @property
    def can_manage(self) -> bool:
        return self.is_staff or self.role == MembershipRole.MANAGER

    @property
    def sees_all_labels(self) -> bool:
        """Return whether every annotation and label is visible (staff, managers, reviewers)."""
        return self.is_staff or self.role in (MembershipRole.MANAGER, MembershipRole.REVIEWER)


def user_is_staff(user: AnyUser) -> bool:
    """Return whether the user sees and may change every dataset."""
    return bool(user.is_authenticated and (getattr(user, "is_staff", False) or getattr(user, "is_superuser", False)))


def user_can_create_datasets(user: AnyUser) -> bool:
    """Return whether the user is staff or in the Django group "manager" (one query for non-staff)."""
    if user_is_staff(user):
        return True
    if not isinstance(user, AbstractUser):
        return False
    return user.groups.filter(name=DATASET_CREATOR_GROUP).exists()


def _role_subquery(user: AnyUser) -> Subquery:
    return Subquery(
        DatasetMembership.objects.filter(dataset=OuterRef("pk"), user_id=user_id_of(user)).values("role")[:1]
    )


def _solution_count_subquery() -> Coalesce:
    counts = (
        Solution.objects.filter(dataset=OuterRef("pk"))
        .order_by()
        .values("dataset")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def dataset_list_for_user(*, user: AnyUser) -> QuerySet[Dataset]:
    """Return the datasets the user may see, with `user_role` and `solution_count` annotated (one query)."""
    datasets = Dataset.objects.select_related("created_by").annotate(
        user_role=_role_subquery(user), solution_count=_solution_count_subquery()
    )
    if not user_is_staff(user):
        datasets = datasets.filter(memberships__user_id=user_id_of(user))
    return datasets.order_by("name", "pk")


def dataset_access_get(*, slug: str, user: AnyUser) -> DatasetAccess:
    """Return the dataset with this slug as the user sees it; NotFoundError when it is not visible to them."""
    dataset = (
        Dataset.objects.select_related("created_by").annotate(user_role=_role_subquery(user)).filter(slug=slug).first()
    )
    staff = user_is_staff(user)
    role = dataset.user_role if dataset is not None else None  # type: ignore[attr-defined]
    if dataset is None or not (staff or role):
        raise NotFoundError(
            f"Dataset {slug!r} not found.", errors={"slug": ["No dataset with this slug is visible to you."]}
        )
    return DatasetAccess(dataset=dataset, role=role, is_staff=staff)


def memberships_for_user(*, user: AnyUser) -> QuerySet[DatasetMembership]:
    """Return the user's memberships with their datasets, by dataset name."""
    return (
        DatasetMembership.objects.filter(user_id=user_id_of(user)).select_related("dataset").order_by("dataset__name")
    )


def dataset_get_with_counts(*, dataset_id: int, user: AnyUser) -> Dataset:
    """Return one visible dataset with `user_role` and `solution_count` annotated (one query)."""
    return dataset_list_for_user(user=user).get(pk=dataset_id)


def session_user_get(*, user_id: int | str) -> User | None:
    """Return the user with this id for a session, with `may_review` annotated; None if there is none.

    `may_review` is True for staff and for reviewers or managers of some dataset: the page header shows
    them a link to the review pages. It rides on the query that loads the session's user anyway, so
    every page learns it without a query of its own.
    """
    reviews = DatasetMembership.objects.filter(
        user_id=OuterRef("pk"), role__in=[MembershipRole.REVIEWER, MembershipRole.MANAGER]
    )
    may_review = ExpressionWrapper(Q(is_staff=True) | Q(is_superuser=True) | Q(Exists(reviews)), BooleanField())
    return User.objects.annotate(may_review=may_review).filter(pk=user_id).first()


def error_types_in_use(*, dataset: Dataset, slugs: list[str]) -> dict[str, int]:
    """Return {slug: annotations and final labels using it} for those of `slugs` the dataset uses (2 queries)."""
    if not slugs:
        return {}
    used: dict[str, int] = {}
    for model in (Annotation, FinalLabel):
        rows = (
            model.objects.filter(solution__dataset=dataset, error_type__in=slugs)
            .values_list("error_type")
            .annotate(n=Count("id"))
            .order_by()
        )
        for slug, count in rows:
            used[slug] = used.get(slug, 0) + count
    return used


def users_by_username(*, usernames: Iterable[str]) -> dict[str, User]:
    """Return the existing users with these usernames, by username (one query)."""
    wanted = [name for name in set(usernames) if "\x00" not in name]
    return {user.username: user for user in User.objects.filter(username__in=wanted)} if wanted else {}
