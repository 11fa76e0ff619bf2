"""The queue: which solution "next" hands out, claims, expiry, heartbeat renewal and release."""

import datetime

import pytest
from django.utils import timezone

from annotations.models import Claim, Solution, SolutionStatus
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import (
    claim_next,
    claim_release,
    claim_renew,
    claims_release_expired,
)
from annotations.services.gold import solution_set_gold
from annotations.tasks import release_expired_claims
from prmweb.errors import ConflictError, NotFoundError
from tests.annotations.workbench_helpers import member, solutions
from tests.factories import AnnotationFactory, DatasetFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def data():
    dataset = DatasetFactory(slug="queue", annotations_per_solution=2, max_annotations=3)
    return dataset, solutions(dataset, 3)


def test_next_claims_the_oldest_open_solution_with_the_dataset_expiry(data):
    dataset, (first, _second, _third) = data
    alice = member(dataset, "alice")
    before = timezone.now()
    claim = claim_next(dataset=dataset, annotator=alice)
    assert claim.solution_id == first.pk
    assert claim.annotator_id == alice.pk
    expected = before + datetime.timedelta(minutes=dataset.claim_minutes)
    assert abs((claim.expires_at - expected).total_seconds()) < 5


def test_a_live_claim_comes_back_on_next(data):
    dataset, _ = data
    alice = member(dataset, "alice")
    first = claim_next(dataset=dataset, annotator=alice)
    again = claim_next(dataset=dataset, annotator=alice)
    assert again.pk == first.pk
    assert Claim.objects.filter(annotator=alice).count() == 1


def test_a_solution_is_handed_out_at_most_k_times(data):
    dataset, (first, second, third) = data
    users = [member(dataset, f"user{index}") for index in range(6)]
    claimed = [claim_next(dataset=dataset, annotator=user).solution_id for user in users]
    assert claimed == [first.pk, first.pk, second.pk, second.pk, third.pk, third.pk]
    late = member(dataset, "late")
    assert claim_next(dataset=dataset, annotator=late) is None


def test_annotations_count_towards_k_and_my_annotated_solutions_are_skipped(data):
    dataset, (first, second, _third) = data
    alice, bob, carol = member(dataset, "alice"), member(dataset, "bob"), member(dataset, "carol")
    AnnotationFactory(solution=first, annotator=alice)
    Solution.objects.filter(pk=first.pk).update(annotation_count=1)
    assert claim_next(dataset=dataset, annotator=bob).solution_id == first.pk  # 1 annotation + bob = k
    assert claim_next(dataset=dataset, annotator=carol).solution_id == second.pk
    assert claim_next(dataset=dataset, annotator=alice).solution_id == second.pk  # never her annotated one


def test_expired_claims_of_others_do_not_count(data):
    dataset, (first, _second, _third) = data
    alice, bob, carol = member(dataset, "alice"), member(dataset, "bob"), member(dataset, "carol")
    claim_next(dataset=dataset, annotator=alice)
    claim_next(dataset=dataset, annotator=bob)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert claim_next(dataset=dataset, annotator=carol).solution_id == first.pk


def test_my_expired_claim_is_replaced_not_duplicated(data):
    dataset, (first, _second, _third) = data
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(minutes=1))
    claim = claim_next(dataset=dataset, annotator=alice)
    assert claim.solution_id == first.pk
    assert claim.expires_at > timezone.now()
    assert Claim.objects.filter(annotator=alice).count() == 1


def test_skipped_solutions_are_not_offered_again(data):
    dataset, (first, second, _third) = data
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    claim_release(solution_id=first.pk, annotator=alice)
    assert claim_next(dataset=dataset, annotator=alice, skipped_ids=[first.pk]).solution_id == second.pk


def test_only_open_solutions_that_need_people_are_served():
    dataset = DatasetFactory(slug="states")
    alice = member(dataset, "alice")
    SolutionFactory(dataset=dataset, status=SolutionStatus.FINAL)
    SolutionFactory(dataset=dataset, status=SolutionStatus.NEEDS_REVIEW)
    SolutionFactory(dataset=dataset, status=SolutionStatus.DISCARDED)
    SolutionFactory(dataset=dataset, needs_humans=False)
    assert claim_next(dataset=dataset, annotator=alice) is None
    wanted = SolutionFactory(dataset=dataset)
    assert claim_next(dataset=dataset, annotator=alice).solution_id == wanted.pk


def test_other_datasets_are_never_served():
    mine, other = DatasetFactory(slug="mine"), DatasetFactory(slug="other")
    alice = member(mine, "alice")
    SolutionFactory(dataset=other)
    assert claim_next(dataset=mine, annotator=alice) is None


def test_fewest_annotations_first_order():
    dataset = DatasetFactory(slug="fewest", queue_order="fewest_annotations_first")
    busy, idle = SolutionFactory(dataset=dataset), SolutionFactory(dataset=dataset)
    for name in ("a1", "a2"):
        AnnotationFactory(solution=busy, annotator=UserFactory(username=name))
    Solution.objects.filter(pk=busy.pk).update(annotation_count=2)
    alice = member(dataset, "alice")
    assert claim_next(dataset=dataset, annotator=alice).solution_id == idle.pk


def test_a_disagreement_asks_for_one_more_annotator_up_to_the_maximum():
    dataset = DatasetFactory(slug="extra", annotations_per_solution=2, max_annotations=3)
    solution = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=solution, annotator=UserFactory(username="a1"), earliest_error_step=0)
    AnnotationFactory(solution=solution, annotator=UserFactory(username="a2"), earliest_error_step=1)
    Solution.objects.filter(pk=solution.pk).update(annotation_count=2)
    third, fourth = member(dataset, "third"), member(dataset, "fourth")
    assert claim_next(dataset=dataset, annotator=third).solution_id == solution.pk
    assert claim_next(dataset=dataset, annotator=fourth) is None


def test_gold_solutions_are_mixed_in_at_the_gold_rate_once_per_annotator():
    dataset = DatasetFactory(slug="gold", gold_rate=1.0, annotations_per_solution=1)
    normal = SolutionFactory(dataset=dataset)
    gold = SolutionFactory(dataset=dataset, is_gold=True, annotation_count=7)
    alice = member(dataset, "alice")
    claim = claim_next(dataset=dataset, annotator=alice)
    assert claim.solution_id == gold.pk
    AnnotationFactory(solution=gold, annotator=alice)
    claim.delete()
    assert claim_next(dataset=dataset, annotator=alice).solution_id == normal.pk


def test_gold_solutions_are_not_served_without_a_gold_rate():
    dataset = DatasetFactory(slug="nogold", gold_rate=0.0)
    SolutionFactory(dataset=dataset, is_gold=True)
    assert claim_next(dataset=dataset, annotator=member(dataset, "alice")) is None


def test_heartbeat_extends_a_live_claim(data):
    dataset, (first, _second, _third) = data
    alice = member(dataset, "alice")
    claim = claim_next(dataset=dataset, annotator=alice)
    Claim.objects.filter(pk=claim.pk).update(expires_at=timezone.now() + datetime.timedelta(minutes=1))
    renewed = claim_renew(solution_id=first.pk, annotator=alice)
    assert renewed.expires_at > timezone.now() + datetime.timedelta(minutes=dataset.claim_minutes - 1)


def test_heartbeat_takes_back_an_expired_claim_while_there_is_room(data):
    dataset, (first, _second, _third) = data
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    renewed = claim_renew(solution_id=first.pk, annotator=alice)
    assert renewed.solution_id == first.pk
    assert renewed.expires_at > timezone.now() + datetime.timedelta(minutes=dataset.claim_minutes - 1)


def test_heartbeat_without_a_claim_is_refused_even_with_room(data):
    dataset, (first, second, _third) = data
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    Claim.objects.filter(annotator=alice).delete()  # released by the periodic task meanwhile
    for solution in (first, second):  # second: never handed to alice, so not hers to hold by id
        with pytest.raises(ConflictError) as error:
            claim_renew(solution_id=solution.pk, annotator=alice)
        assert error.value.message == (
            "You hold no claim on this solution: it was released, or never handed to you by the queue. "
            "Go on to the next solution."
        )
        assert error.value.errors == {"claim": ["none"]}
    assert not Claim.objects.exists()


def test_heartbeat_refuses_an_expired_claim_that_others_filled(data):
    dataset, (first, _second, _third) = data
    alice, bob, carol = member(dataset, "alice"), member(dataset, "bob"), member(dataset, "carol")
    claim_next(dataset=dataset, annotator=alice)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    claim_next(dataset=dataset, annotator=bob)
    claim_next(dataset=dataset, annotator=carol)
    with pytest.raises(ConflictError) as error:
        claim_renew(solution_id=first.pk, annotator=alice)
    assert error.value.message == (
        "Your claim on this solution expired and other annotators have taken it. Go on to the next solution."
    )
    assert not Claim.objects.filter(annotator=alice).exists()


def test_heartbeat_on_a_solution_outside_my_datasets_is_not_found(data):
    _dataset, (first, _second, _third) = data
    outsider = UserFactory(username="outsider")
    with pytest.raises(NotFoundError):
        claim_renew(solution_id=first.pk, annotator=outsider)
    assert not Claim.objects.exists()


def test_release_expired_claims_task_deletes_only_expired_ones(data):
    dataset, _ = data
    alice, bob = member(dataset, "alice"), member(dataset, "bob")
    claim_next(dataset=dataset, annotator=alice)
    kept = claim_next(dataset=dataset, annotator=bob)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert release_expired_claims() == 1
    assert list(Claim.objects.values_list("pk", flat=True)) == [kept.pk]
    assert claims_release_expired() == 0


def test_gold_comes_first_and_then_every_tenth_item_at_rate_0_1():
    dataset = DatasetFactory(slug="gold-rate", gold_rate=0.1, annotations_per_solution=1)
    ordinary = solutions(dataset, 20)
    gold = [solution_set_gold(solution_id=s.pk, is_gold=True) for s in solutions(dataset, 3, imported_label=1)]
    alice = member(dataset, "alice")
    served = []
    for _item in range(20):
        claim = claim_next(dataset=dataset, annotator=alice)
        served.append(claim.solution_id)
        annotation_submit(solution_id=claim.solution_id, annotator=alice, data=AnnotationInput(earliest_error_step=-1))
    # gold while alice's gold share, counting the item about to be served, is below 0.1: items 1 and 11
    expected = [gold[0].pk, *[s.pk for s in ordinary[:9]], gold[1].pk, *[s.pk for s in ordinary[9:18]]]
    assert served == expected
    assert claim_next(dataset=dataset, annotator=alice).solution_id == gold[2].pk  # the 21st item


def test_gold_is_served_by_the_rate_not_by_chance_for_every_annotator():
    dataset = DatasetFactory(slug="gold-fair", gold_rate=0.5, annotations_per_solution=2)
    solutions(dataset, 4)
    gold = [solution_set_gold(solution_id=s.pk, is_gold=True) for s in solutions(dataset, 2, imported_label=0)]
    for name in ("alice", "bob"):
        annotator = member(dataset, name)
        kinds = []
        for _item in range(4):
            claim = claim_next(dataset=dataset, annotator=annotator)
            kinds.append("gold" if claim.solution_id in {g.pk for g in gold} else "ordinary")
            annotation_submit(
                solution_id=claim.solution_id, annotator=annotator, data=AnnotationInput(earliest_error_step=0)
            )
        assert kinds == ["gold", "ordinary", "gold", "ordinary"]
