"""The review flow and the quality dashboard in a real browser (Playwright on Debian's Chromium, see conftest)."""

import re

import pytest
from django.conf import settings
from django.test import Client

from annotations.models import FinalLabel, SolutionStatus
from annotations.services.agreement import solution_evaluate
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def scenario():
    dataset = DatasetFactory(name="Algebra", slug="algebra", agreement_mode="review")
    reviewer = UserFactory(username="rita")
    MembershipFactory(dataset=dataset, user=reviewer, role="reviewer")
    problem = ProblemFactory(dataset=dataset, text="Find $x$ if $x^2 = 9$ and $x > 0$.", reference_answer="3")
    solution = SolutionFactory(
        dataset=dataset,
        problem=problem,
        external_id="pb-1",
        steps=["We take $\\sqrt{9}$.", "So $x = \\pm 3$.", "Hence $x = \\boxed{-3}$."],
        final_answer="-3",
        final_answer_correct=False,
    )
    for name, label in (("ann", 1), ("ben", 2), ("cat", 2)):
        AnnotationFactory(
            solution=solution, annotator=UserFactory(username=name), earliest_error_step=label, seconds_spent=30
        )
    SuggestionFactory(solution=solution, method="judge", label=2, model_name="judge-7b", rationale="The sign is lost.")
    solution = solution_evaluate(solution_id=solution.pk)
    assert solution.status == SolutionStatus.NEEDS_REVIEW
    return dataset, reviewer, solution


def _console_problem(problems, message):
    """Record console errors (CSP violations, script errors); the browser's own favicon probe is no problem."""
    if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
        problems.append(f"{message.text} at {message.location.get('url')}")


def _response_problem(problems, response):
    if response.status >= 400 and not response.url.endswith("/favicon.ico"):
        problems.append(f"{response.status} {response.url}")


def _logged_in(page, live_server, user):
    """Give the browser the session of `user` (logging in itself is the workbench tests' business)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
    problems: list[str] = page.page_errors
    page.on("console", lambda message: _console_problem(problems, message))
    page.on("response", lambda response: _response_problem(problems, response))
    return problems


def test_reviewer_decides_and_reopens_in_the_browser(live_server, page, scenario):
    dataset, reviewer, solution = scenario
    problems = _logged_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/review/")
    page.click(f"#review-dataset-{dataset.slug} >> text=Review queue")
    page.click("text=pb-1")
    page.wait_for_selector("#review-step-1 .katex", timeout=15_000)  # math typeset by KaTeX
    assert "$" not in page.inner_text("#review-step-1 .step-body")
    assert page.inner_text("#protocol-reason") == "Protocol: The 3 annotators disagree."
    assert page.locator("#annotations tbody tr").count() == 3
    assert "judge-7b" in page.inner_text("body")
    page.check("#review-step-1 input[type=radio]")
    page.fill("#id_note", "Step 2 keeps the negative root.")
    page.click("#decide-button")
    page.wait_for_selector(".message-success", timeout=15_000)
    assert "final label step 2 (review)" in page.inner_text(".messages")
    assert page.inner_text("#solution-status") == "Final label"
    assert "Step 2" in page.inner_text("#final-label")
    assert "Step 2 keeps the negative root." in page.inner_text("#history")
    page.select_option("#id_target", "needs_review")
    page.fill("#id_reason", "Second opinion wanted.")
    page.click("#reopen-button")
    page.wait_for_selector(".message-success", timeout=15_000)
    assert page.inner_text("#solution-status") == "Needs review"
    assert "Reopened: Second opinion wanted." in page.inner_text("#history")
    assert problems == []
    assert not FinalLabel.objects.filter(solution=solution).exists()


def test_dashboard_renders_its_charts_with_numbers(live_server, page, scenario):
    dataset, reviewer, solution = scenario
    client = Client()
    client.force_login(reviewer)
    client.post(f"/review/{solution.pk}/", {"action": "decide", "label": "1", "note": "ok"})
    problems = _logged_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/datasets/{dataset.slug}/dashboard/")
    charts = page.locator("svg.chart")
    assert charts.count() >= 6
    agreement = page.locator("#agreement svg g.bar")
    assert agreement.count() == 4
    assert page.locator("#agreement svg g.bar").first.get_attribute("data-value") == "0.33"
    assert re.search(r"0\.33", page.locator("#agreement svg").text_content() or "")
    people = page.locator(".position-chart[data-source=people] g.column")
    assert people.count() == 11  # ten position bins and "all correct"
    assert people.nth(5).get_attribute("data-value") == "1"  # step 2 of 3 sits at 0.5
    box = page.locator("#agreement svg").bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 50
    assert page.inner_text("#solutions-total") == "1"
    assert problems == []


def test_the_review_queue_fits_a_laptop_or_tablet_window_without_sideways_scrolling(live_server, page, scenario):
    dataset, reviewer, _ = scenario
    problem = ProblemFactory(dataset=dataset, text="Simplify $\\frac{(x+1)(x-3)(x+5)(x-7)}{5(x+2)(x-4)(x+6)(x-8)}$.")
    wide = SolutionFactory(dataset=dataset, problem=problem, external_id="math-long-id-1", subset="olympiadbench")
    for name in ("annotator_with_a_long_name", "second_annotator_long", "third_annotator_long"):
        AnnotationFactory(solution=wide, annotator=UserFactory(username=name), earliest_error_step=-1)
    assert solution_evaluate(solution_id=wide.pk).status == SolutionStatus.FINAL
    problems = _logged_in(page, live_server, reviewer)
    for width, height in ((800, 600), (1024, 768), (1280, 800)):
        page.set_viewport_size({"width": width, "height": height})
        for status in ("needs_review", "final"):
            page.goto(f"{live_server.url}/datasets/{dataset.slug}/review/?status={status}")
            assert page.locator(".review-queue tbody tr").count() == 1
            too_wide = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            columns = page.evaluate(
                "Array.from(document.querySelectorAll('.review-queue thead th'))"
                ".map(th => th.textContent.trim() + ': ' + Math.round(th.getBoundingClientRect().width))"
            )
            assert too_wide == 0, (width, status, columns)
    assert "annotator_with_a_long_name, second_annotator_long, third_annotator_long" in page.inner_text(".vote-group")
    assert problems == []


def test_a_table_wider_than_its_box_fades_at_the_cut_edge(live_server, page, scenario):
    """Overlay scrollbars show nothing: the annotations table's cut edge fades until scrolled to its end."""
    _, reviewer, solution = scenario
    problems = _logged_in(page, live_server, reviewer)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{live_server.url}/review/{solution.pk}/")
    wide = page.locator(".table-scroll:has(#annotations)")
    if not wide.evaluate("box => box.scrollWidth > box.clientWidth + 1"):
        page.set_viewport_size({"width": 800, "height": 800})  # make sure it is cut somewhere
    page.wait_for_selector(".table-scroll.more-right:has(#annotations)")
    assert wide.get_attribute("title") == "The table goes on: scroll it sideways"
    wide.evaluate("box => { box.scrollLeft = box.scrollWidth; }")
    page.wait_for_selector(".table-scroll.more-left:not(.more-right):has(#annotations)")
    assert problems == []
