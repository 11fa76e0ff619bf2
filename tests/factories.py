"""factory_boy factories for the data model."""

import factory
from django.contrib.auth import get_user_model

from annotations.models import (
    DERIVED_ENGINE,
    Annotation,
    Dataset,
    DatasetMembership,
    FinalLabel,
    FinalLabelSource,
    MembershipRole,
    Problem,
    Solution,
    Suggestion,
    SuggestionStatus,
)
from annotations.services.ingestion import content_hash, problem_hash


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.org")
    password = factory.django.Password("correct-horse-battery")


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset

    name = factory.Sequence(lambda n: f"Dataset {n}")
    slug = factory.Sequence(lambda n: f"dataset-{n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DatasetMembership

    dataset = factory.SubFactory(DatasetFactory)
    user = factory.SubFactory(UserFactory)
    role = MembershipRole.ANNOTATOR


class ProblemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Problem

    dataset = factory.SubFactory(DatasetFactory)
    text = factory.Sequence(lambda n: f"What is {n} + {n}?")
    reference_answer = ""
    content_hash = factory.LazyAttribute(lambda problem: problem_hash(problem.text))


class SolutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Solution

    dataset = factory.SubFactory(DatasetFactory)
    problem = factory.SubFactory(ProblemFactory, dataset=factory.SelfAttribute("..dataset"))
    steps = factory.Sequence(
        lambda n: [f"Step one of solution {n}.", "Then 2 + 2 = 4.", "So the answer is \\boxed{4}."]
    )
    num_steps = factory.LazyAttribute(lambda solution: len(solution.steps))
    content_hash = factory.LazyAttribute(lambda solution: content_hash(solution.problem.text, solution.steps))
    generator = "test-model"


class AnnotationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Annotation

    solution = factory.SubFactory(SolutionFactory)
    annotator = factory.SubFactory(UserFactory)
    earliest_error_step = -1
    step_count = factory.LazyAttribute(lambda annotation: annotation.solution.num_steps)


class SuggestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Suggestion

    solution = factory.SubFactory(SolutionFactory)
    method = "judge"
    status = SuggestionStatus.SUCCEEDED
    label = -1
    step_count = factory.LazyAttribute(lambda suggestion: suggestion.solution.num_steps)
    # As stored by scoring: consensus is derived from other suggestions, the others ran on an engine.
    engine = factory.LazyAttribute(lambda suggestion: DERIVED_ENGINE if suggestion.method == "consensus" else "")


class FinalLabelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FinalLabel

    solution = factory.SubFactory(SolutionFactory)
    label = -1
    step_count = factory.LazyAttribute(lambda final: final.solution.num_steps)
    source = FinalLabelSource.UNANIMOUS
