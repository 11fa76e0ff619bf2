"""Error types, explanations and notes on the annotation page and the review page (Django test client).

The keyboard flows run in Chromium (tests/browser/annotation_page/test_critique_browser.py and
tests/browser/test_review_critique_browser.py); these tests pin what the server renders and refuses.
"""

import html as html_text
import re

import pytest
from django.urls import reverse

from annotations.models import Annotation, FinalLabel
from annotations.services.agreement import solution_evaluate
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STEPS = ["Jame is 27 - 5 = 22.", "His cousin is 2 * 22 - 8 = 46 - 8 = 38.", "So the answer is \\boxed{38}."]
TAXONOMY = [
    {"slug": "arith", "title": "Arithmetic slip", "key": "a"},
    {"slug": "quantifier", "title": "Quantifier", "key": "q"},
]


@pytest.fixture
def dataset():
    return DatasetFactory(slug="critic", annotations_per_solution=3, agreement_mode="review")


@pytest.fixture
def solution(dataset):
    return SolutionFactory(dataset=dataset, steps=STEPS)


@pytest.fixture
def alice(client, dataset):
    user = member(dataset, "alice")
    client.force_login(user)
    return user


def page_url(solution):
    return reverse("annotations:annotate", args=[solution.pk])


def note_box(html, index):
    return html.split(f'id="step-note-{index}"')[1].split("</details>")[0]


def test_the_annotation_page_offers_the_datasets_error_types_with_their_keys(client, dataset, solution, alice):
    dataset.error_types = TAXONOMY
    dataset.save()
    claim_next(dataset=dataset, annotator=alice)
    html = client.get(page_url(solution)).content.decode()
    assert re.findall(r'<label class="error-type">(.*?)</label>', html) == [
        '<input type="radio" name="error_type" value="arith" id="id_error_type_arith" data-key="a"> Arithmetic slip '
        "<kbd>a</kbd>",
        '<input type="radio" name="error_type" value="quantifier" id="id_error_type_quantifier" data-key="q"> '
        "Quantifier <kbd>q</kbd>",
        '<input type="radio" name="error_type" value="" id="id_error_type_none"> No type given',
    ]
    assert (
        "<tr><td><kbd>t</kbd> then a key</td><td>error type of the marked step: <kbd>a</kbd> Arithmetic slip · "
        "<kbd>q</kbd> Quantifier · <kbd>Backspace</kbd> none</td></tr>"
    ) in html
    assert "Misread the problem" not in html
    assert re.findall(r'name="(step_note_\d+)"', html) == ["step_note_0", "step_note_1", "step_note_2"]
    assert "<summary>Note on step 3</summary>" in note_box(html, 2)
    assert 'id="error-detail-title">The marked step: its type and why it is wrong</p>' in html


def test_my_earlier_annotation_opens_with_its_type_explanation_and_notes_and_changes(client, dataset, solution, alice):
    claim_next(dataset=dataset, annotator=alice)
    annotation_submit(
        solution_id=solution.pk,
        annotator=alice,
        data=AnnotationInput(
            earliest_error_step=1, rationale="2 * 22 is 44.", error_type="calculation", step_notes={2: "follows"}
        ),
    )
    html = client.get(page_url(solution)).content.decode()
    assert 'id="error-detail-title">Step 2, the earliest error: its type and why it is wrong</p>' in html
    assert 'value="calculation" id="id_error_type_calculation" data-key="c" checked> Calculation' in html
    assert html.count(" checked>") == 2  # the step and the type
    assert ">2 * 22 is 44.</textarea>" in html
    assert '<details class="step-note has-text" id="step-note-2" open>' in html
    assert 'name="step_note_2" id="id_step_note_2" maxlength="500" value="follows"' in note_box(html, 2)
    assert 'value=""' in note_box(html, 0)

    response = client.post(
        page_url(solution),
        {"earliest_error_step": "0", "rationale": "27 - 5 misreads the ages.", "error_type": "misread"},
    )
    assert response.status_code == 302
    stored = Annotation.objects.get(annotator=alice)
    assert (stored.earliest_error_step, stored.rationale, stored.error_type, stored.step_notes) == (
        0,
        "27 - 5 misreads the ages.",
        "misread",
        [],
    )


NOTE_ON_MARKED = (
    "Step 2 is the step you marked as the earliest error: say why it is wrong in its explanation, not in a note "
    "(or clear the note)."
)


@pytest.mark.parametrize(
    ("posted", "where", "message"),
    [
        ({"earliest_error_step": "1", "step_note_1": "wrong"}, "step-note-1", NOTE_ON_MARKED),
        (
            {"earliest_error_step": "1", "step_note_0": "x" * 501},
            "step-note-0",
            "Ensure this value has at most 500 characters (it has 501).",
        ),
        (
            {"earliest_error_step": "1", "error_type": "typo"},
            "error-type-errors",
            "Unknown error type &#x27;typo&#x27;; this dataset&#x27;s types are: calculation, logic, misread, "
            "unjustified, wrong_fact, other.",
        ),
        (
            {"earliest_error_step": "-1", "error_type": "logic"},
            "error-type-errors",
            "Only a marked step takes an error type; leave it empty when all steps are correct.",
        ),
        (
            {"earliest_error_step": "1", "error_type": "logic", "rationale": "  "},
            "rationale-errors",
            "This dataset asks for an explanation: say why the marked step is wrong.",
        ),
    ],
)
def test_a_refused_critique_is_said_under_its_field_and_nothing_is_stored(
    client, dataset, solution, alice, posted, where, message
):
    dataset.rationale_required = True
    dataset.save()
    claim_next(dataset=dataset, annotator=alice)
    response = client.post(page_url(solution), {"rationale": "A reason.", **posted})
    assert response.status_code == 400
    html = response.content.decode()
    block = html.split(f'id="{where}"')[1].split("</ul>")[0]
    assert f"<li>{message}</li>" in block
    assert not Annotation.objects.exists()
    for name, value in posted.items():
        if name.startswith("step_note_"):
            assert f'name="{name}" id="id_{name}" maxlength="500" value="{value}"' in html  # what I wrote stays


def test_a_read_only_page_shows_only_the_notes_written(client, dataset, solution, alice):
    AnnotationFactory(
        solution=solution,
        annotator=alice,
        earliest_error_step=1,
        rationale="44",
        error_type="calculation",
        step_notes=[{"step": 0, "note": "terse"}],
    )
    FinalLabelFactory(solution=solution, label=1, source="review")
    solution.status = "final"
    solution.save()
    html = client.get(page_url(solution)).content.decode()
    types = html.split('<fieldset class="error-types" id="error-types" disabled>')[1].split("</fieldset>")[0]
    assert "<kbd>" not in types and "then its key" not in types
    assert re.findall(r'name="(step_note_\d+)"', html) == ["step_note_0"]
    assert 'value="terse" aria-label="Note on step 1" disabled>' in html


@pytest.fixture
def disputed(dataset):
    """ann and ben mark step 2 (ann explains, both typed), cat marks step 3; ann notes step 1."""
    solution = SolutionFactory(dataset=dataset, steps=STEPS)
    made = {}
    for name, label, rationale, error_type, notes in (
        ("ann", 1, "2 * 22 is 44.", "calculation", [{"step": 0, "note": "correct but terse"}]),
        ("ben", 1, "", "logic", []),
        ("cat", 2, "The box should hold 36.", "wrong_fact", []),
    ):
        made[name] = AnnotationFactory(
            solution=solution,
            annotator=UserFactory(username=name),
            earliest_error_step=label,
            rationale=rationale,
            error_type=error_type,
            step_notes=notes,
        )
    solution_evaluate(solution_id=solution.pk)
    return solution, made


@pytest.fixture
def rita(client, dataset):
    user = member(dataset, "rita", role="reviewer")
    client.force_login(user)
    return user


def review_url(solution):
    return reverse("annotations:review_solution", args=[solution.pk])


def words(markup):
    """Return the text of an HTML fragment, tags dropped, whitespace collapsed, entities decoded."""
    return html_text.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", markup)).strip())


def _final_box(client, solution):
    page = client.get(review_url(solution)).content.decode()
    return words(page.split('id="final-critique">')[1].split("</section>")[0])


def test_the_review_page_shows_each_annotators_type_explanation_and_notes_beside_their_label(client, disputed, rita):
    solution, made = disputed
    html = client.get(review_url(solution)).content.decode()
    step_two = html.split('id="review-step-1"')[1].split("</li>")[0]
    assert 'data-agreed-by="ann"' in step_two.split(">")[0]
    opinions = step_two.split('<div class="opinion">')[1:]
    assert [words(opinion) for opinion in opinions] == [
        "ann Calculation 2 * 22 is 44. use this explanation",
        "ben Logic no explanation",
    ]
    ann = made["ann"].pk
    assert (
        f'<input type="radio" name="explanation_annotation" form="decide-form" value="{ann}" id="id_pick_{ann}" '
        'data-label="1" data-annotator="ann">'
    ) in step_two
    assert f'id="id_pick_{made["ben"].pk}"' not in html  # nothing to pick: ben wrote no explanation
    step_one = html.split('id="review-step-0"')[1].split("</li>")[0]
    assert '<p class="step-note-line"><span class="muted">Note by ann:</span> correct but terse</p>' in step_one
    table = html.split('id="annotations"')[1].split("</table>")[0]
    assert '<span class="nowrap">step 3</span><br><span class="badge badge-type">Wrong fact or formula</span>' in table
    assert '<span class="muted">Note on step 1:</span> correct but terse' in table
    assert (
        '<input type="radio" name="error_type" value="wrong_fact" id="id_review_type_wrong_fact" data-key="f"> '
        "Wrong fact or formula <kbd>f</kbd>"
    ) in html


def test_the_reviewer_writes_an_explanation_and_sees_it_with_its_provenance(client, disputed, rita):
    solution, _ = disputed
    own = {"action": "decide", "label": "0", "explanation_annotation": "own", "error_type": "misread"}
    refused = client.post(review_url(solution), {**own, "explanation": " "})
    assert refused.status_code == 400
    html = refused.content.decode()
    assert html.split('id="review-error">')[1].split("</div>")[0] == (
        "<p>Write your explanation, or pick an annotator&#x27;s.</p>"
    )
    assert 'value="own" id="id_explanation_own" checked>' in html
    assert '<div class="own-explanation is-open" id="own-explanation">' in html
    assert 'value="misread" id="id_review_type_misread" data-key="m" checked>' in html
    assert not FinalLabel.objects.exists()

    response = client.post(review_url(solution), {**own, "explanation": "Step 1 already misreads the ages."})
    assert response.status_code == 302
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.explanation, final.error_type, final.explanation_source) == (
        0,
        "Step 1 already misreads the ages.",
        "misread",
        "reviewer",
    )
    assert _final_box(client, solution) == (
        "Misread the problem explanation written by rita (reviewer) Step 1 already misreads the ages."
    )


def test_a_picked_explanation_of_another_label_is_refused_and_kept_in_the_page(client, disputed, rita):
    solution, made = disputed
    cat = made["cat"].pk
    response = client.post(review_url(solution), {"action": "decide", "label": "1", "explanation_annotation": str(cat)})
    assert response.status_code == 400
    html = response.content.decode()
    assert "cat marked step 3, not step 2: pick an explanation of the chosen label, or write one." in html
    assert f'id="id_pick_{cat}" data-label="2" data-annotator="cat" checked>' in html
    assert not FinalLabel.objects.exists()


def test_the_final_labels_critique_says_where_it_came_from(client, disputed, rita):
    solution, made = disputed
    final = FinalLabelFactory(
        solution=solution,
        label=1,
        source="unanimous",
        explanation="2 * 22 is 44.",
        error_type="calculation",
        explanation_source="human",
        explanation_annotation=made["ann"],
    )
    assert _final_box(client, solution) == "Calculation explanation from ann's annotation 2 * 22 is 44."
    judge = SuggestionFactory(solution=solution, method="judge", label=1, model_name="judge-7b")
    FinalLabel.objects.filter(pk=final.pk).update(
        source="consensus_auto",
        explanation="Paragraph 1 is wrong. \\boxed{1}",
        error_type=None,
        explanation_source="judge",
        explanation_annotation=None,
        explanation_suggestion=judge,
    )
    assert _final_box(client, solution) == (
        "explanation the LLM judge's critique (judge-7b) Paragraph 1 is wrong. \\(\\boxed{1}\\)"  # typeset by KaTeX
    )
