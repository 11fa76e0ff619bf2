"""Progress and going back, in Chromium at 1440x900 and 390x844: "n done today · N left for me", the home
page's counts of my annotations, reopening my previous item (and the one before) by key, editing it and
returning to the queue, read-only with the reason once settled; a claimless POST refused."""

import pytest

from annotations.models import Annotation, FinalLabel, Solution, SolutionStatus
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import horizontal_overflow, log_in, viewports, wait_for_page
from tests.factories import DatasetFactory, SolutionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOUR_STEPS = ["First we note $a_1 = 1$.", "Then $a_2 = 2$.", "So $a_3 = 5$.", "The answer is $\\boxed{5}$."]


def progress(tab):
    return tab.inner_text("#progress-line")


def at(tab, live_server, solution):
    tab.wait_for_url(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_page(tab)


@viewports()
def test_progress_back_edit_and_return_to_the_queue(tab, live_server, viewport):
    dataset = DatasetFactory(name="Algebra", slug="algebra", annotations_per_solution=3, max_annotations=5)
    first, second, third, fourth = (SolutionFactory(dataset=dataset, steps=FOUR_STEPS) for _ in range(4))
    alice = member(dataset, "alice")
    log_in(tab, live_server, alice)
    tab.goto(f"{live_server.url}/datasets/algebra/next/")
    at(tab, live_server, first)
    assert progress(tab) == "0 done today · 4 left for me in this dataset"
    assert tab.evaluate("document.getElementById('previous-link')") is None
    tab.keyboard.press("b")
    assert tab.inner_text("#key-feedback") == "No earlier annotation of yours in this dataset."
    for key, following in (("2", second), ("3", third)):
        tab.keyboard.press(key)
        tab.keyboard.press("s")
        at(tab, live_server, following)
    assert progress(tab) == "2 done today · 2 left for me in this dataset"
    assert horizontal_overflow(tab) == 0

    tab.keyboard.press("b")  # my previous item, still open: editable
    at(tab, live_server, second)
    assert "You are changing your annotation." in tab.inner_text("#edit-banner")
    assert tab.inner_text("#current-choice") == "Marked: step 3 is the earliest error"
    tab.keyboard.press("b")  # and the one before
    at(tab, live_server, first)
    assert tab.inner_text("#current-choice") == "Marked: step 2 is the earliest error"
    tab.keyboard.press("n")  # back to where I was in the queue
    at(tab, live_server, third)

    if viewport == "phone":  # the link, where a thumb would go; the key on the desktop
        tab.click("#previous-link")
    else:
        tab.keyboard.press("b")
    at(tab, live_server, second)
    tab.keyboard.press("1")
    tab.keyboard.press("s")
    at(tab, live_server, third)  # saving an edit returns to the queue, not to My work
    assert f"Annotation of solution {second.pk} changed: step 1 is the earliest error." in tab.inner_text(".messages")
    assert Annotation.objects.get(solution=second).earliest_error_step == 0
    assert Annotation.objects.count() == 2

    Solution.objects.filter(pk=first.pk).update(status=SolutionStatus.FINAL)
    FinalLabel.objects.create(solution=first, label=1, step_count=4, source="unanimous")
    tab.goto(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_page(tab)
    assert tab.inner_text("#read-only-banner") == (
        "This solution's label is final (its annotators agreed unanimously): your annotation is read-only. "
        "The final label: step 2."
    )
    tab.keyboard.press("3")
    assert tab.inner_text("#key-feedback") == "This annotation is read-only."
    assert tab.is_disabled('#step-2 input[type="radio"]') and not tab.is_visible("#submit-button")
    tab.keyboard.press("n")
    at(tab, live_server, third)

    tab.goto(f"{live_server.url}/")
    card = tab.inner_text("#dataset-algebra")
    for line in ("Done by me\n2", "Today\n2", "Left for me\n2", "Settled overall\n1 of 4"):
        assert line in card
    assert fourth.pk not in (first.pk, second.pk, third.pk)
    assert tab.page_errors == []


@viewports()
def test_b_on_the_nothing_left_page_opens_my_previous_item(tab, live_server, viewport):
    dataset = DatasetFactory(slug="done", annotations_per_solution=1)
    only = SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/done/next/")
    at(tab, live_server, only)
    tab.keyboard.press("0")
    tab.keyboard.press("s")
    tab.wait_for_selector("text=Nothing left to annotate")
    assert tab.inner_text("#previous-link") == "← My previous item b"
    tab.keyboard.press("b")
    tab.wait_for_url(f"{live_server.url}/annotate/{only.pk}/")
    assert tab.page_errors == []


@viewports()
def test_a_claimless_post_and_heartbeat_from_the_page_are_refused(tab, live_server, viewport):
    dataset = DatasetFactory(slug="claims", annotations_per_solution=3)
    mine, other = SolutionFactory(dataset=dataset, steps=FOUR_STEPS), SolutionFactory(dataset=dataset)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/claims/next/")
    at(tab, live_server, mine)
    result = tab.evaluate(
        """async (other) => {
          const token = document.querySelector('input[name="csrfmiddlewaretoken"]').value;
          const headers = {"X-CSRFToken": token};
          const body = new URLSearchParams({earliest_error_step: "0", csrfmiddlewaretoken: token});
          const post = await fetch(`/annotate/${other}/`, {method: "POST", body, headers});
          const beat = await fetch(`/annotate/${other}/heartbeat/`, {method: "POST", headers});
          return [post.status, await post.text(), beat.status, await beat.json()];
        }""",
        other.pk,
    )
    status, html, beat_status, beat = result
    assert (status, beat_status) == (409, 409)
    assert "You hold no claim on this solution: it was released, or never handed to you by the queue." in html
    assert beat["message"].startswith("You hold no claim on this solution")
    assert not Annotation.objects.exists()
