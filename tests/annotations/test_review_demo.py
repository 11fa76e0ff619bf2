"""The issue's "done when", end to end on the bundled demo: three annotators work through the workbench
services; unanimous solutions finalize by themselves, disagreements reach a reviewer, and the dashboard
shows agreement, the per-method table and the position histogram."""

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from annotations.models import FinalLabel, Solution, SolutionStatus
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from annotations.services.demo import DEMO_ANNOTATORS, demo_load
from tests.factories import SuggestionFactory

pytestmark = pytest.mark.django_db


def _label_for(annotator_index: int, solution: Solution) -> int:
    """Annotators 1 and 2 give ProcessBench's label; annotator 3 disagrees on every third solution."""
    truth = int(solution.metadata["processbench_label"])  # gold items carry it as their imported label too
    if annotator_index == 2 and solution.pk % 3 == 0:
        return (truth + 1) % solution.num_steps if truth >= 0 else solution.num_steps - 1
    return truth


def _work_through(dataset, annotator_index: int, user: User) -> int:
    done = 0
    while (claim := claim_next(dataset=dataset, annotator=user)) is not None:
        solution = Solution.objects.get(pk=claim.solution_id)
        label = _label_for(annotator_index, solution)
        data = AnnotationInput(
            earliest_error_step=label, seconds_spent=20.0 + annotator_index, confirm_all_correct=True
        )
        annotation_submit(solution_id=solution.pk, annotator=user, data=data)
        done += 1
    return done


def test_demo_with_three_annotators_finalizes_unanimous_and_sends_disagreement_to_review(client):
    dataset = demo_load(password="demo-pass-123").dataset
    users = [User.objects.get(username=name) for name in DEMO_ANNOTATORS]
    for index, user in enumerate(users):
        assert _work_through(dataset, index, user) >= 40 - 8  # every ordinary solution, plus some gold
    ordinary = Solution.objects.filter(dataset=dataset, is_gold=False)
    disputed = [s for s in ordinary if s.pk % 3 == 0]
    agreed = [s for s in ordinary if s.pk % 3 != 0]
    assert disputed and agreed
    assert {s.status for s in disputed} == {SolutionStatus.NEEDS_REVIEW}
    assert {s.status for s in agreed} == {SolutionStatus.FINAL}
    for solution in agreed:
        final = FinalLabel.objects.get(solution=solution)
        assert (final.label, final.source) == (solution.metadata["processbench_label"], "unanimous")

    for solution in ordinary:  # a machine method, to fill the method-vs-people table
        SuggestionFactory(solution=solution, method="judge", label=solution.metadata["processbench_label"])
    manager = User.objects.get(username="demo")
    client.force_login(manager)
    queue = client.get(reverse("annotations:review_queue", args=[dataset.slug])).content.decode()
    assert f"Needs review ({len(disputed)})" in queue
    response = client.post(
        reverse("annotations:review_solution", args=[disputed[0].pk]),
        {"action": "decide", "label": str(disputed[0].metadata["processbench_label"]), "note": "Two of three."},
    )
    assert response.status_code == 302
    body = client.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    assert '<td id="pairwise">' in body and 'data-label="judge (pooled)" data-value="1.00"' in body
    assert 'data-source="people"' in body
    metrics = client.get(reverse("api:dataset-metrics", args=[dataset.slug])).json()
    assert metrics["agreement"]["items"] >= len(ordinary)  # every ordinary solution has three annotations
    assert 0 < metrics["agreement"]["unanimous_share"] < 1
    assert metrics["progress"]["by_status"]["needs_review"] == len(disputed) - 1
    judge = metrics["methods"][0]
    assert judge["pooled"]["f1"] == 1.0 and judge["items"] == len(agreed) + 1
    # people's final labels: the unanimous ones and the reviewed one; the 8 gold items' imported labels apart
    assert metrics["positions"]["people"]["total"] == len(agreed) + 1
    assert metrics["positions"]["imported"]["total"] == 8
