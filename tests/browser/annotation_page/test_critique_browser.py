"""The marked step's critique by keyboard alone, in Chromium at 1440x900 and 390x844: the error type ("t"
then its key), the explanation inside the marked step ("r"), a note on another step ("c"), kept in the
draft across a reload, stored on submit, and changed again through "b" (back) without the mouse."""

import pytest

from annotations.models import Annotation
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import (
    day_records,
    horizontal_overflow,
    in_viewport,
    log_in,
    solution_from_record,
    viewports,
    wait_for_page,
)
from tests.factories import DatasetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EXPLANATION = "Setting x = 1 makes both sides 0, so nothing follows about P(1)."
NOTE = "correct but unjustified"


def press(tab, *keys):
    for key in keys:
        tab.keyboard.press(key)


def feedback(tab):
    return tab.inner_text("#key-feedback")


def checked_type(tab):
    return tab.evaluate("(document.querySelector('input[name=error_type]:checked') || {value: null}).value")


def mark_and_explain(tab):
    """On math-43 (15 steps): mark step 5, type calculation, explain it, and note step 4, by keyboard."""
    press(tab, "t")
    assert feedback(tab) == "Mark the earliest wrong step first: only it takes an error type."
    press(tab, "5")
    assert tab.locator("#step-4 #error-detail").count() == 1  # the critique sits in the marked step
    assert tab.inner_text("#error-detail-title") == "Step 5, the earliest error: its type and why it is wrong"
    press(tab, "t")
    assert feedback(tab) == "Error type: press its key (Backspace: none, Esc: cancel)."
    press(tab, "u")  # after "t", u is a type, not the "I am unsure" flag
    assert (checked_type(tab), tab.is_checked("#id_flag_unsure")) == ("unjustified", False)
    assert feedback(tab) == "Error type: Unjustified or missing step"
    press(tab, "t", "z")
    assert feedback(tab) == "No error type has the key z."
    press(tab, "t", "c")
    assert (checked_type(tab), feedback(tab)) == ("calculation", "Error type: Calculation")
    press(tab, "r")
    assert tab.evaluate("document.activeElement.id") == "id_rationale" and in_viewport(tab, "#id_rationale")
    tab.keyboard.type(EXPLANATION)
    press(tab, "Escape", "c")
    assert feedback(tab) == "Step 5 is the marked step: r writes its explanation. Notes go on other steps."
    press(tab, "k", "c")
    assert tab.evaluate("document.activeElement.id") == "id_step_note_3"
    tab.keyboard.type(NOTE)
    press(tab, "Enter")  # leaves the note; never submits
    assert tab.evaluate("document.activeElement.tagName") == "BODY"
    assert tab.input_value("#id_step_note_3") == NOTE
    assert horizontal_overflow(tab) == 0


@viewports()
def test_error_type_explanation_and_note_by_keyboard_through_draft_submit_and_back(tab, live_server, viewport):
    records = {record["id"]: record for record in day_records()}
    dataset = DatasetFactory(slug="critic", annotations_per_solution=2, max_annotations=3)
    first = solution_from_record(dataset, records["math-43"])
    second = solution_from_record(dataset, records["math-106"])
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/critic/next/")
    tab.wait_for_url(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_page(tab)
    mark_and_explain(tab)

    tab.once("dialog", lambda dialog: dialog.accept())  # leaving with unsaved text asks first
    tab.reload()
    wait_for_page(tab)
    assert tab.inner_text("#draft-banner").startswith("Restored your draft from this browser (saved ")
    assert tab.locator("#step-4 #error-detail").count() == 1
    assert (checked_type(tab), tab.input_value("#id_rationale")) == ("calculation", EXPLANATION)
    assert tab.input_value("#id_step_note_3") == NOTE and tab.is_visible("#id_step_note_3")

    press(tab, "?")
    assert (
        "error type of the marked step: c Calculation · l Logic · m Misread the problem · u Unjustified or missing "
        "step · f Wrong fact or formula · o Other · Backspace none"
    ) in tab.inner_text("#shortcuts")
    press(tab, "Escape", "s")
    tab.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    stored = Annotation.objects.get(solution=first)
    assert (stored.earliest_error_step, stored.error_type, stored.rationale, stored.step_notes) == (
        4,
        "calculation",
        EXPLANATION,
        [{"step": 3, "note": NOTE}],
    )

    wait_for_page(tab)
    press(tab, "b")  # back to my previous item: its type, explanation and note, editable
    tab.wait_for_url(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_page(tab)
    assert checked_type(tab) == "calculation" and tab.input_value("#id_step_note_3") == NOTE
    press(tab, "0")
    assert tab.is_hidden("#error-types") and tab.inner_text("#error-detail-title") == "All steps correct: any remarks"
    press(tab, "t")
    assert feedback(tab) == "Mark the earliest wrong step first: only it takes an error type."
    press(tab, "4")  # step 4 carries my note: the page says so before sending anything
    assert tab.is_visible("#error-types") and checked_type(tab) == "calculation"
    press(tab, "t", "Backspace")
    assert (checked_type(tab), feedback(tab)) == ("", "No error type given.")
    press(tab, "t", "l", "s")
    conflict = (
        "Step 4 is the step you marked as the earliest error: say why it is wrong in its explanation, not in a "
        "note (or clear the note)."
    )
    assert tab.inner_text("#client-error") == conflict
    assert feedback(tab) == conflict  # the action bar says it too: the form's own line may be off screen
    assert tab.evaluate("document.activeElement.id") == "id_step_note_3"
    press(tab, "Control+a", "Backspace", "Escape", "s")
    tab.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    stored.refresh_from_db()
    assert (stored.earliest_error_step, stored.error_type, stored.rationale, stored.step_notes) == (
        3,
        "logic",
        EXPLANATION,
        [],
    )
    assert tab.page_errors == []
