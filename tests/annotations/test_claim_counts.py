"""The claim counts kept on each solution row (migration 0011's triggers) give the exact live claims.

The invariant checked everywhere: for any moment from now on, the queue's `live_claims_expression`
(which reads `claim_count` and `claim_expires_first`, and counts the claim table only where they cannot
tell) equals the number of unexpired claims in the claim table. No sweep has to run for it to hold.
"""

import datetime
import random
import threading

import pytest
from django.db import connection
from django.db.models import Count, Q
from django.utils import timezone

from annotations.models import Claim, Solution
from annotations.selectors.queue import live_claims_expression, live_claims_on_row
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next, claim_release, claim_renew, claims_release_expired
from tests.annotations.test_workbench_concurrency import THREADS, storm
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, SolutionFactory

MINUTE = datetime.timedelta(minutes=1)


def assert_live_counts_exact(moments=(0, 5, 45)):
    """Assert the maintained columns tell the live claims of every solution, now and `moments` minutes on."""
    now = timezone.now()
    for minutes in moments:
        moment = now + minutes * MINUTE
        real = dict(
            Solution.objects.annotate(live=Count("claims", filter=Q(claims__expires_at__gt=moment))).values_list(
                "pk", "live"
            )
        )
        kept = dict(Solution.objects.annotate(live=live_claims_expression(now=moment)).values_list("pk", "live"))
        assert kept == real, f"{minutes} minutes on"
        for solution in Solution.objects.all():
            assert live_claims_on_row(solution, moment) in (None, real[solution.pk])


def columns(solution):
    solution.refresh_from_db()
    return solution.claim_count, solution.claim_expires_first


@pytest.mark.django_db
def test_each_claim_change_keeps_the_counts_exact():
    dataset = DatasetFactory(slug="counts", annotations_per_solution=3)
    solution = SolutionFactory(dataset=dataset)
    users = [member(dataset, f"user{index}") for index in range(3)]
    now = timezone.now()
    first = Claim.objects.create(solution=solution, annotator=users[0], expires_at=now + 10 * MINUTE)
    Claim.objects.create(solution=solution, annotator=users[1], expires_at=now + 20 * MINUTE)
    assert columns(solution) == (2, now + 10 * MINUTE)
    assert_live_counts_exact()

    first.expires_at = now + 30 * MINUTE  # a renewal: the columns stay; the queue counts once 10 minutes pass
    first.save(update_fields=["expires_at"])
    assert columns(solution) == (2, now + 10 * MINUTE)
    assert_live_counts_exact()

    Claim.objects.filter(pk=first.pk).update(expires_at=now - MINUTE)  # an expiry moved earlier: recounted
    assert columns(solution) == (2, now - MINUTE)
    assert_live_counts_exact()

    claims_release_expired()
    # PostgreSQL leaves the columns (the sweep locks no solution row); they still send the queue to count.
    # SQLite, with no row locks to avoid, recounts on every delete.
    assert columns(solution) == ((2, now - MINUTE) if connection.vendor == "postgresql" else (1, now + 20 * MINUTE))
    assert Claim.objects.count() == 1
    assert_live_counts_exact()

    Claim.objects.create(solution=solution, annotator=users[2], expires_at=now + 5 * MINUTE)  # recounted
    assert columns(solution) == (2, now + 5 * MINUTE)
    claim_release(solution_id=solution.pk, annotator=users[2])  # a live claim deleted: recounted
    assert columns(solution) == (1, now + 20 * MINUTE)
    Claim.objects.all().delete()
    assert columns(solution) == (0, None)
    assert_live_counts_exact()


@pytest.mark.django_db
def test_the_columns_cannot_be_overwritten_with_stale_values():
    solution = SolutionFactory()
    Claim.objects.create(
        solution=solution, annotator=member(solution.dataset, "holder"), expires_at=timezone.now() + MINUTE
    )
    expires = columns(solution)[1]
    Solution.objects.filter(pk=solution.pk).update(claim_count=0, claim_expires_first=None)
    assert columns(solution) == (1, expires)


@pytest.mark.django_db
def test_the_queue_serves_a_solution_whose_claims_expired_without_a_sweep():
    dataset = DatasetFactory(slug="expired", annotations_per_solution=2, max_annotations=2)
    solution = SolutionFactory(dataset=dataset)
    past = timezone.now() - MINUTE
    for name in ("gone1", "gone2"):
        Claim.objects.create(solution=solution, annotator=member(dataset, name), expires_at=past)
    assert columns(solution)[0] == 2  # both still there, expired: no sweep ran

    claim = claim_next(dataset=dataset, annotator=member(dataset, "newcomer"))

    assert claim is not None and claim.solution_id == solution.pk
    assert columns(solution) == (3, past)
    assert claim_next(dataset=dataset, annotator=member(dataset, "second")) is not None
    assert claim_next(dataset=dataset, annotator=member(dataset, "third")) is None  # two live claims: k reached
    assert_live_counts_exact()


@pytest.mark.django_db
def test_a_renewed_expired_claim_still_counts():
    dataset = DatasetFactory(slug="renewed", annotations_per_solution=1, max_annotations=1)
    solution = SolutionFactory(dataset=dataset)
    holder = member(dataset, "holder")
    Claim.objects.create(solution=solution, annotator=holder, expires_at=timezone.now() - MINUTE)

    claim_renew(solution_id=solution.pk, annotator=holder)  # taken back: the protocol still had room

    assert claim_next(dataset=dataset, annotator=member(dataset, "other")) is None
    assert_live_counts_exact()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_counts_stay_exact_after_a_storm_of_claims_submits_releases_and_expiries():
    dataset = DatasetFactory(slug="count-storm", annotations_per_solution=3, max_annotations=5)
    solutions = [SolutionFactory(dataset=dataset) for _ in range(12)]
    users = [member(dataset, f"stormer{index}") for index in range(THREADS)]
    now = timezone.now()
    # Half the users start with a claim that expired (or soon will) and was never swept.
    Claim.objects.bulk_create(
        [
            Claim(solution=solutions[index % len(solutions)], annotator=user, expires_at=now + (index % 3 - 2) * MINUTE)
            for index, user in enumerate(users[::2])
        ]
    )
    sweeping = threading.Event()

    def sweep():
        while not sweeping.is_set():
            claims_release_expired()
        connection.close()

    def work(user):
        chooser = random.Random(user.pk)
        for _round in range(4):
            claim = claim_next(dataset=dataset, annotator=user)
            if claim is None:
                return
            if chooser.random() < 0.5:
                annotation_submit(
                    solution_id=claim.solution_id, annotator=user, data=AnnotationInput(earliest_error_step=0)
                )
            elif chooser.random() < 0.5:
                claim_release(solution_id=claim.solution_id, annotator=user)
            else:  # walked away: the claim expires on its own
                Claim.objects.filter(pk=claim.pk).update(expires_at=timezone.now() - MINUTE)

    sweeper = threading.Thread(target=sweep)
    sweeper.start()
    try:
        _results, errors = storm(work, users)
    finally:
        sweeping.set()
        sweeper.join(timeout=60)

    assert errors == []
    assert_live_counts_exact()
    live = Claim.objects.filter(expires_at__gt=timezone.now())
    per_solution = Solution.objects.annotate(
        held=Count("claims", filter=Q(claims__in=live), distinct=True) + Count("annotations", distinct=True)
    )
    assert max(per_solution.values_list("held", flat=True)) <= 5
