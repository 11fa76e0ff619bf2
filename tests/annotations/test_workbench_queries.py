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

# Session and user lookups are 2 of these; "next" and a submit each run in one transaction, which shows as
# 2 SAVEPOINT statements here (the test itself runs inside one) and as BEGIN and COMMIT in production
# (Django logs both there too): the same counts.
# session, user, dataset, savepoint, my claims in the dataset, lock one candidate (its row tells the live
# claims: claim_count and claim_expires_first, kept by triggers), insert the claim, release:
NEXT_NEW_CLAIM_QUERIES = 8
NEXT_HELD_CLAIM_QUERIES = 7  # session, user, dataset, savepoint, my claims (one live), renew it, release
PAGE_QUERIES = 5  # session, user, solution (+problem, dataset, membership, claim), my annotation, suggestions
PAGE_QUERIES_BLIND = 4  # no suggestions on a blind dataset
# With gold_rate > 0, one more to ask gold_should_serve; a gold claim: gold candidate, savepoint, insert, release.
NEXT_GOLD_RATE_QUERIES = NEXT_NEW_CLAIM_QUERIES + 1
NEXT_GOLD_CLAIM_QUERIES = 11
# session, user, savepoint, lock the solution (+dataset, membership, my annotation's id, suggestions shown),
# take my claim (DELETE ... RETURNING), insert the annotation, store the recounted annotation count, release:
SUBMIT_QUERIES = 8
# The submit that brings the k-th annotation: the count is stored with the decision instead, after reading
# the labels (1), the current final label (1), the annotators' explanations (1), inserting the final label
# and its history row (2):
SUBMIT_FINAL_QUERIES = SUBMIT_QUERIES + 5
# A change of my annotation: read it (instead of taking a claim) and update it (instead of inserting).
SUBMIT_CHANGE_QUERIES = SUBMIT_QUERIES
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


SUBMIT_BODY = {"earliest_error_step": "1", "rationale": "1 + 1 is not 3.", "seconds_spent": "12"}


@pytest.mark.parametrize("size", [4, 80])
def test_submit(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    claim = claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    with django_assert_num_queries(SUBMIT_QUERIES):
        response = client.post(reverse("annotations:annotate", args=[claim.solution_id]), SUBMIT_BODY)
    assert response.url == reverse("annotations:next", args=[dataset.slug])
    solution = Solution.objects.get(pk=claim.solution_id)
    assert (solution.annotation_count, solution.status, solution.claim_count) == (1, "open", 0)
    assert solution.annotations.get().seconds_spent == 12.0
    assert not Claim.objects.filter(annotator=alice).exists()


@pytest.mark.parametrize("size", [4, 80])
def test_submit_bringing_the_final_label(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    claim = claim_next(dataset=dataset, annotator=alice)
    AnnotationFactory(solution=claim.solution, annotator=member(dataset, "bob"), earliest_error_step=1)
    Solution.objects.filter(pk=claim.solution_id).update(annotation_count=1)
    client.force_login(alice)
    with django_assert_num_queries(SUBMIT_FINAL_QUERIES):
        client.post(reverse("annotations:annotate", args=[claim.solution_id]), SUBMIT_BODY)
    solution = Solution.objects.select_related("final_label").get(pk=claim.solution_id)
    assert (solution.annotation_count, solution.status) == (2, "final")
    assert (solution.final_label.label, solution.final_label.source) == (1, "unanimous")


@pytest.mark.parametrize("size", [4, 80])
def test_submit_changing_my_annotation(client, django_assert_num_queries, size):
    dataset, alice = build(size)
    claim = claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    url = reverse("annotations:annotate", args=[claim.solution_id])
    client.post(url, SUBMIT_BODY)
    with django_assert_num_queries(SUBMIT_CHANGE_QUERIES):
        response = client.post(url, {**SUBMIT_BODY, "earliest_error_step": "-1", "seconds_spent": "5"})
    assert response.url == reverse("annotations:next", args=[dataset.slug])
    annotation = Solution.objects.get(pk=claim.solution_id).annotations.get()
    assert (annotation.earliest_error_step, annotation.seconds_spent) == (-1, 17.0)
