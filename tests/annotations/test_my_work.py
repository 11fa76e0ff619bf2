"""My work: gold items that do not give themselves away, the gold feedback once settled, and the filters."""

import re

import pytest
from django.urls import reverse

from annotations.models import Annotation, Dataset, Solution, SolutionStatus
from annotations.selectors.gold import annotation_editable
from annotations.selectors.my_work import MyWorkFilters, my_annotations_list
from annotations.services.agreement import solution_evaluate
from annotations.services.claims import claim_next
from annotations.services.gold import solution_set_gold
from tests.annotations.api_support import token_client
from tests.annotations.workbench_helpers import member
from tests.factories import AnnotationFactory, DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset():
    return DatasetFactory(name="Algebra", slug="algebra", annotations_per_solution=2, agreement_mode="review")


@pytest.fixture
def alice(dataset):
    return member(dataset, "alice")


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def _gold(dataset, label, text):
    problem = ProblemFactory(dataset=dataset, text=text)
    solution = SolutionFactory(dataset=dataset, imported_label=label, problem=problem)
    return solution_set_gold(solution_id=solution.pk, is_gold=True)


def _annotate(solution, user, label, **kwargs):
    AnnotationFactory(solution=solution, annotator=user, earliest_error_step=label, **kwargs)
    return solution_evaluate(solution_id=solution.pk)


def _row(html, solution):
    return re.search(rf'<tr data-solution="{solution.pk}">(.*?)</tr>', html, re.S).group(1)


def _cells(row, *names):
    return [re.search(rf'<td data-label="{name}"[^>]*>(.*?)</td>', row, re.S).group(1).strip() for name in names]


def test_an_unsettled_gold_item_looks_like_any_open_item(logged_in, dataset, alice):
    ordinary = _annotate(SolutionFactory(dataset=dataset), alice, 1)
    gold = _annotate(_gold(dataset, 1, "Gold-free wording: find $x$."), alice, 1)
    assert (gold.status, gold.annotation_count) == (SolutionStatus.FINAL, 1)  # final from the start
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    for solution in (ordinary, gold):
        row = _row(html, solution)
        assert _cells(row, "Status", "My label") == ['<span class="badge">open</span>', "step 2"]
        assert f'<a href="/annotate/{solution.pk}/">Change</a>' in row
    assert "gold" not in html.replace("Gold-free", "").lower()
    assert 'id="gold-feedback"' not in html


def test_an_unsettled_gold_annotation_stays_changeable(logged_in, dataset, alice):
    gold = _annotate(_gold(dataset, 1, "Find $y$."), alice, 0)
    url = reverse("annotations:annotate", args=[gold.pk])
    html = logged_in.get(url).content.decode()
    assert "You are changing your annotation" in html and "read-only" not in html
    response = logged_in.post(url, {"earliest_error_step": "1"})
    assert response.status_code == 302
    assert Annotation.objects.get(solution=gold, annotator=alice).earliest_error_step == 1


def test_settled_gold_items_show_how_i_did(logged_in, dataset, alice):
    bob = member(dataset, "bob")
    right = _annotate(_gold(dataset, 1, "Find $a$."), alice, 1)
    wrong = _annotate(_gold(dataset, 2, "Find $b$."), alice, 0)
    for solution in (right, wrong):
        _annotate(solution, bob, 2)
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    assert _cells(_row(html, right), "Status") == [
        '<span class="badge badge-right">final</span>\n        '
        '<span class="badge badge-right gold-result">gold: matched</span>'
    ]
    assert '<span class="badge badge-wrong gold-result">gold: step 3</span>' in _row(html, wrong)
    assert f'<a href="/annotate/{wrong.pk}/">View</a>' in _row(html, wrong)
    feedback = "Gold items settled: 2, your label matched the gold label on 1 (50%)."
    assert f'<span id="gold-feedback">{feedback}</span>' in html
    page = logged_in.get(reverse("annotations:annotate", args=[wrong.pk])).content.decode()
    assert "This solution&#x27;s label is final (a gold item: its label came with the data): your annotation" in page
    response = logged_in.post(reverse("annotations:annotate", args=[wrong.pk]), {"earliest_error_step": "2"})
    assert response.status_code == 302
    assert Annotation.objects.get(solution=wrong, annotator=alice).earliest_error_step == 0


def test_a_settled_solution_shows_its_final_label(logged_in, dataset, alice):
    """My work showed "final" but not which label was settled; an open one shows none yet."""
    bob = member(dataset, "bob")
    agreed = _annotate(SolutionFactory(dataset=dataset), alice, 1)
    all_correct = _annotate(SolutionFactory(dataset=dataset), alice, -1)
    waiting = _annotate(SolutionFactory(dataset=dataset), alice, 0)
    _annotate(agreed, bob, 1)
    _annotate(all_correct, bob, -1)
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    assert _cells(_row(html, agreed), "Status") == [
        '<span class="badge badge-right">final</span> <span class="settled-label">final label: step 2</span>'
    ]
    assert '<span class="settled-label">final label: all correct</span>' in _row(html, all_correct)
    assert "settled-label" not in _row(html, waiting)


def test_with_gold_feedback_off_a_settled_gold_item_is_just_final(logged_in, dataset, alice):
    Dataset.objects.filter(pk=dataset.pk).update(gold_feedback=False)
    gold = _annotate(_gold(dataset, 1, "Find $c$."), alice, 0)
    _annotate(gold, member(dataset, "bob"), 1)
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    assert _cells(_row(html, gold), "Status") == ['<span class="badge badge-right">final</span>']
    assert "gold" not in html.lower()


def test_the_python_and_sql_rules_agree_on_what_annotators_see(dataset, alice):
    bob = member(dataset, "bob")
    settled_gold = _annotate(_annotate(_gold(dataset, 1, "g1"), alice, 1), bob, 1)
    states = {
        "open": _annotate(SolutionFactory(dataset=dataset), alice, 0),
        "review": _annotate(_annotate(SolutionFactory(dataset=dataset), alice, 0), bob, 1),
        "final": _annotate(_annotate(SolutionFactory(dataset=dataset), alice, 0), bob, 0),
        "gold open": _annotate(_gold(dataset, 1, "g2"), alice, 1),
        "gold settled": settled_gold,
    }
    Solution.objects.filter(pk=states["open"].pk).update(status=SolutionStatus.DISCARDED)
    rows = {row.solution_id: row for row in my_annotations_list(user=alice, filters=MyWorkFilters())}
    seen = {name: (rows[s.pk].shown_status, rows[s.pk].is_editable) for name, s in states.items()}
    assert seen == {
        "open": ("discarded", False),
        "review": ("needs_review", True),
        "final": ("final", False),
        "gold open": ("open", True),
        "gold settled": ("final", False),
    }
    for solution in Solution.objects.select_related("dataset").filter(pk__in=rows):
        assert annotation_editable(solution) is rows[solution.pk].is_editable


def _listed(client, **query):
    html = client.get(reverse("annotations:my_work"), query).content.decode()
    return sorted(int(pk) for pk in re.findall(r'<tr data-solution="(\d+)">', html))


def test_my_work_filters_by_my_label_step_and_status(logged_in, dataset, alice):
    correct = _annotate(SolutionFactory(dataset=dataset), alice, -1)
    step_two = _annotate(SolutionFactory(dataset=dataset), alice, 1)
    step_three = _annotate(_annotate(SolutionFactory(dataset=dataset), alice, 2), member(dataset, "bob"), 2)
    gold = _annotate(_gold(dataset, 0, "Find $d$."), alice, 0)
    assert step_three.status == SolutionStatus.FINAL
    assert _listed(logged_in, label="all_correct") == [correct.pk]
    assert _listed(logged_in, label="wrong_step") == sorted([step_two.pk, step_three.pk, gold.pk])
    assert _listed(logged_in, step="2") == [step_two.pk]
    assert _listed(logged_in, label="wrong_step", step="3") == [step_three.pk]
    assert _listed(logged_in, status="open") == sorted([correct.pk, step_two.pk, gold.pk])  # gold looks open
    assert _listed(logged_in, status="final") == [step_three.pk]
    assert _listed(logged_in, status="final", dataset="algebra", label="wrong_step") == [step_three.pk]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"step": "0"}, "Ensure this value is greater than or equal to 1."),
        ({"step": "two"}, "Enter a whole number."),
        ({"step": "2", "label": "all_correct"}, "A step number means a wrong step: choose &quot;A wrong step&quot;"),
        ({"status": "bogus"}, "Select a valid choice. bogus is not one of the available choices."),
        ({"label": "maybe"}, "Select a valid choice. maybe is not one of the available choices."),
    ],
)
def test_bad_filters_are_named_under_their_field(logged_in, dataset, alice, query, message):
    _annotate(SolutionFactory(dataset=dataset), alice, 1)
    response = logged_in.get(reverse("annotations:my_work"), query)
    html = response.content.decode()
    assert response.status_code == 200
    assert message in html
    assert "1 annotation." in html  # the list stays unfiltered


def test_gold_feedback_is_a_dataset_setting_of_the_api(dataset):
    manager = member(dataset, "mona", role="manager")
    client = token_client(manager)
    assert client.get("/api/v1/datasets/algebra/").json()["gold_feedback"] is True
    response = client.patch("/api/v1/datasets/algebra/", {"gold_feedback": False}, format="json")
    assert response.status_code == 200 and response.json()["gold_feedback"] is False
    assert Dataset.objects.get(pk=dataset.pk).gold_feedback is False
    refused = client.patch("/api/v1/datasets/algebra/", {"gold_feedback": "maybe"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"] == {"gold_feedback": ["Must be true or false."]}


EDITING_HINTS = (
    'id="timer"',
    "click the earliest wrong step",
    "Press <kbd>?</kbd> for keyboard shortcuts.",
    'placeholder="Why is this step wrong?"',
    "All steps are correct <kbd>0</kbd>",
)


def test_a_read_only_annotation_page_drops_the_editing_hints(logged_in, dataset, alice):
    editable = _annotate(SolutionFactory(dataset=dataset), alice, 1)
    settled = _annotate(_annotate(SolutionFactory(dataset=dataset), alice, 1), member(dataset, "bob"), 1)
    page = logged_in.get(reverse("annotations:annotate", args=[editable.pk])).content.decode()
    assert all(hint in page for hint in EDITING_HINTS)
    page = logged_in.get(reverse("annotations:annotate", args=[settled.pk])).content.decode()
    assert "This solution&#x27;s label is final (its annotators agreed unanimously): your annotation is" in page
    assert [hint for hint in EDITING_HINTS if hint in page] == []
    assert '<textarea name="rationale" id="id_rationale" rows="3" maxlength="10000" disabled>' in page


def test_gold_feedback_is_in_the_dataset_admin(admin_client, dataset):
    html = admin_client.get(reverse("admin:annotations_dataset_change", args=[dataset.pk])).content.decode()
    assert (
        '<input type="checkbox" name="gold_feedback" aria-describedby="id_gold_feedback_helptext" '
        'id="id_gold_feedback" checked>'
    ) in html
    assert "Once a gold solution is settled, show each annotator in My work whether their label matched" in html


def test_a_gold_item_being_annotated_shows_nothing_of_gold(logged_in, dataset, alice):
    Dataset.objects.filter(pk=dataset.pk).update(gold_rate=1.0)
    gold = _gold(dataset, 1, "Find $e$.")
    dataset.refresh_from_db()
    claim = claim_next(dataset=dataset, annotator=alice)
    assert claim is not None and claim.solution_id == gold.pk
    html = logged_in.get(reverse("annotations:annotate", args=[gold.pk])).content.decode()
    assert "<h2>Problem</h2>" in html and 'id="submit-button"' in html
    assert "gold" not in html.lower()


def test_my_work_calls_the_text_an_explanation_as_the_annotation_and_review_pages_do(logged_in, dataset, alice):
    _annotate(SolutionFactory(dataset=dataset), alice, 1, rationale="The sum is off by one.")
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    assert '<th class="col-rationale">Explanation</th>' in html
    assert '<td data-label="Explanation" class="preview">The sum is off by one.</td>' in html
    assert '<label>Has explanation <select name="has_rationale"' in html
    assert "Rationale" not in html and "rationale</label>" not in html


def test_a_problems_figure_code_is_no_part_of_its_preview(logged_in, dataset, alice):
    problem = ProblemFactory(dataset=dataset, text="In the figure [asy]draw((0,0)--(1,1));[/asy] find $x$.")
    solution = SolutionFactory(dataset=dataset, problem=problem)
    AnnotationFactory(solution=solution, annotator=alice, earliest_error_step=-1)
    row = _row(logged_in.get(reverse("annotations:my_work")).content.decode(), solution)
    assert 'title="In the figure [figure] find $x$."' in row
    assert "draw(" not in row
