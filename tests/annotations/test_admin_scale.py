"""Admin list pages stay usable on big tables: the number of queries does not grow with the rows shown."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PAGES = [
    "/admin/annotations/solution/",
    "/admin/annotations/annotation/",
    "/admin/annotations/suggestion/",
    "/admin/annotations/finallabel/",
    "/admin/annotations/problem/",
    "/admin/annotations/datasetmembership/",
    "/admin/annotations/claim/",
    "/admin/annotations/export/",
    "/admin/annotations/finallabelchange/",
    "/admin/scoring/scoringrun/",
    "/admin/annotations/solution/?q=gsm8k",
    "/admin/annotations/solution/?status__exact=open&is_gold__exact=0",
]


def _add_rows(dataset, start, count):
    for index in range(start, start + count):
        solution = SolutionFactory(dataset=dataset, external_id=f"gsm8k-{dataset.slug}-{index}")
        AnnotationFactory(solution=solution, earliest_error_step=index % 3 - 1)
        SuggestionFactory(solution=solution, method="arithmetic")
        FinalLabelFactory(solution=solution)


def _queries(client, path):
    with CaptureQueriesContext(connection) as context:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(context.captured_queries)


@pytest.mark.parametrize("path", PAGES)
def test_admin_lists_use_a_constant_number_of_queries(client, path):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    dataset = DatasetFactory(slug="admin-scale")
    _add_rows(dataset, 0, 3)
    small = _queries(client, path)
    _add_rows(dataset, 3, 30)
    assert _queries(client, path) == small
