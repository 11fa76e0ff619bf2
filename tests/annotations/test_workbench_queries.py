"""A fixed number of SQL queries per workbench request, whatever the dataset size."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from annotations.models import Claim, Dataset, Solution
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
from tests.factories import AnnotationFactory, DatasetFactory, SolutionFactory, SuggestionFactory

pytestmark = pytest.mark.django_db

# Session and user lookups are 2 of these; "next" also runs in a transaction (2 SAVEPOINT statements
# here, as the test itself runs inside one).
# session, user, dataset, savepoint, drop expired, held?, lock candidate, recount, insert, release:
NEXT_NEW_CLAIM_QUERIES = 10
NEXT_HELD_CLAIM_QUERIES = 8  # session, user, dataset, savepoint, drop expired, held, renew, release
PAGE_QUERIES = 5  # session, user, solution (+problem, dataset, membership, claim), my annotation, suggestions
PAGE_QUERIES_BLIND = 4  # no suggestions on a blind dataset
# With gold_rate > 0, one more to ask gold_should_serve; a gold claim: gold candidate, savepoint, insert, release.
NEXT_GOLD_RATE_QUERIES = NEXT_NEW_CLAIM_QUERIES + 1
NEXT_GOLD_CLAIM_QUERIES = 12
HOME_QUERIES = 4  # session, user, memberships with my counts, totals per dataset


def build(size, *, blind=False):
    """Return (dataset, annotator, client-ready) with `size` solutions, half of them already full of claims."""
    dataset = DatasetFactory(slug=f"size-{size}", annotations_per_solution=2, blind=blind)
    solutions = [SolutionFactory(dataset=dataset) for _ in range(size)]
    for solution in solutions:
        SuggestionFactory(solution=solution, method="judge", label=0, model_name="judge-model")
    others = [member(dataset, f"other{index}") for index in range(2)]
    expires = timezone.now() + datetime.timedelta(minutes=30)
    full = solutions[: size // 2]
    Claim.objects.bulk_create(
        [Claim(solution=solution, annotator=user, expires_at=expires) for solution in full for user in others]
    )
    return dataset, member(dataset, "alice")


@pytest.mark.parametrize("size", [4, 80])
def test_next_claiming_a_new_solution(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    client.force_login(alice)
    with django_assert_num_queries(NEXT_NEW_CLAIM_QUERIES):
        response = client.get(reverse("annotations:next", args=[dataset.slug]))
    claimed = Claim.objects.get(annotator=alice).solution_id
    assert response.url == reverse("annotations:annotate", args=[claimed])
    assert claimed == Solution.objects.filter(dataset=dataset).order_by("pk")[size // 2].pk


@pytest.mark.parametrize("size", [4, 80])
def test_next_with_a_gold_rate(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    Dataset.objects.filter(pk=dataset.pk).update(gold_rate=0.5)
    gold = [SolutionFactory(dataset=dataset, is_gold=True, imported_label=0) for _ in range(size // 2)]
    client.force_login(alice)
    with django_assert_num_queries(NEXT_GOLD_CLAIM_QUERIES):
        response = client.get(reverse("annotations:next", args=[dataset.slug]))
    assert response.url == reverse("annotations:annotate", args=[gold[0].pk])
    Claim.objects.filter(annotator=alice).delete()
    AnnotationFactory(solution=gold[0], annotator=alice)
    with django_assert_num_queries(NEXT_GOLD_RATE_QUERIES):
        response = client.get(reverse("annotations:next", args=[dataset.slug]))
    ordinary = Solution.objects.filter(dataset=dataset, is_gold=False).order_by("pk")[size // 2].pk
    assert response.url == reverse("annotations:annotate", args=[ordinary])


@pytest.mark.parametrize("size", [4, 80])
def test_next_returning_my_held_claim(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    held = claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    with django_assert_num_queries(NEXT_HELD_CLAIM_QUERIES):
        response = client.get(reverse("annotations:next", args=[dataset.slug]))
    assert response.url == reverse("annotations:annotate", args=[held.solution_id])


@pytest.mark.parametrize("size", [4, 80])
@pytest.mark.parametrize(("blind", "expected"), [(False, PAGE_QUERIES), (True, PAGE_QUERIES_BLIND)])
def test_annotation_page(client, django_assert_num_queries, size, blind, expected):
    dataset, alice = build(size, blind=blind)
    claim = claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    with django_assert_num_queries(expected):
        response = client.get(reverse("annotations:annotate", args=[claim.solution_id]))
    assert response.status_code == 200
    assert ("judge-model" in response.content.decode()) is not blind


@pytest.mark.parametrize("size", [4, 80])
def test_home(client, django_assert_num_queries, size):
    _dataset, alice = build(size)
    DatasetFactory(slug=f"second-{size}")
    member(DatasetFactory(slug=f"third-{size}"), "alice")
    client.force_login(alice)
    with django_assert_num_queries(HOME_QUERIES):
        response = client.get(reverse("annotations:home"))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [3, 40])
def test_my_work(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    for solution in Solution.objects.filter(dataset=dataset):
        AnnotationFactory(solution=solution, annotator=alice, rationale="why", flag_unsure=True)
    client.force_login(alice)
    # session, user, the dataset choices of the filter form, the count, the page of rows, my gold feedback
    with django_assert_num_queries(6):
        response = client.get(reverse("annotations:my_work"), {"flagged": "yes"})
    assert f"{size} annotations." in response.content.decode()
