"""A reviewer settles the review queue with the keyboard alone (Playwright on Debian's Chromium), on a phone
and on a wide screen: `n` opens the next solution, digits choose a step (two quick digits for step 12),
`j`/`k`/Enter move and choose, `0` says all correct, `r` writes the note, `s` sets the final label."""

import pytest

from annotations.models import FinalLabel, SolutionStatus
from annotations.services.agreement import solution_evaluate
from tests.browser.site_pages import log_in
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "wide": {"width": 1440, "height": 900}}


def _disputed(dataset, steps, labels, **kwargs):
    problem = ProblemFactory(dataset=dataset, text=f"Problem with {len(steps)} steps: find $x$.")
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=steps, **kwargs)
    for name, label in zip(("ann", "ben", "cat"), labels, strict=True):
        AnnotationFactory(
            solution=solution, annotator=UserFactory(username=name), earliest_error_step=label, rationale=f"{name} says"
        )
    solution = solution_evaluate(solution_id=solution.pk)
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    return solution


@pytest.fixture
def queue():
    dataset = DatasetFactory(name="Algebra", slug="algebra", agreement_mode="review")
    MembershipFactory(dataset=dataset, user=UserFactory(username="rita"), role="reviewer")
    short = _disputed(dataset, ["$x = 1$.", "$x + 1 = 3$.", "\\boxed{3}"], [0, 1, 0])
    long = _disputed(dataset, [f"Step text {n} with $x_{{{n}}}$." for n in range(1, 16)], [11, 12, 11])
    wrong_answer = _disputed(dataset, ["a", "b", "c", "\\boxed{7}"], [-1, 2, -1], final_answer_correct=False)
    return short, long, wrong_answer


def _press(page, key, *, navigates=False):
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(key)
        page.wait_for_load_state("load")
    else:
        page.keyboard.press(key)


@pytest.mark.parametrize("viewport", ["phone", "wide"])
def test_a_reviewer_settles_the_queue_without_the_mouse(browser, live_server, queue, viewport):
    short, long, wrong_answer = queue
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    log_in(context, live_server.url, "rita")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/datasets/algebra/review/")
    _press(page, "n", navigates=True)
    assert page.url == f"{live_server.url}/review/{short.pk}/"
    _press(page, "9")
    assert page.inner_text("#review-keys") == "No step 9: this solution has 3 steps."
    _press(page, "?")
    assert page.locator("#review-shortcuts").is_visible()
    _press(page, "Escape")
    assert not page.locator("#review-shortcuts").is_visible()
    for key in ("j", "j", "Enter"):
        _press(page, key)
    assert page.inner_text("#review-choice") == "Step 2"
    _press(page, "s", navigates=True)

    assert page.url == f"{live_server.url}/review/{long.pk}/"
    assert "final label step 2 (review)" in page.inner_text(".messages")
    _press(page, "1")
    _press(page, "2")
    assert page.inner_text("#review-choice") == "Step 12"
    assert page.locator("#review-step-11").evaluate("row => row.classList.contains('is-chosen')")
    _press(page, "s", navigates=True)

    assert page.url == f"{live_server.url}/review/{wrong_answer.pk}/"
    _press(page, "0")
    assert page.inner_text("#review-choice") == "All correct"
    _press(page, "s", navigates=True)
    assert page.inner_text("#review-error") == "The final answer is wrong, so say in a note why every step is correct."
    assert page.inner_text("#review-choice") == "All correct"
    assert page.get_attribute("#id_note", "aria-invalid") == "true"  # the box to fill is marked
    _press(page, "r")
    page.keyboard.type("The reference answer is wrong; every step holds.")
    _press(page, "Control+Enter", navigates=True)
    assert "final label all correct (review)" in page.inner_text(".messages")
    assert page.inner_text("#queue-done") == "Nothing else needs review."
    _press(page, "n")
    assert page.inner_text("#review-keys") == "Nothing else needs review in this dataset."

    finals = {final.solution_id: (final.label, final.source) for final in FinalLabel.objects.all()}
    assert finals == {short.pk: (1, "review"), long.pk: (11, "review"), wrong_answer.pk: (-1, "review")}
    assert FinalLabel.objects.get(solution=wrong_answer).note == "The reference answer is wrong; every step holds."
    assert errors == []
    context.close()
