"""Keys of the annotation page in Chromium at 1440x900 and 390x844: any step in at most three keys,
flags and guidelines by key, and the "I checked" box only when "all steps correct" is chosen."""

import pytest

from annotations.models import Annotation
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import (
    classes,
    day_records,
    horizontal_overflow,
    in_viewport,
    log_in,
    solution_from_record,
    viewports,
    wait_for_page,
)
from tests.factories import DatasetFactory, SolutionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THREE_STEPS = ["First $a = 1$.", "Then $b = 2$.", "So $a + b = \\boxed{3}$."]


def press(tab, *keys):
    """Press the keys in order; return how many were pressed."""
    for key in keys:
        tab.keyboard.press(key)
    return len(keys)


def feedback(tab):
    return tab.inner_text("#key-feedback")


@viewports()
def test_any_step_is_at_most_three_keys_away(tab, live_server, viewport):
    records = {record["id"]: record for record in day_records()}
    dataset = DatasetFactory(slug="keys", annotations_per_solution=1, max_annotations=1)
    fifteen = solution_from_record(dataset, records["math-43"])
    other_fifteen = solution_from_record(dataset, records["math-106"])
    three = SolutionFactory(dataset=dataset, steps=THREE_STEPS)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/keys/next/")
    wait_for_page(tab)

    assert press(tab, "1") == 1
    assert feedback(tab) == "Step 1…"  # the digits typed so far, while a second digit may follow
    assert tab.evaluate("document.querySelectorAll('#steps .is-error').length") == 0
    keys = 1 + press(tab, "2")
    assert "is-error" in classes(tab, "#step-11")
    assert tab.inner_text("#current-choice") == "Marked: step 12 is the earliest error"
    assert in_viewport(tab, "#step-11 .step-pick")  # scrolled to, above the action bar
    assert horizontal_overflow(tab) == 0
    keys += press(tab, "s")
    tab.wait_for_url(f"{live_server.url}/annotate/{other_fifteen.pk}/")
    assert keys == 3
    assert Annotation.objects.get(solution=fifteen).earliest_error_step == 11

    wait_for_page(tab)
    press(tab, "1")
    tab.wait_for_selector("#step-0.is-error")  # after the pause
    assert feedback(tab) == ""
    press(tab, "1", "6")
    assert feedback(tab) == "There is no step 16: this solution has 15 steps."
    assert "is-error" in classes(tab, "#step-0")
    press(tab, "1", "5")
    assert "is-error" in classes(tab, "#step-14")
    press(tab, "1", "a")  # another key takes the number being typed at once, then acts
    assert "is-error" in classes(tab, "#step-0") and tab.is_checked("#id_flag_ambiguous")
    press(tab, "x")
    tab.wait_for_url(f"{live_server.url}/annotate/{three.pk}/")

    wait_for_page(tab)
    press(tab, "4")  # used to do nothing at all on a 3-step solution
    assert feedback(tab) == "There is no step 4: this solution has 3 steps."
    assert "is-error" in feedback_classes(tab)
    press(tab, "g", "3")
    assert feedback(tab) == "At step 3: Enter marks it."
    assert "is-focused" in classes(tab, "#step-2") and "is-error" not in classes(tab, "#step-2")
    press(tab, "Enter")
    assert "is-error" in classes(tab, "#step-2")
    assert feedback(tab) == ""  # the hint "At step 3: Enter marks it." goes once the step is marked
    press(tab, "j")
    assert feedback(tab) == "Step 3 is the last step."  # j at the end says so instead of nothing
    press(tab, "k")
    assert feedback(tab) == "At step 2: Enter marks it."  # j/k say where the highlight went
    press(tab, "4", "j")
    assert feedback(tab) == ""  # back on the marked step; "There is no step 4" answered the key before
    press(tab, "0")
    assert tab.inner_text("#current-choice") == "Marked: all steps correct"
    assert tab.page_errors == []


def feedback_classes(tab):
    return classes(tab, "#key-feedback")


@viewports()
def test_flags_and_guidelines_by_key_and_the_confirm_box_only_for_all_correct(tab, live_server, viewport):
    dataset = DatasetFactory(
        slug="flags", annotations_per_solution=1, guidelines="Mark the **earliest** wrong step, nothing later."
    )
    wrong = SolutionFactory(dataset=dataset, steps=THREE_STEPS, final_answer_correct=False)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/flags/next/")
    wait_for_page(tab)

    press(tab, "?")
    shortcuts = tab.inner_text("#shortcuts")
    for line in (
        "flag: the problem is ambiguous",
        "flag: the reference answer looks wrong",
        "flag: I am unsure",
        "show or hide the guidelines",
        "back: reopen my previous item (again: the one before)",
    ):
        assert line in shortcuts
    press(tab, "Escape")

    press(tab, "a", "w", "u")
    assert [tab.is_checked(f"#id_flag_{name}") for name in ("ambiguous", "reference_wrong", "unsure")] == [True] * 3
    assert feedback(tab) == "Flag on: I am unsure"
    press(tab, "u")
    assert not tab.is_checked("#id_flag_unsure") and feedback(tab) == "Flag off: I am unsure"
    press(tab, "r")
    tab.keyboard.type("a w u")  # typed text never toggles flags
    press(tab, "Escape")
    assert tab.input_value("#id_rationale") == "a w u" and not tab.is_checked("#id_flag_unsure")

    assert not tab.evaluate("document.getElementById('guidelines').open")
    press(tab, "h")
    assert tab.evaluate("document.getElementById('guidelines').open")
    assert tab.is_visible("#guidelines >> text=nothing later")
    press(tab, "h")
    assert not tab.evaluate("document.getElementById('guidelines').open")

    confirm = "#confirm-all-correct-label"
    assert not tab.is_visible(confirm)
    press(tab, "2")
    assert not tab.is_visible(confirm)
    press(tab, "0")
    assert tab.is_visible(confirm)
    assert tab.inner_text(confirm).strip() == (
        "I checked: every step is correct even though the final answer is known to be wrong"
    )
    press(tab, "1")
    assert not tab.is_visible(confirm)
    press(tab, "s")
    tab.wait_for_selector("text=Nothing left to annotate")
    stored = Annotation.objects.get(solution=wrong)
    assert (stored.earliest_error_step, stored.flag_ambiguous, stored.flag_reference_wrong, stored.flag_unsure) == (
        0,
        True,
        True,
        False,
    )
    assert stored.rationale == "a w u"
    assert tab.page_errors == []
