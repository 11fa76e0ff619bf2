"""Who may open review and quality pages: staff, and reviewers or managers of the dataset.

Non-members get 404 (a dataset they may not see does not exist for them); annotators get 403.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from annotations.selectors.datasets import DatasetAccess, dataset_access_get
from prmweb.errors import NotFoundError

DENIED = "Only reviewers and managers of this dataset may open its review queue and quality dashboard."


def reviewer_access(request: HttpRequest, slug: str) -> DatasetAccess:
    """Return the dataset as the user sees it; 404 for non-members, 403 unless they may see every label."""
    try:
        access = dataset_access_get(slug=slug, user=request.user)
    except NotFoundError as error:
        raise Http404(error.message) from error
    if not access.sees_all_labels:
        raise PermissionDenied(DENIED)
    return access
