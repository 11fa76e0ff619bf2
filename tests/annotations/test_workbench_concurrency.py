"""Claim storm on PostgreSQL: 32 annotators clicking "next" at once never overfill a solution."""

import threading
from collections import Counter

import pytest
from django.db import connection

from annotations.models import Annotation, Claim, Solution
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, SolutionFactory

THREADS = 32


def storm(worker, users):
    """Run `worker(user)` in one thread per user, all released at once; return results and errors."""
    barrier = threading.Barrier(len(users))
    results, errors = {}, []

    def run(user):
        try:
            barrier.wait(timeout=30)
            results[user.pk] = worker(user)
        except Exception as error:  # collected and asserted on below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_32_annotators_claiming_at_once_never_exceed_the_protocol_count():
    dataset = DatasetFactory(slug="storm", annotations_per_solution=3, max_annotations=5)
    solutions = [SolutionFactory(dataset=dataset) for _ in range(7)]  # 21 slots for 32 annotators
    users = [member(dataset, f"storm{index}") for index in range(THREADS)]

    results, errors = storm(lambda user: claim_next(dataset=dataset, annotator=user), users)

    assert errors == []
    per_solution = Counter(Claim.objects.values_list("solution_id", flat=True))
    assert max(per_solution.values()) == 3
    assert sum(per_solution.values()) == 3 * len(solutions)  # every slot taken, none twice
    assert sorted(per_solution) == sorted(solution.pk for solution in solutions)
    assert Counter(Claim.objects.values_list("annotator_id", flat=True)).most_common(1)[0][1] == 1
    assert sum(1 for claim in results.values() if claim is None) == THREADS - 3 * len(solutions)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claim_and_submit_storm_loses_no_submit_and_never_exceeds_k():
    dataset = DatasetFactory(slug="storm-submit", annotations_per_solution=2, max_annotations=2)
    solutions = [SolutionFactory(dataset=dataset) for _ in range(8)]
    users = [member(dataset, f"worker{index}") for index in range(THREADS)]

    def claim_and_submit(user):
        claim = claim_next(dataset=dataset, annotator=user)
        if claim is None:
            return None
        return annotation_submit(
            solution_id=claim.solution_id, annotator=user, data=AnnotationInput(earliest_error_step=0)
        ).pk

    results, errors = storm(claim_and_submit, users)

    assert errors == []
    stored = [pk for pk in results.values() if pk is not None]
    assert Annotation.objects.count() == len(stored) == 2 * len(solutions)
    per_solution = Counter(Annotation.objects.values_list("solution_id", flat=True))
    assert set(per_solution.values()) == {2}
    counts = dict(Solution.objects.values_list("pk", "annotation_count"))
    assert counts == dict(per_solution)
    assert not Claim.objects.exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_claimer_waits_for_locked_rows_outside_any_transaction(monkeypatch):
    dataset = DatasetFactory(slug="busy")
    solution = SolutionFactory(dataset=dataset)
    user = member(dataset, "waiter")
    locked, release, done = threading.Event(), threading.Event(), threading.Event()

    def hold_the_row():
        from django.db import transaction

        with transaction.atomic():
            Solution.objects.select_for_update().get(pk=solution.pk)
            locked.set()
            release.wait(timeout=30)
        connection.close()
        done.set()

    waits = []

    def sleep(seconds):
        waits.append((seconds, connection.in_atomic_block))
        release.set()
        done.wait(timeout=30)

    monkeypatch.setattr("annotations.services.claims.time.sleep", sleep)
    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(timeout=30)

    claim = claim_next(dataset=dataset, annotator=user)
    holder.join(timeout=30)

    assert waits == [(0.02, False)]  # one short wait, with no transaction (and so no row lock) open
    assert claim is not None and claim.solution_id == solution.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_double_submit_stores_one_annotation_and_the_page_answers_both(client):
    from django.test import Client
    from django.urls import reverse

    dataset = DatasetFactory(slug="double", annotations_per_solution=3)
    solution = SolutionFactory(dataset=dataset)
    user = member(dataset, "clicker")
    claim_next(dataset=dataset, annotator=user)
    url = reverse("annotations:annotate", args=[solution.pk])
    barrier = threading.Barrier(4)
    statuses, errors = [], []

    def post():
        browser = Client()
        browser.force_login(user)
        try:
            barrier.wait(timeout=30)
            statuses.append(browser.post(url, {"earliest_error_step": "1", "seconds_spent": "5"}).status_code)
        except Exception as error:  # collected and asserted on below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert statuses == [302] * 4  # one stored it; the others changed it to the same label (or found it stored)
    assert Annotation.objects.filter(solution=solution, annotator=user).count() == 1
    assert Solution.objects.get(pk=solution.pk).annotation_count == 1
    assert not Claim.objects.exists()
