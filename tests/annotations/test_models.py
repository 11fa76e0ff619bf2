"""Database constraints hold whatever code writes the rows."""

import pytest
from django.db import IntegrityError, transaction

from annotations.models import Annotation, FinalLabel, Solution, Suggestion
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _violates(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("label, ok", [(-2, False), (-1, True), (0, True), (2, True), (3, False)])
def test_annotation_label_must_be_minus_one_or_a_step_index(label, ok):
    solution = SolutionFactory()  # three steps
    assert _violates(AnnotationFactory, solution=solution, earliest_error_step=label) is not ok


@pytest.mark.parametrize(
    "method, engine, status, ok",
    [
        ("judge", "vllm", "succeeded", False),  # a method that ran and succeeded names a label
        ("consensus", "derived", "succeeded", True),  # "no consensus": derived, succeeded, no label
        ("whatever", "derived", "succeeded", True),  # the rule follows the engine, not a method's name
        ("judge", "vllm", "failed", True),
    ],
)
def test_only_a_derived_suggestion_may_succeed_without_a_label(method, engine, status, ok):
    solution = SolutionFactory()
    kwargs = {"solution": solution, "method": method, "engine": engine, "status": status, "label": None}
    assert _violates(SuggestionFactory, **kwargs) is not ok


@pytest.mark.parametrize("factory, field", [(SuggestionFactory, "label"), (FinalLabelFactory, "label")])
def test_suggestion_and_final_label_are_bounded_by_step_count(factory, field):
    solution = SolutionFactory()
    assert _violates(factory, solution=solution, **{field: 3})
    assert not _violates(factory, solution=solution, **{field: 2})


def test_imported_label_is_bounded_by_num_steps():
    assert _violates(SolutionFactory, imported_label=3)
    assert not _violates(SolutionFactory, imported_label=-1)


def test_one_annotation_per_annotator_per_solution():
    annotation = AnnotationFactory()
    assert _violates(AnnotationFactory, solution=annotation.solution, annotator=annotation.annotator)
    assert not _violates(AnnotationFactory, solution=annotation.solution, annotator=UserFactory())
    assert Annotation.objects.count() == 2


def test_one_suggestion_per_solution_method_and_configuration():
    suggestion = SuggestionFactory(method="mc", config_key="n8")
    assert _violates(SuggestionFactory, solution=suggestion.solution, method="mc", config_key="n8")
    assert not _violates(SuggestionFactory, solution=suggestion.solution, method="mc", config_key="n16")
    assert Suggestion.objects.filter(solution=suggestion.solution).count() == 2


def test_confidence_and_agreement_are_probabilities():
    assert _violates(SuggestionFactory, confidence=1.5)
    assert _violates(FinalLabelFactory, agreement=-0.1)
    assert not _violates(SuggestionFactory, confidence=1.0)


def test_at_most_one_final_label_per_solution():
    final = FinalLabelFactory()
    assert _violates(FinalLabelFactory, solution=final.solution)
    assert FinalLabel.objects.count() == 1


def test_external_id_unique_per_dataset_but_not_across():
    solution = SolutionFactory(external_id="gsm8k-0")
    assert _violates(SolutionFactory, dataset=solution.dataset, external_id="gsm8k-0")
    assert not _violates(SolutionFactory, dataset=DatasetFactory(), external_id="gsm8k-0")
    assert Solution.objects.filter(external_id="gsm8k-0").count() == 2


def test_solution_needs_at_least_one_step():
    assert _violates(SolutionFactory, steps=[], num_steps=0)
