"""Error types and explanations through the services: submit, agreement, triage, review, and their interfaces."""

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse

from annotations.models import Annotation, FinalLabel
from annotations.services.agreement import solution_evaluate, solution_triage
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from annotations.services.review import review_decide
from prmweb.errors import ApplicationError
from tests.annotations.workbench_helpers import member
from tests.factories import AnnotationFactory, DatasetFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db

STEPS = ["Jame is 27 - 5 = 22.", "His cousin is 2 * 22 - 8 = 46 - 8 = 38.", "So the answer is \\boxed{38}."]


@pytest.fixture
def dataset():
    return DatasetFactory(slug="critic", annotations_per_solution=3, max_annotations=5)


@pytest.fixture
def solution(dataset):
    return SolutionFactory(dataset=dataset, steps=STEPS)


def submit(solution, name, **fields):
    user = member(solution.dataset, name)
    claim_next(dataset=solution.dataset, annotator=user)
    return annotation_submit(solution_id=solution.pk, annotator=user, data=AnnotationInput(**fields))


def test_submit_stores_error_type_explanation_and_notes(solution):
    annotation = submit(
        solution,
        "alice",
        earliest_error_step=1,
        rationale=" 2 * 22 is 44, not 46. ",
        error_type="calculation",
        step_notes={0: "  correct but terse ", 2: "   "},
    )
    stored = Annotation.objects.get(pk=annotation.pk)
    assert (stored.rationale, stored.error_type) == ("2 * 22 is 44, not 46.", "calculation")
    assert stored.step_notes == [{"step": 0, "note": "correct but terse"}]


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        (
            {"earliest_error_step": 1, "error_type": "typo"},
            {
                "error_type": [
                    "Unknown error type 'typo'; this dataset's types are: "
                    "calculation, logic, misread, unjustified, wrong_fact, other."
                ]
            },
        ),
        (
            {"earliest_error_step": -1, "error_type": "logic"},
            {"error_type": ["Only a marked step takes an error type; leave it empty when all steps are correct."]},
        ),
        (
            {"earliest_error_step": 1, "step_notes": {1: "wrong", 3: "?"}},
            {
                "step_notes": [
                    "Step index 1 is the marked step: its explanation goes in the rationale.",
                    "Step index 3 is not a step of this 3-step solution (0 to 2).",
                ]
            },
        ),
    ],
)
def test_submit_refuses_bad_critique_fields_naming_them(solution, fields, errors):
    with pytest.raises(ApplicationError) as error:
        submit(solution, "alice", **fields)
    assert error.value.errors == errors
    first_field, messages = next(iter(errors.items()))
    assert error.value.message == f"Invalid annotation. {first_field}: {messages[0]}"
    assert not Annotation.objects.exists()


def test_a_dataset_that_requires_an_explanation_refuses_an_erroneous_label_without_one(dataset, solution):
    dataset.rationale_required = True
    dataset.save()
    with pytest.raises(ApplicationError) as error:
        submit(solution, "alice", earliest_error_step=1, error_type="calculation")
    assert error.value.errors == {
        "rationale": ["This dataset asks for an explanation: say why the marked step is wrong."]
    }


def test_a_custom_taxonomy_is_what_submit_accepts(dataset, solution):
    dataset.error_types = [{"slug": "arith", "title": "Arithmetic", "key": "a"}]
    dataset.save()
    assert submit(solution, "alice", earliest_error_step=1, error_type="arith").error_type == "arith"
    with pytest.raises(ApplicationError) as error:
        submit(solution, "bob", earliest_error_step=1, error_type="calculation")
    assert error.value.errors["error_type"] == ["Unknown error type 'calculation'; this dataset's types are: arith."]


def test_unanimous_label_takes_the_longest_explanation_and_the_majority_type(solution):
    submit(solution, "alice", earliest_error_step=1, rationale="44, not 46.", error_type="calculation")
    longest = submit(solution, "bob", earliest_error_step=1, rationale="2 * 22 = 44; the step says 46.")
    submit(solution, "carol", earliest_error_step=1, error_type="calculation")
    final = FinalLabel.objects.get(solution=solution)
    assert (final.source, final.explanation, final.error_type, final.explanation_source) == (
        "unanimous",
        "2 * 22 = 44; the step says 46.",
        "calculation",
        "human",
    )
    assert (final.explanation_annotation_id, final.explanation_suggestion_id) == (longest.pk, None)


def test_majority_label_ignores_the_disagreeing_annotators_critique(solution):
    submit(solution, "alice", earliest_error_step=1, rationale="short", error_type="logic")
    submit(solution, "dora", earliest_error_step=0, rationale="A much longer but disagreeing explanation.")
    submit(solution, "bob", earliest_error_step=1, rationale="", error_type="calculation")
    submit(solution, "carol", earliest_error_step=1, rationale="", error_type="calculation")
    final = FinalLabel.objects.get(solution=solution)
    assert (final.source, final.label, final.explanation, final.error_type) == ("majority", 1, "short", "calculation")


def test_agreement_without_explanations_or_types_leaves_the_critique_empty(solution):
    for name in ("a", "b", "c"):
        submit(solution, name, earliest_error_step=2)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.explanation, final.error_type, final.explanation_source, final.explanation_annotation_id) == (
        "",
        None,
        "",
        None,
    )


def test_consensus_auto_takes_the_judge_critique_that_agreed():
    dataset = DatasetFactory(triage_mode="disagreement_only", audit_rate=0, scoring_methods=["mc", "judge"])
    solution = SolutionFactory(dataset=dataset, steps=STEPS, needs_humans=False)
    SuggestionFactory(solution=solution, method="judge", config_key="old", label=0, rationale="Wrong \\boxed{0}")
    agreed = SuggestionFactory(
        solution=solution, method="judge", label=1, rationale="Paragraph 1 doubles 22 wrongly. \\boxed{1}"
    )
    SuggestionFactory(solution=solution, method="mc", label=1)
    SuggestionFactory(solution=solution, method="consensus", label=1)
    solution_triage(solution_id=solution.pk)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.source, final.label, final.explanation_source, final.explanation_suggestion_id) == (
        "consensus_auto",
        1,
        "judge",
        agreed.pk,
    )
    assert (final.explanation, final.error_type) == ("Paragraph 1 doubles 22 wrongly. \\boxed{1}", None)


def test_consensus_auto_without_an_agreeing_critique_has_none():
    dataset = DatasetFactory(triage_mode="disagreement_only", audit_rate=0, scoring_methods=["mc", "judge"])
    solution = SolutionFactory(dataset=dataset, steps=STEPS, needs_humans=False)
    SuggestionFactory(solution=solution, method="judge", label=1, rationale="No box at all.")
    SuggestionFactory(solution=solution, method="consensus", label=1)
    solution_triage(solution_id=solution.pk)
    final = FinalLabel.objects.get(solution=solution)
    assert (final.source, final.explanation, final.explanation_source) == ("consensus_auto", "", "")


@pytest.fixture
def disputed():
    """Two annotators say step 1 (one explains, typed), one says step 2; the dataset reviews disagreement."""
    solution = SolutionFactory(dataset=DatasetFactory(agreement_mode="review"), steps=STEPS)
    made = {}
    for name, label, rationale, error_type in (
        ("ann", 1, "2 * 22 is 44.", "calculation"),
        ("ben", 1, "", "logic"),
        ("cat", 2, "The box should hold 36.", "wrong_fact"),
    ):
        made[name] = AnnotationFactory(
            solution=solution,
            annotator=UserFactory(username=name),
            earliest_error_step=label,
            rationale=rationale,
            error_type=error_type,
        )
    solution_evaluate(solution_id=solution.pk)
    return solution, made


def decide(solution, **kwargs):
    return review_decide(solution_id=solution.pk, reviewer=UserFactory(username="rita"), **kwargs)


def _critique(final):
    return (final.explanation, final.error_type, final.explanation_source, final.explanation_annotation_id)


def test_reviewer_picks_an_annotators_explanation(disputed):
    solution, made = disputed
    final = decide(solution, label=2, explanation_annotation_id=made["cat"].pk)
    assert _critique(final) == ("The box should hold 36.", "wrong_fact", "human", made["cat"].pk)


def test_reviewer_writes_an_explanation_and_a_type(disputed):
    solution, _ = disputed
    final = decide(solution, label=0, explanation="  Step 1 already misreads 5 years.  ", error_type="misread")
    assert _critique(final) == ("Step 1 already misreads 5 years.", "misread", "reviewer", None)


def test_reviewer_without_a_choice_gets_the_agreeing_annotators_critique(disputed):
    solution, made = disputed
    ann = made["ann"].pk
    assert _critique(decide(solution, label=1)) == ("2 * 22 is 44.", "calculation", "human", ann)
    assert _critique(decide(solution, label=1, error_type="logic")) == ("2 * 22 is 44.", "logic", "human", ann)
    assert _critique(decide(solution, label=0)) == ("", None, "", None)
    assert _critique(decide(solution, label=0, error_type="other")) == ("", "other", "reviewer", None)


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        (
            {"label": 2, "explanation_annotation_id": "ann"},
            "explanation_annotation",
            "ann marked step 2, not step 3: pick an explanation of the chosen label, or write one.",
        ),
        (
            {"label": 1, "explanation_annotation_id": "ben"},
            "explanation_annotation",
            "ben wrote no explanation; pick another or write one.",
        ),
        ({"label": 1, "explanation_annotation_id": 0}, "explanation_annotation", "Solution {pk} has no annotation 0."),
        (
            {"label": 1, "explanation_annotation_id": "ann", "explanation": "mine"},
            "explanation_annotation",
            "Pick an annotator's explanation or write one, not both.",
        ),
        (
            {"label": -1, "error_type": "logic", "note": "The reference is wrong."},
            "error_type",
            "Only a marked step takes an error type; leave it empty when all steps are correct.",
        ),
        ({"label": 1, "explanation": "x" * 10_001}, "explanation", "At most 10000 characters; got 10001."),
    ],
)
def test_review_refuses_a_bad_critique_naming_the_field(disputed, kwargs, field, message):
    solution, made = disputed
    picked = kwargs.get("explanation_annotation_id")
    if isinstance(picked, str):
        kwargs = {**kwargs, "explanation_annotation_id": made[picked].pk}
    with pytest.raises(ApplicationError) as error:
        decide(solution, **kwargs)
    assert error.value.errors == {field: [message.format(pk=solution.pk)]}
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_review_page_post_passes_the_critique_fields(client, disputed):
    solution, made = disputed
    reviewer = member(solution.dataset, "rita", role="reviewer")
    client.force_login(reviewer)
    url = reverse("annotations:review_solution", args=[solution.pk])
    response = client.post(
        url, {"action": "decide", "label": "1", "explanation_annotation": str(made["ann"].pk), "error_type": "logic"}
    )
    assert response.status_code == 302
    final = FinalLabel.objects.get(solution=solution)
    assert _critique(final) == ("2 * 22 is 44.", "logic", "human", made["ann"].pk)
    assert Annotation.objects.get(pk=made["ann"].pk).error_type == "calculation"  # the annotation is untouched
    refused = client.post(url, {"action": "decide", "label": "1", "explanation_annotation": "first"})
    assert refused.status_code == 400
    assert "Pick one of the annotators&#x27; explanations." in refused.content.decode()
    wrong_type = client.post(url, {"action": "decide", "label": "1", "error_type": "typo"})
    assert wrong_type.status_code == 400
    assert "Unknown error type &#x27;typo&#x27;" in wrong_type.content.decode()


def test_workbench_post_accepts_error_type_and_step_notes(client, dataset, solution):
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    response = client.post(
        reverse("annotations:annotate", args=[solution.pk]),
        {
            "earliest_error_step": "1",
            "rationale": "44, not 46.",
            "error_type": "calculation",
            "step_note_0": "fine",
            "step_note_2": "",
            "step_note_x": "ignored: not a step field",
        },
    )
    assert response.status_code == 302
    stored = Annotation.objects.get(annotator=alice)
    assert (stored.error_type, stored.step_notes) == ("calculation", [{"step": 0, "note": "fine"}])


def test_workbench_post_without_the_new_fields_stores_no_type(client, dataset, solution):
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    response = client.post(reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "1"})
    assert response.status_code == 302
    assert Annotation.objects.values_list("error_type", "step_notes").get() == (None, [])


def test_workbench_post_with_a_bad_step_note_names_it(client, dataset, solution):
    alice = member(dataset, "alice")
    claim_next(dataset=dataset, annotator=alice)
    client.force_login(alice)
    response = client.post(
        reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "1", "step_note_7": "?"}
    )
    assert response.status_code == 400
    assert "Invalid annotation. step_notes: Step index 7 is not a step of this 3-step solution (0 to 2)." in (
        response.content.decode()
    )
    assert not Annotation.objects.exists()


def test_the_database_keeps_error_types_off_all_correct_labels_and_sources_known(solution):
    with pytest.raises(IntegrityError), transaction.atomic():
        AnnotationFactory(solution=solution, earliest_error_step=-1, error_type="logic")
    with pytest.raises(IntegrityError), transaction.atomic():
        FinalLabel.objects.create(solution=solution, label=-1, step_count=3, source="review", error_type="logic")
    with pytest.raises(IntegrityError), transaction.atomic():
        FinalLabel.objects.create(solution=solution, label=1, step_count=3, source="review", explanation_source="me")
    assert not FinalLabel.objects.exists()
