"""Issue 11's "done when", in Chromium at 1440x900 and 390x844: an annotator labels a 20-item mix of real
gsm8k, MATH (with diagrams) and long solutions with the keyboard alone, sees their progress, goes back
and fixes one, and reloads mid-item without losing text."""

import pytest

from annotations.models import Annotation, Claim
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import day_records, solution_from_record, viewports, wait_for_page
from tests.factories import DatasetFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
RELOAD_AT, BACK_AT = 9, 15  # the 10th item is reloaded mid-way; from the 16th the annotator goes back


def label_keys(label: int) -> list[str]:
    """Return the keys that mark a ProcessBench label: its 1-based step number, or 0 for all correct."""
    return ["0"] if label == -1 else list(str(label + 1))


def log_in_by_keyboard(tab, live_server):
    tab.goto(f"{live_server.url}/accounts/login/")
    tab.keyboard.type("alice")
    tab.keyboard.press("Tab")
    tab.keyboard.type(PASSWORD)
    tab.keyboard.press("Enter")
    tab.wait_for_url(f"{live_server.url}/")
    tab.wait_for_function("document.activeElement && document.activeElement.matches('button.start')")
    tab.keyboard.press("Enter")


def arrive(tab, live_server, solution):
    tab.wait_for_url(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_page(tab)


def reload_keeps_the_draft(tab, keys):
    """Mark, write a rationale, reload (the page asks first), and find both restored."""
    for key in keys:
        tab.keyboard.press(key)
    tab.keyboard.press("r")
    tab.keyboard.type("The sum in this step is off by one.")
    tab.keyboard.press("Escape")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.reload()
    wait_for_page(tab)
    assert tab.input_value("#id_rationale") == "The sum in this step is off by one."
    assert tab.inner_text("#current-choice").startswith("Marked: ")


def go_back_and_fix(tab, live_server, solutions, records):
    """From the queue item, reopen the previous item, change its label, save, and land back in the queue."""
    previous, current = solutions[BACK_AT - 1], solutions[BACK_AT]
    tab.keyboard.press("b")
    arrive(tab, live_server, previous)
    assert "You are changing your annotation." in tab.inner_text("#edit-banner")
    fixed = records[BACK_AT - 1]["label"] - 1  # the annotator changes their mind: one step earlier
    for key in label_keys(fixed):
        tab.keyboard.press(key)
    tab.keyboard.press("s")
    arrive(tab, live_server, current)
    assert f"Annotation of solution {previous.pk} changed" in tab.inner_text(".messages")
    tab.keyboard.press("b")
    arrive(tab, live_server, previous)
    tab.keyboard.press("b")  # and the one before it
    arrive(tab, live_server, solutions[BACK_AT - 2])
    tab.keyboard.press("n")  # back to where I was
    arrive(tab, live_server, current)
    return fixed


@viewports()
def test_an_annotators_day_at_the_workbench(tab, live_server, viewport):
    records = day_records()
    dataset = DatasetFactory(name="Day", slug="day", annotations_per_solution=3, max_annotations=5)
    solutions = [solution_from_record(dataset, record) for record in records]
    alice = member(dataset, "alice")
    log_in_by_keyboard(tab, live_server)
    fixed = None
    for index, (record, solution) in enumerate(zip(records, solutions, strict=True)):
        arrive(tab, live_server, solution)
        assert tab.inner_text("#progress-line") == f"{index} done today · {20 - index} left for me in this dataset"
        if index == BACK_AT:
            fixed = go_back_and_fix(tab, live_server, solutions, records)
        keys = label_keys(record["label"])
        if index == RELOAD_AT:
            reload_keeps_the_draft(tab, keys)
        else:
            for key in keys:
                tab.keyboard.press(key)
        assert len(keys) + 1 <= 3  # the step and the submit: never more than three keys
        tab.keyboard.press("s")
    tab.wait_for_selector("text=Nothing left to annotate")
    assert tab.page_errors == []

    stored = dict(Annotation.objects.filter(annotator=alice).values_list("solution_id", "earliest_error_step"))
    expected = {solution.pk: record["label"] for record, solution in zip(records, solutions, strict=True)}
    expected[solutions[BACK_AT - 1].pk] = fixed
    assert stored == expected
    assert Annotation.objects.get(solution=solutions[RELOAD_AT]).rationale == "The sum in this step is off by one."
    assert not Claim.objects.exists()
    tab.goto(f"{live_server.url}/")
    card = tab.inner_text("#dataset-day")
    for line in ("Done by me\n20", "Today\n20", "Left for me\n0"):
        assert line in card
