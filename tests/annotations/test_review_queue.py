"""The review queue (problem preview, labels side by side, order by age or spread) and the review page's
layout for the keyboard: decision controls first, each annotator's rationale beside their step, no zero costs."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.selectors.review import cost_text
from annotations.services.agreement import solution_evaluate
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return DatasetFactory(name="Algebra", slug="algebra", agreement_mode="review")


@pytest.fixture
def logged_in(client, dataset):
    reviewer = UserFactory(username="rita")
    MembershipFactory(dataset=dataset, user=reviewer, role="reviewer")
    client.force_login(reviewer)
    return client


def _disputed(dataset, labels, text, rationales=None):
    problem = ProblemFactory(dataset=dataset, text=text)
    solution = SolutionFactory(dataset=dataset, problem=problem, external_id=f"pb-{problem.pk}")
    for name, label in labels:
        AnnotationFactory(
            solution=solution,
            annotator=UserFactory(username=name),
            earliest_error_step=label,
            rationale=(rationales or {}).get(name, ""),
        )
    return solution_evaluate(solution_id=solution.pk)


def _queue_ids(client, **query):
    html = client.get(reverse("annotations:review_queue", args=["algebra"]), query).content.decode()
    return [int(pk) for pk in re.findall(r'<tr data-solution="(\d+)">', html)]


@pytest.mark.parametrize(
    ("cost", "text"),
    [
        ((0, 0, 0, 0.0), ""),
        ((0, 0, 0, 0.04), ""),
        ((32, 0, 0, 0.0), "32 rollouts"),
        ((1, 1, 1, 0.05), "1 rollout · 1 prompt token · 1 generated token · 0.1 s"),
        ((0, 1200, 350, 2.345), "1200 prompt tokens · 350 generated tokens · 2.3 s"),
    ],
)
def test_the_cost_line_leaves_out_what_a_method_did_not_use(cost, text):
    rollouts, prompt_tokens, generated_tokens, seconds = cost
    assert (
        cost_text(rollouts=rollouts, prompt_tokens=prompt_tokens, generated_tokens=generated_tokens, seconds=seconds)
        == text
    )


def test_the_queue_shows_a_preview_and_the_labels_side_by_side(logged_in, dataset):
    long_text = "A train leaves at $t=0$ and travels " + "far and fast " * 20 + "until noon."
    solution = _disputed(dataset, [("ann", 0), ("ben", -1), ("cat", 0)], long_text)
    html = logged_in.get(reverse("annotations:review_queue", args=["algebra"])).content.decode()
    row = re.search(rf'<tr data-solution="{solution.pk}">(.*?)</tr>', html, re.S).group(1)
    preview = re.search(r'<td data-label="Problem" class="preview" title="([^"]*)">', row).group(1)
    assert preview.startswith("A train leaves at $t=0$ and travels far and fast far")
    assert len(preview) == 160 and preview.endswith("…")
    assert re.findall(r'<span class="vote-group">(.*?)</span>', row) == [
        "<strong>step 1</strong> (2) ann, cat",
        "<strong>all correct</strong> (1) ben",
    ]


def test_the_queue_sorts_by_age_or_spread_and_says_why_a_sort_is_refused(logged_in, dataset):
    two_camps = _disputed(dataset, [("ann", 0), ("ben", 1), ("cat", 0)], "Q1")
    three_ways = _disputed(dataset, [("ann", 0), ("ben", 1), ("cat", 2)], "Q2")
    also_two = _disputed(dataset, [("ann", -1), ("ben", 1), ("cat", 1)], "Q3")
    assert _queue_ids(logged_in) == [two_camps.pk, three_ways.pk, also_two.pk]
    assert _queue_ids(logged_in, sort="newest") == [also_two.pk, three_ways.pk, two_camps.pk]
    assert _queue_ids(logged_in, sort="spread") == [three_ways.pk, two_camps.pk, also_two.pk]
    html = logged_in.get(reverse("annotations:review_queue", args=["algebra"]), {"sort": "spread"}).content.decode()
    assert f'<a class="button primary-link" id="next-in-queue" href="/review/{three_ways.pk}/?sort=spread">' in html
    assert f'href="/review/{two_camps.pk}/?sort=spread"' in html
    assert '<strong aria-current="true" id="sort-spread">Widest spread first</strong>' in html
    refused = logged_in.get(reverse("annotations:review_queue", args=["algebra"]), {"sort": "loudest"})
    assert refused.status_code == 404
    assert '<p class="muted" id="error-detail">Unknown sort &#x27;loudest&#x27;.</p>' in refused.content.decode()


def test_the_queue_costs_the_same_queries_for_2_or_12_rows(logged_in, dataset):
    url = reverse("annotations:review_queue", args=["algebra"])
    for index in range(2):
        _disputed(dataset, [(f"a{index}", 0), (f"b{index}", 1), (f"f{index}", 1)], f"few {index}")
    with CaptureQueriesContext(connection) as few:
        logged_in.get(url, {"sort": "spread"})
    for index in range(10):
        _disputed(dataset, [(f"c{index}", 0), (f"d{index}", 1), (f"e{index}", -1)], f"many {index}")
    with CaptureQueriesContext(connection) as many:
        response = logged_in.get(url, {"sort": "spread"})
    assert response.content.decode().count('<tr data-solution="') == 12
    assert len(few.captured_queries) == len(many.captured_queries)


def test_deciding_goes_on_in_the_order_the_reviewer_chose(logged_in, dataset):
    two_camps = _disputed(dataset, [("ann", 0), ("ben", 1), ("cat", 0)], "Q1")
    three_ways = _disputed(dataset, [("ann", 0), ("ben", 1), ("cat", 2)], "Q2")
    also_two = _disputed(dataset, [("ann", -1), ("ben", 1), ("cat", 1)], "Q3")
    url = reverse("annotations:review_solution", args=[three_ways.pk])
    response = logged_in.post(f"{url}?sort=spread", {"action": "decide", "label": "1"})
    assert response["Location"] == f"/review/{two_camps.pk}/?sort=spread"
    response = logged_in.post(response["Location"], {"action": "decide", "label": "0"})
    assert response["Location"] == f"/review/{also_two.pk}/?sort=spread"
    html = logged_in.get(response["Location"]).content.decode()
    assert '<span class="muted small" id="queue-done">Nothing else needs review.</span>' in html
    assert logged_in.get(f"{url}?sort=loudest").status_code == 404


def test_the_review_page_puts_the_decision_first_and_each_rationale_beside_its_step(logged_in, dataset):
    solution = _disputed(
        dataset,
        [("ann", 1), ("ben", 2), ("cat", -1)],
        "Find $x$.",
        rationales={"ann": "Step 2 drops the **sign**.", "ben": "The box is wrong.", "cat": "All fine to me."},
    )
    SuggestionFactory(solution=solution, method="judge", label=1, rollouts=0, generated_tokens=0, seconds=0)
    SuggestionFactory(solution=solution, method="mc", label=1, rollouts=24, seconds=3.0)
    html = logged_in.get(reverse("annotations:review_solution", args=[solution.pk])).content.decode()
    assert html.index('id="decide-form"') < html.index('id="review-steps"') < html.index('id="annotations"')
    assert html.count('name="label" form="decide-form"') == 4  # three steps and "all correct"
    assert html.count('name="explanation_annotation" form="decide-form"') == 3  # one per explanation written
    step = html.split('id="review-step-1"')[1].split("</li>")[0]
    assert '<span class="vote vote-person">ann</span>' in step
    assert "<p>Step 2 drops the <strong>sign</strong>.</p>" in step
    assert "The box is wrong." not in step and "ben" not in step
    assert "The box is wrong." in html.split('id="review-step-2"')[1].split("</li>")[0]
    all_correct = html.split('id="review-step-all-correct"')[1].split('<section class="pane"')[0]
    assert '<span class="vote vote-person">cat</span>' in all_correct and "All fine to me." in all_correct
    assert re.findall(r'<p class="muted small cost">(.*?)</p>', html) == ["24 rollouts · 3.0 s"]


def test_a_refused_decision_keeps_the_reviewers_choice_in_the_bar(logged_in, dataset):
    solution = _disputed(dataset, [("ann", 1), ("ben", 2)], "Find $z$.")
    url = reverse("annotations:review_solution", args=[solution.pk])
    response = logged_in.post(url, {"action": "decide", "label": "1", "note": "x" * 5001})
    html = response.content.decode()
    assert response.status_code == 400
    assert '<strong id="review-choice">Step 2</strong>' in html
    assert 'value="1" checked' in html
