"""The agreement service on the database: every protocol path, triage, history rows, and the finalize race."""

import threading

import pytest
from django.db import close_old_connections, connection, transaction

from annotations.models import FinalLabel, FinalLabelChange, FinalLabelSource, Solution, SolutionStatus
from annotations.protocol import is_audit_sample
from annotations.services.agreement import (
    dataset_triage,
    solution_evaluate,
    solution_required_annotations,
    solution_triage,
)
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _annotate(solution, *labels):
    for label in labels:
        AnnotationFactory(solution=solution, earliest_error_step=label)
    return solution_evaluate(solution_id=solution.pk)


def _steps(count=5):
    return [f"Step {i}." for i in range(count)]


def test_unanimous_annotations_finalize_with_history():
    solution = SolutionFactory(steps=_steps())
    assert _annotate(solution, 2, 2).status == SolutionStatus.OPEN
    solution = _annotate(solution, 2)
    assert (solution.status, solution.annotation_count) == (SolutionStatus.FINAL, 3)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.source, final.agreement, final.decided_by) == (2, "unanimous", 1.0, None)
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_label, change.to_label, change.from_source, change.to_source) == (None, 2, "", "unanimous")
    assert change.reason == "3 of 3 annotators agree on step 3."


def test_disagreement_asks_for_more_annotators_then_majority_finalizes():
    dataset = DatasetFactory()
    solution = SolutionFactory(dataset=dataset, steps=_steps())
    solution = _annotate(solution, 1, 1, 3)
    assert solution.status == SolutionStatus.OPEN
    assert solution_required_annotations(Solution.objects.select_related("dataset").get(pk=solution.pk)) == 4
    solution = _annotate(solution, 1)
    final = FinalLabel.objects.get(solution=solution)
    assert (solution.status, final.label, final.source, final.agreement) == (SolutionStatus.FINAL, 1, "majority", 0.75)


def test_required_annotations_costs_no_query_below_k(django_assert_num_queries):
    solution = Solution.objects.select_related("dataset").get(pk=SolutionFactory().pk)
    with django_assert_num_queries(0):
        assert solution_required_annotations(solution) == 3


def test_three_different_labels_ask_for_two_more_and_discard_at_max():
    solution = SolutionFactory(steps=_steps())
    solution = _annotate(solution, 0, 1, 2)
    assert solution_required_annotations(solution) == 5
    solution = _annotate(solution, 0)
    assert solution.status == SolutionStatus.OPEN
    solution = _annotate(solution, 1)  # 2-2-1 at five annotations: nobody reached 3
    assert solution.status == SolutionStatus.DISCARDED
    assert not FinalLabel.objects.filter(solution=solution).exists()
    assert solution_required_annotations(solution) == 5  # no more wanted


def test_unreachable_majority_is_discarded_before_the_maximum():
    solution = _annotate(SolutionFactory(steps=_steps()), 0, 1, 2, 3)
    assert (solution.status, solution.annotation_count) == (SolutionStatus.DISCARDED, 4)


def test_max_reached_goes_to_review_when_the_dataset_says_so():
    dataset = DatasetFactory(on_max_reached="review")
    solution = _annotate(SolutionFactory(dataset=dataset, steps=_steps()), 0, 1, 2, 3)
    assert solution.status == SolutionStatus.NEEDS_REVIEW


def test_review_mode_sends_disagreement_straight_to_review():
    dataset = DatasetFactory(agreement_mode="review")
    solution = _annotate(SolutionFactory(dataset=dataset, steps=_steps()), 1, 1, 2)
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    assert solution_required_annotations(solution) == 3


def test_all_correct_on_a_wrong_final_answer_is_flagged_for_review():
    solution = _annotate(SolutionFactory(final_answer_correct=False), -1, -1, -1)
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_human_decision_replaces_an_imported_label_and_discard_removes_it():
    finalized = SolutionFactory(steps=_steps(), imported_label=3)
    FinalLabelFactory(solution=finalized, label=3, source=FinalLabelSource.IMPORTED)
    _annotate(finalized, 1, 1, 1)
    final = FinalLabel.objects.get(solution=finalized)
    assert (final.label, final.source) == (1, "unanimous")
    change = FinalLabelChange.objects.get(solution=finalized)
    assert (change.from_label, change.from_source, change.to_label) == (3, "imported", 1)

    discarded = SolutionFactory(steps=_steps(), imported_label=3)
    FinalLabelFactory(solution=discarded, label=3, source=FinalLabelSource.IMPORTED)
    _annotate(discarded, 0, 1, 2, 3)
    assert not FinalLabel.objects.filter(solution=discarded).exists()
    change = FinalLabelChange.objects.get(solution=discarded)
    assert (change.from_label, change.to_label, change.from_source) == (3, None, "imported")
    assert change.reason == "Discarded: No label can reach 3 votes within 5 annotations."


def test_evaluating_twice_changes_nothing_and_late_annotations_only_count():
    solution = _annotate(SolutionFactory(), 0, 0, 0)
    solution_evaluate(solution_id=solution.pk)
    solution = _annotate(solution, 1)
    assert (solution.status, solution.annotation_count) == (SolutionStatus.FINAL, 4)
    assert FinalLabel.objects.get(solution=solution).label == 0
    assert FinalLabelChange.objects.filter(solution=solution).count() == 1


def test_gold_solutions_keep_their_imported_label():
    solution = SolutionFactory(is_gold=True, imported_label=2, status=SolutionStatus.FINAL)
    FinalLabelFactory(solution=solution, label=2, source=FinalLabelSource.IMPORTED)
    solution = _annotate(solution, 0, 0, 0)
    assert solution.annotation_count == 3
    assert FinalLabel.objects.get(solution=solution).source == "imported"


def _triage_dataset(**kwargs):
    return DatasetFactory(triage_mode="disagreement_only", audit_rate=0.0, **kwargs)


def test_triage_auto_accepts_machine_consensus():
    solution = SolutionFactory(dataset=_triage_dataset())
    SuggestionFactory(solution=solution, method="consensus", label=1)
    solution = solution_triage(solution_id=solution.pk)
    assert (solution.status, solution.needs_humans) == (SolutionStatus.FINAL, False)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.source) == (1, "consensus_auto")
    assert FinalLabelChange.objects.get(solution=solution).reason == "Machine consensus on step 2."
    assert solution_required_annotations(solution) == 0


def test_triage_sends_solutions_without_consensus_to_people():
    solution = SolutionFactory(dataset=_triage_dataset())
    SuggestionFactory(solution=solution, method="consensus", label=None)  # mc and judge disagree
    SuggestionFactory(solution=solution, method="mc", label=1)
    solution = solution_triage(solution_id=solution.pk)
    assert (solution.status, solution.needs_humans) == (SolutionStatus.OPEN, True)
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_triage_audit_sample_still_goes_to_people():
    dataset = DatasetFactory(triage_mode="disagreement_only", audit_rate=0.5)
    solutions = [SolutionFactory(dataset=dataset) for _ in range(12)]
    for solution in solutions:
        SuggestionFactory(solution=solution, method="consensus", label=0)
    assert dataset_triage(dataset=dataset) == 12
    for solution in solutions:
        solution.refresh_from_db()
        audited = is_audit_sample(solution.pk, 0.5)
        assert solution.needs_humans is audited
        assert solution.status == (SolutionStatus.OPEN if audited else SolutionStatus.FINAL)
    assert 0 < Solution.objects.filter(dataset=dataset, needs_humans=True).count() < 12


def test_triage_leaves_all_mode_datasets_and_started_solutions_to_people():
    everything = SolutionFactory(dataset=DatasetFactory(triage_mode="all"))
    SuggestionFactory(solution=everything, method="consensus", label=0)
    assert solution_triage(solution_id=everything.pk).needs_humans is True

    started = SolutionFactory(dataset=_triage_dataset())
    AnnotationFactory(solution=started, earliest_error_step=2)
    SuggestionFactory(solution=started, method="consensus", label=0)
    assert solution_triage(solution_id=started.pk).status == SolutionStatus.OPEN
    assert not FinalLabel.objects.filter(solution=started).exists()


def test_triage_will_not_auto_accept_all_correct_for_a_wrong_final_answer():
    solution = SolutionFactory(dataset=_triage_dataset(), final_answer_correct=False)
    SuggestionFactory(solution=solution, method="consensus", label=-1)
    assert solution_triage(solution_id=solution.pk).needs_humans is True


def test_triage_follows_consensus_changes_and_reopens_when_it_disappears():
    solution = SolutionFactory(dataset=_triage_dataset())
    consensus = SuggestionFactory(solution=solution, method="consensus", label=1)
    solution_triage(solution_id=solution.pk)
    consensus.label = 2
    consensus.save()
    solution_triage(solution_id=solution.pk)
    assert FinalLabel.objects.get(solution=solution).label == 2
    consensus.label = None
    consensus.save()
    solution = solution_triage(solution_id=solution.pk)
    assert (solution.status, solution.needs_humans) == (SolutionStatus.OPEN, True)
    assert not FinalLabel.objects.filter(solution=solution).exists()
    changes = FinalLabelChange.objects.filter(solution=solution).order_by("id")
    history = list(changes.values_list("from_label", "to_label"))
    assert history == [(None, 1), (1, 2), (2, None)]


def test_triage_does_not_touch_human_final_labels():
    solution = _annotate(SolutionFactory(dataset=_triage_dataset()), 0, 0, 0)
    SuggestionFactory(solution=solution, method="consensus", label=2)
    solution_triage(solution_id=solution.pk)
    assert FinalLabel.objects.get(solution=solution).source == "unanimous"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_submits_racing_to_finalize_produce_one_final_label():
    threads_count = 6
    dataset = DatasetFactory(annotations_per_solution=3, max_annotations=8)
    solution = SolutionFactory(dataset=dataset, steps=_steps())
    for _ in range(2):
        AnnotationFactory(solution=solution, earliest_error_step=2)
    users = [UserFactory() for _ in range(threads_count)]
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def submit(user):
        try:
            with transaction.atomic():
                AnnotationFactory(solution=solution, annotator=user, earliest_error_step=2)
                barrier.wait(timeout=10)  # every thread holds its uncommitted third annotation
                solution_evaluate(solution_id=solution.pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=submit, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    solution.refresh_from_db()
    assert (solution.status, solution.annotation_count) == (SolutionStatus.FINAL, 2 + threads_count)
    assert FinalLabel.objects.filter(solution=solution).count() == 1
    assert FinalLabelChange.objects.filter(solution=solution).count() == 1
