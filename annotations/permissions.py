"""Small permission classes for the API, combined with & and | in the views.

Dataset-scoped classes ask the view for `get_access()` (a DatasetAccess); resolving it raises 404 for a
dataset the user may not see, so a non-member never learns that a dataset exists. Put `IsStaff | ...`
first so that staff never need a membership. A composed class has no message of its own: views name
what was refused in their `denied_message`.
"""

from typing import Any, Protocol

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from annotations.models import MembershipRole
from annotations.selectors.datasets import DatasetAccess, user_can_create_datasets, user_is_staff


class DatasetScopedView(Protocol):
    def get_access(self) -> DatasetAccess: ...


class IsReadOnly(BasePermission):
    """Allow safe methods (GET, HEAD, OPTIONS)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS


class IsStaff(BasePermission):
    """Allow staff and superusers."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_is_staff(request.user)


class InManagerGroup(BasePermission):
    """Allow users in the Django group "manager" (those may create datasets)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_can_create_datasets(request.user)


class IsDatasetMember(BasePermission):
    """Allow members of the view's dataset (resolving it answers 404 to everyone else but staff)."""

    def has_permission(self, request: Request, view: DatasetScopedView) -> bool:  # type: ignore[override]
        return view.get_access().is_member


class IsDatasetManager(BasePermission):
    """Allow the managers of the view's dataset."""

    def has_permission(self, request: Request, view: DatasetScopedView) -> bool:  # type: ignore[override]
        return view.get_access().role == MembershipRole.MANAGER


class IsDatasetReviewer(BasePermission):
    """Allow the reviewers and managers of the view's dataset (who see every label of it)."""

    def has_permission(self, request: Request, view: DatasetScopedView) -> bool:  # type: ignore[override]
        return view.get_access().role in (MembershipRole.REVIEWER, MembershipRole.MANAGER)
