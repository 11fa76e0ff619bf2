"""My work in headless Chromium: one line per annotation on a wide screen, one card per annotation on a phone,
the filters, and gold items that look like any other until settled."""

import pytest

from annotations.services.agreement import solution_evaluate
from annotations.services.gold import solution_set_gold
from tests.browser.pagecheck import overflow
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

# Each row's height in lines of text: a row whose cells all stay on one line is about one line high.
ROW_HEIGHTS_IN_LINES = """() => Array.from(document.querySelectorAll("#my-work tbody tr")).map((row) => {
  const cell = row.querySelector("td");
  const style = getComputedStyle(cell);
  const inner = row.getBoundingClientRect().height - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
  return Math.round(inner / parseFloat(style.lineHeight) * 10) / 10;
})"""


@pytest.fixture
def work():
    dataset = DatasetFactory(
        name="Number theory, olympiad problems (second round)", slug="numbers", annotations_per_solution=2
    )
    alice, bob = UserFactory(username="alice"), UserFactory(username="bob")
    for user in (alice, bob):
        MembershipFactory(dataset=dataset, user=user)
    long_text = "Let $n$ be the least positive integer such that " + "the digits of $n^2$ repeat " * 12 + "."
    ordinary = SolutionFactory(dataset=dataset, problem=ProblemFactory(dataset=dataset, text=long_text))
    AnnotationFactory(
        solution=ordinary,
        annotator=alice,
        earliest_error_step=1,
        rationale="why " * 60,
        flag_reference_wrong=True,
    )
    solution_evaluate(solution_id=ordinary.pk)
    golds = []
    for label, text in ((2, "Find the unit digit of $7^{7}$."), (0, "Is $91$ prime?")):
        gold = SolutionFactory(
            dataset=dataset, imported_label=label, problem=ProblemFactory(dataset=dataset, text=text)
        )
        solution_set_gold(solution_id=gold.pk, is_gold=True)
        AnnotationFactory(solution=gold, annotator=alice, earliest_error_step=2)
        golds.append(solution_evaluate(solution_id=gold.pk))
    AnnotationFactory(solution=golds[0], annotator=bob, earliest_error_step=2)
    solution_evaluate(solution_id=golds[0].pk)
    return ordinary, golds[0], golds[1]


def _open(browser, live_server, width, height):
    context = browser.new_context(viewport={"width": width, "height": height})
    log_in(context, live_server.url, "alice")
    page = context.new_page()
    page.goto(f"{live_server.url}/my-work/")
    return page


def test_on_a_wide_screen_each_annotation_is_one_line(browser, live_server, work):
    ordinary, settled_gold, open_gold = work
    page = _open(browser, live_server, 1440, 900)
    heights = page.evaluate(ROW_HEIGHTS_IN_LINES)
    assert len(heights) == 3 and max(heights) < 1.5, heights
    assert page.locator(f'tr[data-solution="{ordinary.pk}"] td.preview').first.evaluate(
        "cell => cell.scrollWidth > cell.clientWidth"
    )  # the long problem is cut with an ellipsis, not wrapped
    assert page.inner_text(f'tr[data-solution="{settled_gold.pk}"] td.status') == "final gold: matched"
    assert page.inner_text(f'tr[data-solution="{open_gold.pk}"] td.status') == "open"
    assert page.inner_text(f'tr[data-solution="{open_gold.pk}"] td:last-child') == "Change"
    assert page.inner_text("#gold-feedback") == (
        "Gold items settled: 1, your label matched the gold label on 1 (100%)."
    )
    page.select_option("#id_status", "open")
    page.select_option("#id_label", "wrong_step")
    page.fill("#id_step", "2")
    with page.expect_navigation():
        page.click("#my-work-filters button[type=submit]")
    rows = page.locator("#my-work tbody tr")
    assert rows.count() == 1 and rows.first.get_attribute("data-solution") == str(ordinary.pk)
    assert page.inner_text("#my-work-count").startswith("1 annotation.")
    page.context.close()


def test_on_a_phone_each_annotation_is_a_card_and_nothing_scrolls_sideways(browser, live_server, work):
    ordinary, settled_gold, open_gold = work
    page = _open(browser, live_server, 390, 844)
    assert not overflow(page).overflows
    assert page.locator("#my-work thead").evaluate("head => getComputedStyle(head).display") == "none"
    card = page.locator(f'tr[data-solution="{ordinary.pk}"]')
    assert card.locator("td").first.evaluate("cell => getComputedStyle(cell, '::before').content") == '"When: "'
    box = card.bounding_box()
    assert box is not None and box["width"] <= 390
    assert page.inner_text(f'tr[data-solution="{open_gold.pk}"] td.status') == "open"
    assert page.inner_text(f'tr[data-solution="{settled_gold.pk}"] td.status') == "final gold: matched"
    page.context.close()


@pytest.mark.parametrize(("width", "cards"), [(800, True), (1024, True), (1100, False), (1280, False)])
def test_between_phone_and_wide_nothing_scrolls_sideways(browser, live_server, work, width, cards):
    """Below 68rem (too narrow for nine columns) each annotation is a card; above, one line per annotation
    with a long dataset name cut like the previews."""
    page = _open(browser, live_server, width, 700)
    found = overflow(page)
    assert not found.overflows, (found.scroll_width, found.width, found.culprits)
    head = page.locator("#my-work thead").evaluate("head => getComputedStyle(head).display")
    assert (head == "none") is cards
    if not cards:
        assert max(page.evaluate(ROW_HEIGHTS_IN_LINES)) < 1.5
    page.context.close()
