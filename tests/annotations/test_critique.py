"""Critique logic without a database: the error-type taxonomy, step notes, and which critique an agreed label takes."""

import pytest

from annotations.critique import (
    AnnotatorCritique,
    CritiqueChoice,
    agreed_critique,
    default_error_types,
    error_type_errors,
    error_types_errors,
    step_notes_errors,
)


def test_default_taxonomy_has_six_types_with_stable_slugs_titles_and_keys():
    assert default_error_types() == [
        {"slug": "calculation", "title": "Calculation", "key": "c"},
        {"slug": "logic", "title": "Logic", "key": "l"},
        {"slug": "misread", "title": "Misread the problem", "key": "m"},
        {"slug": "unjustified", "title": "Unjustified or missing step", "key": "u"},
        {"slug": "wrong_fact", "title": "Wrong fact or formula", "key": "f"},
        {"slug": "other", "title": "Other", "key": "o"},
    ]
    assert error_types_errors(default_error_types()) == []
    assert default_error_types() is not default_error_types()  # a fresh list per dataset


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ([], ['Must be a non-empty list of {"slug", "title", "key"} objects.']),
        ("calculation", ['Must be a non-empty list of {"slug", "title", "key"} objects.']),
        ([{"slug": "a", "title": "A"}], ['Type 1: must be an object with exactly "slug", "title" and "key".']),
        (
            [{"slug": "Calc", "title": " ", "key": "cc"}],
            [
                "Type 1: slug must be 1-40 lowercase letters, digits or _, starting with a letter.",
                "Type 1: title must be 1-80 characters.",
                "Type 1: key must be one lowercase letter a-z.",
            ],
        ),
        (
            [{"slug": "a", "title": "A", "key": "x"}, {"slug": "a", "title": "B", "key": "x"}],
            ["Each slug must be unique: a.", "Each key must be unique: x."],
        ),
        ([{"slug": f"t{i}", "title": "T", "key": "a"} for i in range(27)], ["At most 26 error types (got 27)."]),
        ([{"slug": "a", "title": "A\x00", "key": "a"}], ["Type 1: title must not contain NUL characters."]),
    ],
)
def test_taxonomy_errors_say_which_entry_and_what(value, errors):
    assert error_types_errors(value) == errors


def test_error_type_goes_with_a_marked_step_and_comes_from_the_taxonomy():
    taxonomy = default_error_types()
    assert error_type_errors(None, label=-1, taxonomy=taxonomy) == []
    assert error_type_errors("logic", label=2, taxonomy=taxonomy) == []
    assert error_type_errors("logic", label=-1, taxonomy=taxonomy) == [
        "Only a marked step takes an error type; leave it empty when all steps are correct."
    ]
    assert error_type_errors("typo", label=0, taxonomy=taxonomy) == [
        "Unknown error type 'typo'; this dataset's types are: "
        "calculation, logic, misread, unjustified, wrong_fact, other."
    ]


def test_step_notes_are_bounded_and_name_the_bad_step():
    assert step_notes_errors({0: "fine but terse", 3: "restates"}, num_steps=4, marked_step=2) == []
    assert step_notes_errors({4: "x", -1: "y", 2: "z"}, num_steps=4, marked_step=2) == [
        "Step index -1 is not a step of this 4-step solution (0 to 3).",
        "Step index 2 is the marked step: its explanation goes in the rationale.",
        "Step index 4 is not a step of this 4-step solution (0 to 3).",
    ]
    assert step_notes_errors({0: "x" * 501}, num_steps=4, marked_step=-1) == [
        "The note on step index 0 has 501 characters; at most 500."
    ]
    assert step_notes_errors({i: "x" for i in range(21)}, num_steps=30, marked_step=-1) == [
        "At most 20 step notes (got 21)."
    ]


def critique(annotation_id, label, explanation="", error_type=None, order=None):
    return AnnotatorCritique(annotation_id, label, explanation, error_type, annotation_id if order is None else order)


def test_agreed_critique_takes_the_longest_explanation_of_an_agreeing_annotator():
    annotations = [
        critique(1, 2, "22 * 2 is 44.", "calculation"),
        critique(2, 1, "A much longer explanation of a different step, which is not the agreed one.", "logic"),
        critique(3, 2, "Doubling 22 gives 44, not 46: the step adds 2.", "calculation"),
        critique(4, 2, "", "logic"),
    ]
    assert agreed_critique(annotations, 2) == CritiqueChoice(
        explanation="Doubling 22 gives 44, not 46: the step adds 2.", error_type="calculation", annotation_id=3
    )


def test_equally_long_explanations_go_to_the_earliest_submitted():
    annotations = [critique(7, 0, "abc", order=2), critique(5, 0, "xyz", order=1)]
    assert agreed_critique(annotations, 0) == CritiqueChoice("xyz", None, 5)


def test_error_type_tie_goes_to_the_chosen_explanations_type_else_the_first_given():
    tied_with_chosen = [critique(1, 0, "short", "logic"), critique(2, 0, "the longest one", "calculation")]
    assert agreed_critique(tied_with_chosen, 0) == CritiqueChoice("the longest one", "calculation", 2)
    chosen_untyped = [
        critique(1, 0, "", "misread"),
        critique(2, 0, "", "logic"),
        critique(3, 0, "the only explanation", None),
    ]
    assert agreed_critique(chosen_untyped, 0) == CritiqueChoice("the only explanation", "misread", 3)
    majority = [critique(1, 0, "longest explanation here", "logic"), critique(2, 0, "", "other")]
    majority.append(critique(3, 0, "", "other"))
    assert agreed_critique(majority, 0) == CritiqueChoice("longest explanation here", "other", 1)


def test_nothing_said_means_no_critique_and_all_correct_never_takes_a_type():
    assert agreed_critique([critique(1, 2), critique(2, 2)], 2) is None
    assert agreed_critique([critique(1, -1, "All steps check out.")], -1) == CritiqueChoice(
        "All steps check out.", None, 1
    )
