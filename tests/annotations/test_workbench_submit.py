"""Submitting and changing annotations: validation by field, claims, protocol evaluation, final = read-only."""

import datetime

import pytest
from django.utils import timezone

from annotations.models import Annotation, Claim, FinalLabel, Solution, SolutionStatus
from annotations.services.annotations import AnnotationInput, annotation_submit, clamp_seconds
from annotations.services.claims import claim_next
from prmweb.errors import ApplicationError, ConflictError, NotFoundError
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return DatasetFactory(slug="submit", annotations_per_solution=3, max_annotations=5)


@pytest.fixture
def solution(dataset):
    return SolutionFactory(dataset=dataset)


def submit(solution, user, **fields):
    return annotation_submit(solution_id=solution.pk, annotator=user, data=AnnotationInput(**fields))


def claimed(dataset, name):
    user = member(dataset, name)
    claim_next(dataset=dataset, annotator=user)
    return user


def test_submit_stores_the_label_releases_the_claim_and_counts(dataset, solution):
    alice = claimed(dataset, "alice")
    annotation = submit(
        solution, alice, earliest_error_step=1, rationale="  2 + 2 is not 5.  ", flag_unsure=True, seconds_spent=42.5
    )
    stored = Annotation.objects.get(pk=annotation.pk)
    assert (stored.earliest_error_step, stored.step_count, stored.rationale) == (1, 3, "2 + 2 is not 5.")
    assert (stored.flag_unsure, stored.flag_ambiguous, stored.seconds_spent) == (True, False, 42.5)
    assert not Claim.objects.filter(annotator=alice).exists()
    assert Solution.objects.get(pk=solution.pk).annotation_count == 1


def test_three_unanimous_annotations_make_a_final_label(dataset, solution):
    for name in ("a", "b", "c"):
        submit(solution, claimed(dataset, name), earliest_error_step=2)
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.FINAL
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.source) == (2, "unanimous")


@pytest.mark.parametrize(
    ("step", "message"),
    [
        (3, "Must be -1 (all steps correct) or a step index from 0 to 2; got 3."),
        (-2, "Must be -1 (all steps correct) or a step index from 0 to 2; got -2."),
    ],
)
def test_out_of_range_step_is_refused_naming_the_field(dataset, solution, step, message):
    alice = claimed(dataset, "alice")
    with pytest.raises(ApplicationError) as error:
        submit(solution, alice, earliest_error_step=step)
    assert error.value.errors == {"earliest_error_step": [message]}
    assert not Annotation.objects.exists()


def test_rationale_required_for_an_error_when_the_dataset_says_so(solution, dataset):
    dataset.rationale_required = True
    dataset.save()
    alice = claimed(dataset, "alice")
    with pytest.raises(ApplicationError) as error:
        submit(solution, alice, earliest_error_step=0, rationale="   ")
    assert error.value.errors == {
        "rationale": ["This dataset asks for an explanation: say why the marked step is wrong."]
    }
    assert submit(solution, alice, earliest_error_step=-1).earliest_error_step == -1


def test_all_correct_on_a_known_wrong_answer_needs_explicit_confirmation(dataset):
    wrong = SolutionFactory(dataset=dataset, final_answer_correct=False)
    alice = claimed(dataset, "alice")
    with pytest.raises(ApplicationError) as error:
        submit(wrong, alice, earliest_error_step=-1)
    assert error.value.errors["confirm_all_correct"] == [
        "The final answer is known to be wrong, so some step should be wrong. "
        "Confirm explicitly that every step is correct, or mark the earliest wrong step."
    ]
    assert submit(wrong, alice, earliest_error_step=-1, confirm_all_correct=True).earliest_error_step == -1


def test_without_a_claim_the_submit_is_refused_even_with_room(dataset, solution):
    late = member(dataset, "late")  # never handed this solution by the queue: no picking items by id
    with pytest.raises(ConflictError) as error:
        submit(solution, late, earliest_error_step=0)
    assert error.value.message == (
        "You hold no claim on this solution: it was released, or never handed to you by the queue. "
        "Take your next solution from the queue."
    )
    assert error.value.errors == {"claim": ["No claim of yours on this solution."]}
    assert not Annotation.objects.exists()
    assert Solution.objects.get(pk=solution.pk).annotation_count == 0


def test_an_expired_claim_without_room_is_refused(dataset, solution):
    alice = claimed(dataset, "alice")
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(minutes=5))
    for name in ("a", "b", "c"):
        claimed(dataset, name)
    with pytest.raises(ConflictError) as error:
        submit(solution, alice, earliest_error_step=0)
    assert error.value.message == (
        "This solution no longer needs your annotation: your claim expired and others completed it."
    )
    assert not Annotation.objects.filter(annotator=alice).exists()


def test_changing_my_annotation_needs_no_claim(dataset, solution):
    alice = claimed(dataset, "alice")
    submit(solution, alice, earliest_error_step=0)
    assert not Claim.objects.exists()
    changed = submit(solution, alice, earliest_error_step=2, rationale="on reflection")
    assert (changed.earliest_error_step, changed.rationale) == (2, "on reflection")
    assert Annotation.objects.filter(annotator=alice).count() == 1


def test_an_expired_claim_still_submits_while_there_is_room(dataset, solution):
    alice = claimed(dataset, "alice")
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(minutes=5))
    assert submit(solution, alice, earliest_error_step=0).pk is not None
    assert not Claim.objects.exists()


def test_work_under_a_live_claim_is_kept_when_others_settled_the_solution_meanwhile(dataset, solution):
    holders = [claimed(dataset, name) for name in ("a", "b", "c")]
    Solution.objects.filter(pk=solution.pk).update(status=SolutionStatus.DISCARDED)  # others settled it
    annotation = submit(solution, holders[0], earliest_error_step=2)
    assert Annotation.objects.filter(pk=annotation.pk, earliest_error_step=2).exists()
    stored = Solution.objects.get(pk=solution.pk)
    assert (stored.status, stored.annotation_count) == (SolutionStatus.DISCARDED, 1)
    assert not Claim.objects.filter(annotator=holders[0]).exists()


def test_without_a_claim_a_settled_solution_refuses_new_work(dataset, solution):
    late = member(dataset, "late")
    Solution.objects.filter(pk=solution.pk).update(status=SolutionStatus.DISCARDED)
    with pytest.raises(ConflictError):
        submit(solution, late, earliest_error_step=0)


def test_non_members_cannot_submit(solution):
    outsider = UserFactory(username="outsider")
    with pytest.raises(NotFoundError):
        submit(solution, outsider, earliest_error_step=0)


def test_changing_my_annotation_updates_it_and_adds_the_time(dataset, solution):
    alice = claimed(dataset, "alice")
    first = submit(solution, alice, earliest_error_step=0, seconds_spent=30)
    changed = submit(solution, alice, earliest_error_step=2, rationale="later", flag_ambiguous=True, seconds_spent=12)
    assert changed.pk == first.pk
    stored = Annotation.objects.get(pk=first.pk)
    assert (stored.earliest_error_step, stored.rationale, stored.flag_ambiguous) == (2, "later", True)
    assert stored.seconds_spent == 42
    assert Annotation.objects.count() == 1
    assert Solution.objects.get(pk=solution.pk).annotation_count == 1


def test_a_final_label_makes_my_annotation_read_only(dataset, solution):
    users = [claimed(dataset, name) for name in ("a", "b", "c")]
    for user in users:
        submit(solution, user, earliest_error_step=1)
    with pytest.raises(ConflictError) as error:
        submit(solution, users[0], earliest_error_step=0)
    assert error.value.message == "This solution's label is final: your annotation can no longer be changed."
    assert Annotation.objects.get(annotator=users[0]).earliest_error_step == 1


def test_suggestions_visible_is_stored(dataset, solution):
    SuggestionFactory(solution=solution, method="judge", label=1)
    alice = claimed(dataset, "alice")
    assert submit(solution, alice, earliest_error_step=1).suggestions_visible is True


def test_suggestions_on_a_blind_dataset_were_not_visible():
    blind = DatasetFactory(slug="blind", blind=True)
    solution = SolutionFactory(dataset=blind)
    SuggestionFactory(solution=solution, method="judge", label=1)
    alice = claimed(blind, "alice")
    assert submit(solution, alice, earliest_error_step=1).suggestions_visible is False


def test_seconds_default_to_the_claim_age_and_are_clamped(dataset, solution):
    alice = claimed(dataset, "alice")
    Claim.objects.filter(annotator=alice).update(claimed_at=timezone.now() - datetime.timedelta(seconds=90))
    annotation = submit(solution, alice, earliest_error_step=0)
    assert 89 <= annotation.seconds_spent <= 95
    assert clamp_seconds(-5) == 0
    assert clamp_seconds(10**9) == 4 * 3600
    assert clamp_seconds(float("nan")) == 0


def test_a_discarded_solution_says_so_when_my_annotation_cannot_change(dataset, solution):
    alice = claimed(dataset, "alice")
    submit(solution, alice, earliest_error_step=1)
    Solution.objects.filter(pk=solution.pk).update(status=SolutionStatus.DISCARDED)
    with pytest.raises(ConflictError) as error:
        submit(Solution.objects.get(pk=solution.pk), alice, earliest_error_step=0)
    assert error.value.message == (
        "This solution was discarded (its annotators did not agree): your annotation can no longer be changed."
    )
    assert error.value.errors == {"solution": ["Status is discarded."]}
    assert Annotation.objects.get(annotator=alice).earliest_error_step == 1
