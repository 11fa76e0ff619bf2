"""Reviewers' decisions and reopening, with history; gold marking and the gold serving rate."""

import pytest

from annotations.models import FinalLabel, FinalLabelChange, Solution, SolutionStatus
from annotations.selectors.gold import gold_accuracy_by_annotator, gold_should_serve
from annotations.services.agreement import solution_evaluate
from annotations.services.gold import solution_set_gold, solutions_set_gold
from annotations.services.review import review_decide, review_reopen
from prmweb.errors import ApplicationError, ConflictError, NotFoundError
from tests.factories import AnnotationFactory, DatasetFactory, FinalLabelFactory, SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer():
    return UserFactory(username="rita")


def _disputed(**kwargs):
    solution = SolutionFactory(dataset=DatasetFactory(agreement_mode="review"), **kwargs)
    for label in (0, 0, 2):
        AnnotationFactory(solution=solution, earliest_error_step=label)
    return solution_evaluate(solution_id=solution.pk)


def test_review_decide_finalizes_with_note_agreement_and_history(reviewer):
    solution = _disputed()
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    final = review_decide(solution_id=solution.pk, reviewer=reviewer, label=2, note="Step 3 divides by zero.")
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.FINAL
    assert (final.label, final.source, final.decided_by, final.note) == (
        2,
        "review",
        reviewer,
        "Step 3 divides by zero.",
    )
    assert final.agreement == pytest.approx(1 / 3)
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_label, change.to_label, change.to_source, change.changed_by) == (None, 2, "review", reviewer)
    assert change.reason == "Step 3 divides by zero."


def test_review_decide_without_a_note_records_the_choice(reviewer):
    solution = _disputed()
    review_decide(solution_id=solution.pk, reviewer=reviewer, label=-1)
    assert FinalLabelChange.objects.get(solution=solution).reason == "Reviewer chose all steps correct."


def test_review_can_overrule_a_final_label(reviewer):
    solution = SolutionFactory(status=SolutionStatus.FINAL)
    FinalLabelFactory(solution=solution, label=1, source="unanimous")
    review_decide(solution_id=solution.pk, reviewer=reviewer, label=0, note="All three missed step 1.")
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_label, change.from_source, change.to_label, change.to_source) == (1, "unanimous", 0, "review")


@pytest.mark.parametrize("label", [-2, 3, 99])
def test_review_decide_rejects_labels_outside_the_solution(reviewer, label):
    solution = _disputed()
    with pytest.raises(ApplicationError) as error:
        review_decide(solution_id=solution.pk, reviewer=reviewer, label=label)
    assert error.value.errors == {"label": ["Must be -1 or between 0 and 2."]}
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_all_correct_on_a_wrong_final_answer_needs_a_note(reviewer):
    solution = _disputed(final_answer_correct=False)
    with pytest.raises(ApplicationError) as error:
        review_decide(solution_id=solution.pk, reviewer=reviewer, label=-1, note="  ")
    assert error.value.errors == {"note": ["The final answer is wrong, so say in a note why every step is correct."]}
    review_decide(solution_id=solution.pk, reviewer=reviewer, label=-1, note="The reference answer is wrong.")
    assert FinalLabel.objects.get(solution=solution).label == -1


def test_review_decide_on_a_missing_solution_is_not_found(reviewer):
    with pytest.raises(NotFoundError):
        review_decide(solution_id=999_999, reviewer=reviewer, label=0)


@pytest.mark.parametrize("target", ["open", "needs_review"])
def test_reopen_removes_the_final_label_and_keeps_history(reviewer, target):
    solution = SolutionFactory()
    for _ in range(3):
        AnnotationFactory(solution=solution, earliest_error_step=1)
    solution = solution_evaluate(solution_id=solution.pk)
    assert solution.status == SolutionStatus.FINAL
    solution = review_reopen(solution_id=solution.pk, reviewer=reviewer, target=target, reason="Step 2 is fine.")
    assert (solution.status, solution.needs_humans) == (target, True)
    assert not FinalLabel.objects.filter(solution=solution).exists()
    history = list(FinalLabelChange.objects.filter(solution=solution).order_by("id"))
    assert [(c.from_label, c.to_label) for c in history] == [(None, 1), (1, None)]
    assert (history[1].changed_by, history[1].reason, history[1].from_source) == (
        reviewer,
        "Reopened: Step 2 is fine.",
        "unanimous",
    )


def test_reopened_open_solution_asks_for_one_more_opinion_then_decides_again(reviewer):
    solution = SolutionFactory()
    for _ in range(3):
        AnnotationFactory(solution=solution, earliest_error_step=1)
    solution_evaluate(solution_id=solution.pk)
    review_reopen(solution_id=solution.pk, reviewer=reviewer, target="open", reason="Check again.")
    AnnotationFactory(solution=solution, earliest_error_step=0)
    solution = solution_evaluate(solution_id=solution.pk)
    final = FinalLabel.objects.get(solution=solution)
    assert (solution.status, final.label, final.source) == (SolutionStatus.FINAL, 1, "majority")


def test_reopen_a_discarded_solution(reviewer):
    solution = SolutionFactory(status=SolutionStatus.DISCARDED)
    review_reopen(solution_id=solution.pk, reviewer=reviewer, target="needs_review", reason="Worth a look.")
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_source, change.from_label, change.to_label) == ("discarded", None, None)


def test_reopen_refuses_open_solutions_unknown_targets_and_empty_reasons(reviewer):
    solution = SolutionFactory()
    with pytest.raises(ConflictError) as error:
        review_reopen(solution_id=solution.pk, reviewer=reviewer, target="open", reason="x")
    assert error.value.errors == {"status": ["Only final or discarded solutions can be reopened."]}
    with pytest.raises(ApplicationError) as error:
        review_reopen(solution_id=solution.pk, reviewer=reviewer, target="final", reason="x")
    assert error.value.errors == {"target": ["Must be one of: open, needs_review."]}
    solution.status = SolutionStatus.FINAL
    solution.save()
    with pytest.raises(ApplicationError) as error:
        review_reopen(solution_id=solution.pk, reviewer=reviewer, target="open", reason=" ")
    assert error.value.errors == {"note": ["Say why the label is reopened."]}


def test_marking_gold_makes_the_imported_label_final(reviewer):
    solution = SolutionFactory(imported_label=1)
    solution = solution_set_gold(solution_id=solution.pk, is_gold=True, changed_by=reviewer)
    assert (solution.is_gold, solution.status, solution.needs_humans) == (True, SolutionStatus.FINAL, False)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.source) == (1, "imported")
    assert FinalLabelChange.objects.get(solution=solution).reason == "Marked as gold: the imported label is the truth."
    solution_set_gold(solution_id=solution.pk, is_gold=True)  # idempotent
    assert FinalLabelChange.objects.filter(solution=solution).count() == 1


def test_unmarking_gold_returns_the_solution_to_the_protocol():
    solution = solution_set_gold(solution_id=SolutionFactory(imported_label=1).pk, is_gold=True)
    for _ in range(3):
        AnnotationFactory(solution=solution, earliest_error_step=2)
    solution = solution_set_gold(solution_id=solution.pk, is_gold=False)
    final = FinalLabel.objects.get(solution=solution)
    assert (solution.is_gold, solution.status, final.label, final.source) == (False, "final", 2, "unanimous")


def test_gold_needs_an_imported_label():
    solution = SolutionFactory(imported_label=None)
    with pytest.raises(ApplicationError) as error:
        solution_set_gold(solution_id=solution.pk, is_gold=True)
    assert error.value.errors == {"is_gold": ["Only solutions with an imported label can be gold."]}
    good = SolutionFactory(dataset=solution.dataset, imported_label=0)
    with pytest.raises(ApplicationError) as error:
        solutions_set_gold(dataset=solution.dataset, solution_ids=[good.pk, solution.pk], is_gold=True)
    assert error.value.errors == {"solution_ids": [f"No imported label: solutions {solution.pk}."]}
    good.refresh_from_db()
    assert good.is_gold is False


def test_bulk_gold_counts_changes():
    dataset = DatasetFactory()
    solutions = [SolutionFactory(dataset=dataset, imported_label=-1) for _ in range(3)]
    assert solutions_set_gold(dataset=dataset, solution_ids=[s.pk for s in solutions], is_gold=True) == 3
    assert solutions_set_gold(dataset=dataset, solution_ids=[s.pk for s in solutions], is_gold=True) == 0


def test_bulk_gold_refuses_ids_of_another_dataset_and_changes_nothing():
    dataset = DatasetFactory(slug="mine")
    mine = SolutionFactory(dataset=dataset, imported_label=-1)
    theirs = SolutionFactory(imported_label=-1)
    with pytest.raises(ApplicationError) as error:
        solutions_set_gold(dataset=dataset, solution_ids=[mine.pk, theirs.pk, 999999], is_gold=True)
    assert error.value.message == "2 solution id(s) are not in dataset 'mine'."
    assert error.value.errors == {"solution_ids": [f"Not in this dataset: {theirs.pk}, 999999."]}
    assert not Solution.objects.filter(is_gold=True).exists()


def test_gold_is_served_at_the_dataset_rate():
    dataset = DatasetFactory(gold_rate=0.25)
    annotator = UserFactory()
    served = []
    for index in range(12):
        serve_gold = gold_should_serve(dataset, annotator)
        served.append(serve_gold)
        solution = SolutionFactory(dataset=dataset, is_gold=serve_gold, imported_label=0 if serve_gold else None)
        AnnotationFactory(solution=solution, annotator=annotator, earliest_error_step=index % 2)
    assert served == [True, False, False, False, True, False, False, False, True, False, False, False]
    assert gold_should_serve(DatasetFactory(gold_rate=0.0), annotator) is False


def test_gold_accuracy_counts_labels_equal_to_the_imported_one():
    dataset = DatasetFactory()
    alice, bob = UserFactory(), UserFactory()
    for imported, alice_label, bob_label in [(0, 0, 1), (2, 2, 2), (-1, 0, -1)]:
        solution = solution_set_gold(
            solution_id=SolutionFactory(dataset=dataset, imported_label=imported).pk, is_gold=True
        )
        AnnotationFactory(solution=solution, annotator=alice, earliest_error_step=alice_label)
        AnnotationFactory(solution=solution, annotator=bob, earliest_error_step=bob_label)
    AnnotationFactory(solution=SolutionFactory(dataset=dataset, imported_label=0), annotator=alice)  # not gold
    assert gold_accuracy_by_annotator(dataset=dataset) == {alice.pk: (3, 2), bob.pk: (3, 2)}


def test_gold_rate_is_compared_as_the_decimal_it_is_written_as():
    # 63 gold among 89 done at rate 0.7: serving gold now would make 64 of 90, above 0.7 * 90 = 63.
    # In binary floating point 0.7 * 90 is 63.00000000000001, which would wrongly serve gold here.
    dataset = DatasetFactory(gold_rate=0.7)
    annotator = UserFactory()
    for is_gold, count in ((True, 63), (False, 26)):
        for _index in range(count):
            solution = SolutionFactory(dataset=dataset, is_gold=is_gold, imported_label=0 if is_gold else None)
            AnnotationFactory(solution=solution, annotator=annotator)
    assert gold_should_serve(dataset, annotator) is False
    AnnotationFactory(solution=SolutionFactory(dataset=dataset), annotator=annotator)  # 63 < 0.7 * 91 = 63.7
    assert gold_should_serve(dataset, annotator) is True
