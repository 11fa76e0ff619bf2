"""Drill: a claim storm on PostgreSQL: 32 annotators work through ~1,000 claims at once.

Every annotator loops claim -> submit until the queue is empty. Half of the solutions get unanimous
labels, half get disagreeing ones (ProcessBench protocol: k=3, up to 5, else discard). Afterwards no
solution holds more annotations than its protocol allows, every submit that returned is stored, and
each solution ends with exactly one outcome: one final label, or discarded without one.
"""

import threading
from collections import Counter

import pytest
from django.db import connection

from annotations.models import Annotation, Claim, FinalLabel, Solution, SolutionStatus
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, SolutionFactory

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ANNOTATORS = 32
UNANIMOUS = 200  # 3 claims each
DISAGREEING = 80  # 5 claims each: the labels never reach 3 equal votes, so they end discarded


SPREAD = (-1, 0, 1, -1, 0)  # the n-th label of a disagreeing solution: no label reaches k=3 among 5


def test_a_thousand_claims_by_32_annotators_respect_the_protocol():
    dataset = DatasetFactory(slug="storm-drill", annotations_per_solution=3, max_annotations=5)
    unanimous = [SolutionFactory(dataset=dataset) for _ in range(UNANIMOUS)]
    disagreeing = [SolutionFactory(dataset=dataset) for _ in range(DISAGREEING)]
    unanimous_ids = {solution.pk for solution in unanimous}
    users = [member(dataset, f"storm{index}") for index in range(ANNOTATORS)]
    barrier = threading.Barrier(ANNOTATORS)
    submitted: list[int] = []
    claims: list[int] = []
    errors: list[str] = []
    lock = threading.Lock()
    given: Counter[int] = Counter()

    def label_for(solution_id: int) -> int:
        if solution_id in unanimous_ids:
            return 1
        with lock:
            given[solution_id] += 1
            return SPREAD[(given[solution_id] - 1) % len(SPREAD)]

    def work(index: int) -> None:
        user = users[index]
        try:
            barrier.wait(timeout=60)
            while (claim := claim_next(dataset=dataset, annotator=user)) is not None:
                annotation = annotation_submit(
                    solution_id=claim.solution_id,
                    annotator=user,
                    data=AnnotationInput(earliest_error_step=label_for(claim.solution_id)),
                )
                with lock:
                    claims.append(claim.solution_id)
                    submitted.append(annotation.pk)
        except Exception as error:  # collected and asserted below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(index,)) for index in range(ANNOTATORS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)

    assert errors == []
    assert len(claims) >= 3 * UNANIMOUS + 3 * DISAGREEING
    assert sorted(Annotation.objects.values_list("pk", flat=True)) == sorted(submitted)  # no lost submit
    per_solution = Counter(Annotation.objects.values_list("solution_id", flat=True))
    assert all(per_solution[pk] == 3 for pk in unanimous_ids)
    assert all(3 <= per_solution[s.pk] <= 5 for s in disagreeing)
    statuses = dict(Solution.objects.values_list("pk", "status"))
    assert {statuses[pk] for pk in unanimous_ids} == {SolutionStatus.FINAL}
    assert FinalLabel.objects.filter(solution_id__in=unanimous_ids, label=1, source="unanimous").count() == UNANIMOUS
    assert {statuses[s.pk] for s in disagreeing} == {SolutionStatus.DISCARDED}
    assert not FinalLabel.objects.filter(solution__in=disagreeing).exists()
    assert not Claim.objects.exists()
