"""Drafts in Chromium at 1440x900 and 390x844: the chosen step, rationale and flags survive a reload, a
crashed tab and an expired claim, are cleared on submit, and leaving with unsaved text asks first."""

import pytest

from annotations.models import Annotation, Claim
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import classes, log_in, viewports, wait_for_page, watch_errors
from tests.factories import DatasetFactory, SolutionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOUR_STEPS = ["First we note $a_1 = 1$.", "Then $a_2 = 2$.", "So $a_3 = 5$.", "The answer is $\\boxed{5}$."]
DRAFT_KEYS = "Object.keys(localStorage).filter((key) => key.startsWith('prmweb:draft:'))"


def open_page(tab, live_server, solution):
    tab.goto(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_page(tab)


def assert_draft_shown(tab):
    assert "is-error" in classes(tab, "#step-2")
    assert tab.input_value("#id_rationale") == "a_3 should be 4, not 5"
    assert tab.is_checked("#id_flag_unsure") and not tab.is_checked("#id_flag_ambiguous")
    assert tab.inner_text("#draft-banner").startswith("Restored your draft from this browser (saved ")


@viewports()
def test_a_draft_survives_reload_crash_and_an_expired_claim(tab, live_server, viewport, settings):
    settings.WORKBENCH_HEARTBEAT_SECONDS = 1
    dataset = DatasetFactory(slug="drafts", annotations_per_solution=1, max_annotations=1)
    first, second = (SolutionFactory(dataset=dataset, steps=FOUR_STEPS) for _ in range(2))
    alice = member(dataset, "alice")
    log_in(tab, live_server, alice)
    tab.goto(f"{live_server.url}/datasets/drafts/next/")
    tab.wait_for_url(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_page(tab)
    tab.keyboard.press("3")
    tab.keyboard.press("r")
    tab.keyboard.type("a_3 should be 4, not 5")
    tab.keyboard.press("Escape")
    tab.keyboard.press("u")

    dialogs = []
    tab.once("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.dismiss()))
    tab.evaluate("window.location.assign('/')")  # leaving with unsaved text asks first
    tab.wait_for_timeout(500)
    assert dialogs == ["beforeunload"]
    assert tab.url == f"{live_server.url}/annotate/{first.pk}/"

    tab.once("dialog", lambda dialog: dialog.accept())
    tab.reload()
    wait_for_page(tab)
    assert_draft_shown(tab)

    crashed, tab = tab, watch_errors(tab.context.new_page())  # the tab dies without unload handlers
    crashed.close(run_before_unload=False)
    open_page(tab, live_server, first)
    assert_draft_shown(tab)

    Claim.objects.filter(annotator=alice).delete()  # expired and released by the periodic task
    tab.wait_for_selector("#claim-banner:not([hidden])")
    assert tab.inner_text("#claim-banner") == (
        "You hold no claim on this solution: it was released, or never handed to you by the queue. "
        "Go on to the next solution. What you wrote stays in this browser as a draft."
    )
    tab.keyboard.press("s")  # refused: the page comes back read-only with what I wrote
    tab.wait_for_selector("#next-button")
    assert tab.input_value("#id_rationale") == "a_3 should be 4, not 5" and tab.is_disabled("#id_rationale")
    assert not Annotation.objects.exists()
    assert tab.evaluate(DRAFT_KEYS) == [f"prmweb:draft:{alice.pk}:{first.pk}"]

    tab.keyboard.press("n")  # the queue hands the same solution back: the draft returns
    tab.wait_for_url(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_page(tab)
    assert_draft_shown(tab)
    tab.keyboard.press("s")
    tab.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    wait_for_page(tab)
    stored = Annotation.objects.get(solution=first)
    assert (stored.earliest_error_step, stored.rationale, stored.flag_unsure) == (2, "a_3 should be 4, not 5", True)
    assert tab.evaluate(DRAFT_KEYS) == []  # cleared once the submit went through
    assert tab.is_hidden("#draft-banner")

    tab.keyboard.press("r")
    tab.keyboard.type("skipped")
    tab.keyboard.press("Escape")
    tab.once("dialog", lambda dialog: dialog.accept())
    tab.keyboard.press("x")  # skip gives the solution back, draft and all
    tab.wait_for_selector("text=Nothing left to annotate")
    assert tab.evaluate(DRAFT_KEYS) == []
    assert tab.page_errors == [] and crashed.page_errors == []


@viewports()
def test_the_time_spent_on_a_new_item_survives_a_reload(tab, live_server, viewport):
    dataset = DatasetFactory(slug="timer", annotations_per_solution=1, max_annotations=1)
    solution = SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/timer/next/")
    tab.wait_for_url(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_page(tab)
    tab.wait_for_timeout(2100)  # reading, nothing chosen yet
    tab.reload()
    wait_for_page(tab)
    timer = tab.inner_text("#timer")
    assert timer.startswith("0:0") and int(timer[-2:]) >= 2, timer  # the timer goes on, not from 0:00
    assert tab.is_hidden("#draft-banner")  # nothing was chosen: no draft to announce
    tab.keyboard.press("2")
    tab.keyboard.press("s")
    tab.wait_for_selector("text=Nothing left to annotate")
    assert Annotation.objects.get(solution=solution).seconds_spent >= 2
    assert tab.evaluate(DRAFT_KEYS) == []  # sent, then swept
    assert tab.page_errors == []
