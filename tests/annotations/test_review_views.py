"""Review queue, review page, dashboard and metrics API: who may see them, and what they show."""

import itertools
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import FinalLabel, FinalLabelChange, Solution, SolutionStatus
from annotations.services.agreement import solution_evaluate
from tests.annotations.api_support import token_client
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
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


def _member(dataset, username, role):
    user = UserFactory(username=username)
    MembershipFactory(dataset=dataset, user=user, role=role)
    return user


@pytest.fixture
def reviewer(dataset):
    return _member(dataset, "rita", "reviewer")


PROBLEM_NUMBERS = itertools.count(3)


def _disputed(dataset, **kwargs):
    number = next(PROBLEM_NUMBERS)
    problem = ProblemFactory(dataset=dataset, text=f"Compute $x^2$ for <b>x</b>={number}.", reference_answer="9")
    solution = SolutionFactory(dataset=dataset, problem=problem, external_id=kwargs.pop("external_id", ""), **kwargs)
    for name, label, rationale in (
        ("ann", 0, "Step 1 squares wrong: <script>window.__pwned=1</script>"),
        ("ben", 0, "same as ann"),
        ("cat", 2, "the boxed answer is wrong"),
    ):
        AnnotationFactory(
            solution=solution,
            annotator=UserFactory(username=name),
            earliest_error_step=label,
            rationale=rationale,
            flag_unsure=name == "cat",
            seconds_spent=42,
        )
    SuggestionFactory(
        solution=solution, method="judge", label=2, model_name="judge-7b", rationale="Paragraph 2 is wrong."
    )
    SuggestionFactory(solution=solution, method="mc", label=0, step_scores=[0.0, 0.5, 1.0], model_name="gen-1b")
    return solution_evaluate(solution_id=solution.pk)


def _urls(dataset, solution):
    return [
        reverse("annotations:review_queue", args=[dataset.slug]),
        reverse("annotations:review_solution", args=[solution.pk]),
        reverse("annotations:dashboard", args=[dataset.slug]),
    ]


def test_annotators_cannot_open_review_or_dashboards(client, dataset):
    solution = _disputed(dataset)
    client.force_login(_member(dataset, "annie", "annotator"))
    for url in _urls(dataset, solution):
        assert client.get(url).status_code == 403, url
    response = client.post(reverse("annotations:review_solution", args=[solution.pk]), {"action": "decide", "label": 0})
    assert response.status_code == 403
    assert not FinalLabel.objects.filter(solution=solution).exists()
    api = token_client(UserFactory.create(username="annie"))
    response = api.get(reverse("api:dataset-metrics", args=[dataset.slug]))
    assert response.status_code == 403
    assert response.json()["message"] == "Only reviewers and managers of this dataset may read its quality figures."


def test_reviewers_of_another_dataset_get_not_found(client, dataset):
    solution = _disputed(dataset)
    outsider = _member(DatasetFactory(slug="other"), "otto", "reviewer")
    client.force_login(outsider)
    for url in _urls(dataset, solution):
        assert client.get(url).status_code == 404, url
    assert token_client(outsider).get(reverse("api:dataset-metrics", args=[dataset.slug])).status_code == 404


def test_anonymous_users_are_sent_to_login(client, dataset):
    solution = _disputed(dataset)
    for url in _urls(dataset, solution):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response["Location"]


def test_review_index_lists_only_datasets_i_review(client, dataset, reviewer):
    _disputed(dataset)
    annotated_only = DatasetFactory(name="Geometry", slug="geometry")
    MembershipFactory(dataset=annotated_only, user=reviewer, role="annotator")
    client.force_login(reviewer)
    body = client.get(reverse("annotations:review_index")).content.decode()
    assert 'id="review-dataset-algebra"' in body
    assert "Geometry" not in body


def test_queue_lists_solutions_needing_review_with_their_labels(client, dataset, reviewer):
    solution = _disputed(dataset, external_id="pb-17")
    SolutionFactory(dataset=dataset, external_id="still-open")
    client.force_login(reviewer)
    body = client.get(reverse("annotations:review_queue", args=[dataset.slug])).content.decode()
    assert "pb-17" in body and "still-open" not in body
    groups = re.findall(r'<span class="vote-group">(.*?)</span>', body)
    assert groups == ["<strong>step 1</strong> (2) ann, ben", "<strong>step 3</strong> (1) cat"]
    assert '<td data-label="Spread" class="spread">2</td>' in body
    assert "Needs review (1)" in body
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    assert client.get(reverse("annotations:review_queue", args=[dataset.slug]), {"status": "bogus"}).status_code == 404


def test_review_page_shows_every_annotation_and_suggestion_side_by_side(client, dataset, reviewer):
    solution = _disputed(dataset)
    client.force_login(reviewer)
    response = client.get(reverse("annotations:review_solution", args=[solution.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for text in ("ann", "ben", "cat", "the boxed answer is wrong", "unsure", "42 s", "judge-7b", "gen-1b"):
        assert text in body, text
    assert "Paragraph 2 is wrong." in body
    assert "<script>window.__pwned" not in body  # stored text is shown, never executed
    assert "The 3 annotators disagree." in body
    assert '<span class="math">' in body  # the problem's LaTeX goes to KaTeX
    assert "mc 0.50" in body  # per-step scores beside the step
    step_one = body.split('id="review-step-0"')[1].split("</li>")[0]
    assert step_one.count('class="vote vote-person"') == 2 and "vote-machine" in step_one


def test_review_page_query_count_does_not_grow_with_annotations(client, dataset, reviewer):
    solution = _disputed(dataset)
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for index in range(5):
        AnnotationFactory(solution=solution, earliest_error_step=1, annotator=UserFactory(username=f"extra{index}"))
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(few.captured_queries) == len(many.captured_queries)


def test_reviewer_decides_and_goes_to_the_next_solution(client, dataset, reviewer):
    first, second = _disputed(dataset), _disputed(dataset)
    client.force_login(reviewer)
    response = client.post(
        reverse("annotations:review_solution", args=[first.pk]),
        {"action": "decide", "label": "2", "note": "The square is right; the box is wrong."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("annotations:review_solution", args=[second.pk])
    final = FinalLabel.objects.get(solution=first)
    assert (final.label, final.source, final.decided_by, final.note) == (
        2,
        "review",
        reviewer,
        "The square is right; the box is wrong.",
    )
    first.refresh_from_db()
    assert first.status == SolutionStatus.FINAL
    page = client.get(response["Location"]).content.decode()
    assert f"Solution {first.pk}: final label step 3 (review)." in page


def _review_error(response):
    return response.content.decode().split('id="review-error">')[1].split("</div>")[0]


@pytest.mark.parametrize("posted", [{}, {"label": ""}, {"label": "two"}, {"label": "4"}, {"label": "-2"}])
def test_decide_without_a_valid_label_is_refused_in_the_pages_step_numbers(client, dataset, reviewer, posted):
    solution = _disputed(dataset, steps=["$x = 3$.", "$x^2 = 6$.", "So 6.", "\\boxed{6}"])
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    response = client.post(url, {"action": "decide", **posted})
    assert response.status_code == 400
    assert _review_error(response) == (
        "<p>Pick the earliest wrong step (Step 1 to Step 4) or mark all steps correct.</p>"
    )
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_a_refused_note_is_said_once_and_other_fields_name_themselves(client, dataset, reviewer):
    solution = _disputed(dataset, final_answer_correct=False)
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    response = client.post(url, {"action": "decide", "label": "-1"})
    assert _review_error(response) == "<p>The final answer is wrong, so say in a note why every step is correct.</p>"
    response = client.post(url, {"action": "decide", "label": "0", "note": "x" * 5001})
    assert (
        _review_error(response) == "<p>The note is too long (5001 characters).</p><p>note: At most 5000 characters.</p>"
    )


def test_all_correct_on_a_wrong_answer_needs_a_note_in_the_page(client, dataset, reviewer):
    solution = _disputed(dataset, final_answer_correct=False)
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    response = client.post(url, {"action": "decide", "label": "-1"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "The final answer is wrong, so say in a note why every step is correct." in body
    # the box to fill is marked (and points at the message); the others are not
    marked = 'aria-invalid="true" aria-describedby="review-error"'
    assert f'<textarea name="note" id="id_note" rows="2" maxlength="5000" {marked}>' in body
    assert '<textarea name="explanation" id="id_explanation" rows="2" maxlength="10000">' in body
    assert client.post(url, {"action": "decide", "label": "-1", "note": "Reference is wrong."}).status_code == 302


def test_reviewer_reopens_a_final_label_and_history_is_shown(client, dataset, reviewer):
    solution = _disputed(dataset)
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    client.post(url, {"action": "decide", "label": "0", "note": "Majority is right."})
    response = client.post(url, {"action": "reopen", "target": "needs_review", "reason": "Second look."})
    assert response.status_code == 302
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    assert not FinalLabel.objects.filter(solution=solution).exists()
    assert FinalLabelChange.objects.filter(solution=solution).count() == 2
    body = client.get(url).content.decode()
    assert "Reopened: Second look." in body and "Majority is right." in body
    response = client.post(url, {"action": "reopen", "target": "open", "reason": "again"})
    assert response.status_code == 409
    assert "Only final or discarded solutions can be reopened." in response.content.decode()


def test_dashboard_renders_charts_with_numbers(client, dataset):
    solution = _disputed(dataset)
    manager = _member(dataset, "mona", "manager")
    client.force_login(manager)
    client.post(reverse("annotations:review_solution", args=[solution.pk]), {"action": "decide", "label": "0"})
    correct = SolutionFactory(dataset=dataset)
    for name in ("ann", "ben", "cat"):
        AnnotationFactory(solution=correct, annotator=UserFactory(username=name), earliest_error_step=-1)
    solution_evaluate(solution_id=correct.pk)
    SuggestionFactory(solution=correct, method="judge", label=-1)
    SuggestionFactory(solution=correct, method="mc", label=-1)
    response = client.get(reverse("annotations:dashboard", args=[dataset.slug]))
    body = response.content.decode()
    assert response.status_code == 200
    assert body.count("<svg") >= 6
    assert 'data-label="judge (pooled)" data-value="0.00"' in body
    assert 'data-label="mc (pooled)" data-value="1.00"' in body
    # judge: acc_error 0/1, acc_correct 1/1 -> F1 0; mc: 1/1 and 1/1 -> F1 1; pairs: 1 of 3 plus 3 of 3
    assert 'data-label="pairwise exact" data-value="0.67"' in body
    assert '<td id="pairwise">0.667</td>' in body
    assert 'data-source="people"' in body and 'data-source="judge"' in body
    assert 'data-label="Needs review" data-value="0"' in body and 'data-label="Final label" data-value="2"' in body
    assert 'data-label="needs_review"' not in body  # statuses in words, as the review queue names them
    assert "<script" not in body.split("<main")[1]  # charts need no script


def test_dashboard_shows_suggestion_outcomes_and_keeps_imported_labels_out_of_peoples_figures(client, dataset):
    gold = SolutionFactory(dataset=dataset, is_gold=True, imported_label=1, status="final", needs_humans=False)
    FinalLabelFactory(solution=gold, label=1, source="imported")
    for source, label in (("unanimous", 0), ("consensus_auto", -1), ("consensus_auto", -1)):
        FinalLabelFactory(solution=SolutionFactory(dataset=dataset, status="final"), label=label, source=source)
    for solution in Solution.objects.filter(dataset=dataset):
        SuggestionFactory(solution=solution, method="mc", status="failed", label=None, seconds=1.5)
        SuggestionFactory(solution=solution, method="judge", status="failed", label=None)
    SuggestionFactory(solution=gold, method="prm", status="skipped", label=None)
    client.force_login(_member(dataset, "mona", "manager"))
    body = client.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    assert (
        '<tr data-method="mc"><td>mc</td><td class="succeeded">0</td><td class="failed">4</td>'
        '<td class="skipped">0</td><td>1.50</td>'
    ) in body
    assert '<td class="succeeded">0</td><td class="failed">0</td><td class="skipped">1</td>' in body  # prm
    # 2 consensus_auto of 3 labels made here; the gold item's imported label is in neither count
    assert '<td id="no-human">67% (2 of 3)</td>' in body
    assert 'data-source="people"' in body and 'data-source="imported"' in body
    people = body.split('data-source="people"')[1].split("</svg>")[0]
    imported = body.split('data-source="imported"')[1].split("</svg>")[0]
    assert 'data-label="0.0-0.1" data-value="1"' in people  # the unanimous step 1 only
    assert 'data-label="0.5-0.6" data-value="1"' in imported  # gold: step 2 of 3


def test_metrics_api_returns_the_dashboard_figures(dataset, reviewer):
    solution = _disputed(dataset)
    SuggestionFactory(solution=solution, method="consensus", label=None)
    response = token_client(reviewer).get(reverse("api:dataset-metrics", args=[dataset.slug]))
    assert response.status_code == 200
    body = response.json()
    assert body["dataset"] == "algebra"
    assert body["progress"]["by_status"]["needs_review"] == 1
    assert body["agreement"]["pairwise_agreement"] == pytest.approx(1 / 3)
    assert body["agreement"]["unanimous_share"] == 0.0
    assert body["methods"] == []  # no final label yet
    assert [row["annotator"] for row in body["annotators"]] == ["ann", "ben", "cat"]
    assert body["annotators"][0]["mean_seconds"] == 42.0
    assert body["positions"]["judge"]["bins"][9] == {"from": 0.9, "to": 1.0, "count": 1}
    assert body["positions"]["mc"]["bins"][0]["count"] == 1
    assert body["cost"]["machine_per_suggestion"]["judge"]["suggestions"] == 1
    assert "mean_f1" in body["definitions"]["processbench"]


def test_managers_mark_gold_over_the_api(dataset):
    manager = _member(dataset, "mona", "manager")
    solutions = [SolutionFactory(dataset=dataset, imported_label=label) for label in (0, -1)]
    url = reverse("api:dataset-gold", args=[dataset.slug])
    response = token_client(manager).post(
        url, {"solution_ids": [s.pk for s in solutions], "is_gold": True}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"changed": 2, "gold": 2}
    assert FinalLabel.objects.get(solution=solutions[1]).label == -1


def test_gold_api_errors_name_the_field(dataset, reviewer):
    manager = _member(dataset, "mona", "manager")
    foreign = SolutionFactory(imported_label=0)
    unlabelled = SolutionFactory(dataset=dataset, imported_label=None)
    url = reverse("api:dataset-gold", args=[dataset.slug])
    api = token_client(manager)
    response = api.post(url, {"solution_ids": [foreign.pk], "is_gold": True}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"solution_ids": [f"Not in this dataset: {foreign.pk}."]}
    response = api.post(url, {"solution_ids": [unlabelled.pk], "is_gold": True}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"solution_ids": [f"No imported label: solutions {unlabelled.pk}."]}
    response = api.post(url, {"solution_ids": [], "is_gold": "maybe"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"solution_ids", "is_gold"}
    response = token_client(reviewer).post(url, {"solution_ids": [unlabelled.pk], "is_gold": False}, format="json")
    assert response.status_code == 403
    assert response.json()["message"] == "Only managers of this dataset may choose its gold solutions."


def test_review_page_shows_the_arithmetic_verdict_and_its_abstention(client, dataset, reviewer):
    flagged, silent = _disputed(dataset), _disputed(dataset)
    SuggestionFactory(solution=flagged, method="arithmetic", label=1, rationale="Details.")
    SuggestionFactory(solution=silent, method="arithmetic", status="skipped", label=None, error="no arithmetic found")
    client.force_login(reviewer)

    pages = [
        client.get(reverse("annotations:review_solution", args=[s.pk])).content.decode() for s in (flagged, silent)
    ]

    panels = [page.split('class="suggestion suggestion-arithmetic"')[1].split("</section>")[0] for page in pages]
    assert (
        '<p class="verdict">First arithmetic slip at step 2; an earlier step may hold another kind of error'
        in panels[0]
    )
    assert '<p class="verdict">No verdict' in panels[1]
    assert '<p class="muted small">no arithmetic found</p>' in panels[1]
    all_correct_votes = pages[1].split('id="review-step-all-correct"')[1].split("</section>")[0]
    assert "arithmetic" not in all_correct_votes


def test_failed_suggestions_are_misses_with_coverage_in_the_api_and_on_the_dashboard(client, dataset, reviewer):
    labels = {"gsm8k": (1, -1, 0, -1), "math": (2, -1)}
    for subset, finals in labels.items():
        for index, final in enumerate(finals):
            solution = SolutionFactory(dataset=dataset, subset=subset, status="final")
            FinalLabelFactory(solution=solution, label=final, source="unanimous")
            if subset == "gsm8k" and index < 2:  # two right labels on gsm8k
                SuggestionFactory(solution=solution, method="judge", label=final, model_name="judge-72b")
            elif subset == "gsm8k":  # two failures on gsm8k (one erroneous, one correct item)
                SuggestionFactory(solution=solution, method="judge", status="failed", label=None)
            else:  # math: one skipped, one right
                status, label = ("skipped", None) if final == 2 else ("succeeded", -1)
                SuggestionFactory(solution=solution, method="judge", status=status, label=label)

    body = token_client(reviewer).get(reverse("api:dataset-metrics", args=[dataset.slug])).json()

    (judge,) = body["methods"]
    assert (judge["items"], judge["labelled"], judge["coverage"]) == (6, 3, 0.5)
    assert judge["subsets"]["gsm8k"] == {
        "acc_error": 0.5,
        "acc_correct": 0.5,
        "f1": 0.5,
        "erroneous": 2,
        "correct": 2,
        "labelled": 2,
        "coverage": 0.5,
    }
    assert judge["subsets"]["math"] == {
        "acc_error": 0.0,
        "acc_correct": 1.0,
        "f1": 0.0,
        "erroneous": 1,
        "correct": 1,
        "labelled": 1,
        "coverage": 0.5,
    }
    assert judge["pooled"]["acc_error"] == pytest.approx(1 / 3) and judge["pooled"]["acc_correct"] == pytest.approx(
        2 / 3
    )
    assert judge["pooled"]["f1"] == pytest.approx(4 / 9)
    assert judge["mean_f1"] == 0.25
    assert (
        "counts as a miss, as ProcessBench's run_eval.py counts a None prediction"
        in body["definitions"]["processbench"]
    )
    client.force_login(reviewer)
    page = client.get(reverse("annotations:dashboard", args=[dataset.slug])).content.decode()
    assert '<td class="coverage">0.500</td><td>0.333</td><td>0.667</td><td class="pooled-f1">0.444</td>' in page
    assert "<td>gsm8k</td>\n          <td>4</td><td>0.500</td><td>0.500</td><td>0.500</td><td>0.500</td>" in page
