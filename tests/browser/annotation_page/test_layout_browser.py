"""The annotation page's layout in Chromium at 1440x900 and 390x844: the action bar never leaves the screen,
"Saved" moves nothing, steps after the marked error keep AA contrast, real MATH diagrams and lists."""

import shutil

import pytest

from annotations.models import ProblemFigure
from tests.annotations.workbench_helpers import member
from tests.browser.annotation_page.support import (
    CONTRAST_JS,
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

FOUR_STEPS = ["First we note $a_1 = 1$.", "Then $a_2 = 2$.", "So $a_3 = 5$.", "The answer is $\\boxed{5}$."]
HAS_ASYMPTOTE = shutil.which("asy") is not None and shutil.which("dvisvgm") is not None


def records():
    return {record["id"]: record for record in day_records()}


@viewports()
def test_the_action_bar_stays_on_screen_whatever_banners_show(tab, live_server, viewport, settings):
    settings.WORKBENCH_HEARTBEAT_SECONDS = 1
    dataset = DatasetFactory(slug="bar", annotations_per_solution=1)
    long = solution_from_record(dataset, records()["math-180"])  # 16 steps
    alice = member(dataset, "alice")
    log_in(tab, live_server, alice)
    tab.goto(f"{live_server.url}/annotate/{long.pk}/")  # not mine: a warning banner, then the next one (this)
    tab.wait_for_url(f"{live_server.url}/annotate/{long.pk}/")
    wait_for_page(tab)
    tab.keyboard.press("7")
    alice.claims.all().delete()  # the heartbeat's banner appears too
    tab.wait_for_selector("#claim-banner:not([hidden])")
    for position in ("0", "document.body.scrollHeight / 2", "document.body.scrollHeight"):
        tab.evaluate(f"window.scrollTo(0, {position})")
        for selector in ("#submit-button", "#skip-button", "#current-choice"):
            assert in_viewport(tab, selector), (position, selector)
    assert tab.inner_text("#current-choice") == "Marked: step 7 is the earliest error"
    assert horizontal_overflow(tab) == 0
    assert tab.page_errors == []


@viewports()
def test_a_saved_message_moves_nothing(tab, live_server, viewport):
    dataset = DatasetFactory(slug="jump", annotations_per_solution=1)
    SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    second = SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/jump/next/")
    wait_for_page(tab)
    tab.keyboard.press("0")
    tab.keyboard.press("s")
    tab.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    wait_for_page(tab)
    assert tab.inner_text(".messages") == "Saved: all steps correct."
    with_message = tab.evaluate("document.getElementById('workbench').getBoundingClientRect().top")
    assert tab.evaluate("getComputedStyle(document.querySelector('.messages')).position") == "fixed"
    links = tab.evaluate("document.querySelector('.topbar').getBoundingClientRect().bottom")
    assert tab.evaluate("document.querySelector('.messages').getBoundingClientRect().top") >= links  # none hidden
    tab.reload()
    wait_for_page(tab)
    assert tab.evaluate("document.querySelector('.messages')") is None
    assert tab.evaluate("document.getElementById('workbench').getBoundingClientRect().top") == with_message


@viewports()
def test_steps_after_the_marked_error_keep_aa_contrast(tab, live_server, viewport):
    dataset = DatasetFactory(slug="contrast", annotations_per_solution=1)
    SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/contrast/next/")
    wait_for_page(tab)
    tab.keyboard.press("2")
    assert "not-judged" in (tab.get_attribute("#step-3", "class") or "")
    # Steps fade in 0.1 s (opacity, background): measure once no transition runs (a loaded machine lags).
    tab.wait_for_function("() => document.getAnimations().length === 0")
    for selector in ("#step-2 .step-body", "#step-3 .step-body", "#step-3 .step-pick", "#step-1 .step-body"):
        measured = tab.evaluate(CONTRAST_JS, selector)
        assert measured["opacity"] == 1, selector
        assert measured["ratio"] >= 4.5, (selector, measured)
    judged = tab.evaluate("getComputedStyle(document.getElementById('step-0')).backgroundColor")
    later = tab.evaluate(
        "(({borderTopStyle, backgroundColor}) => [borderTopStyle, backgroundColor])"
        "(getComputedStyle(document.getElementById('step-3')))"
    )
    assert later[0] == "dashed" and later[1] != judged  # de-emphasised another way: a dashed, grey box
    state = "getComputedStyle(document.querySelector('#step-3 .step-state'), '::after').content"
    assert tab.evaluate(state) == '"not judged"'


@viewports()
@pytest.mark.parametrize("asymptote", ["installed", "missing"])
def test_a_math_diagram_is_a_figure_or_its_collapsed_source_never_math(
    tab, live_server, viewport, asymptote, settings, tmp_path
):
    if asymptote == "installed" and not HAS_ASYMPTOTE:
        pytest.skip("needs Debian's asymptote and dvisvgm")
    if asymptote == "missing":
        settings.ASYMPTOTE_BINARY = "/nonexistent/asy"
    dataset = DatasetFactory(slug="asy", annotations_per_solution=1)
    solution = solution_from_record(dataset, records()["math-53"])
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/asy/next/")
    tab.wait_for_url(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_page(tab)
    source = "#problem details.asy-source"
    assert tab.inner_text(f"{source} summary") == "Asymptote diagram source"
    assert not tab.evaluate(f"document.querySelector('{source}').open")
    assert tab.evaluate(f"document.querySelectorAll('{source} .katex, {source} .math').length") == 0
    assert tab.evaluate("document.querySelectorAll('#problem .katex').length") == 5  # the problem's own math
    figure = ProblemFigure.objects.get(problem=solution.problem)
    if asymptote == "installed":
        assert figure.status == "rendered"
        image = "document.querySelector('#problem figure.asy-figure img')"
        assert tab.evaluate(f"{image}.complete && {image}.naturalWidth") > 0  # the SVG decoded
        assert tab.evaluate(f"{image}.getBoundingClientRect().width") >= 250  # shown large enough to read
        tab.locator("#problem figure.asy-figure").screenshot(path=str(tmp_path / "figure.png"))
        assert (tmp_path / "figure.png").stat().st_size > 2_000
    else:
        assert (figure.status, figure.error) == ("failed", "Asymptote is not installed at '/nonexistent/asy'.")
        assert tab.evaluate("document.querySelectorAll('#problem figure').length") == 0
    tab.click(f"{source} summary")
    assert 'label("A",(0,0),W);' in tab.inner_text(f"{source} pre")
    # "Given:" directly followed by "- " lines is a list (real record, step 1)
    assert tab.evaluate("document.querySelectorAll('#step-0 .step-body ul > li').length") == 4
    assert tab.evaluate("document.querySelectorAll('#step-0 .step-body li .katex').length") == 4
    assert horizontal_overflow(tab) == 0
    assert tab.page_errors == []


WIDE_DISPLAY = " + ".join(f"x_{{{index}}}^{{{index}}}" for index in range(60))


@viewports()
def test_a_display_formula_wider_than_its_step_fades_where_it_is_cut(tab, live_server, viewport):
    dataset = DatasetFactory(slug="wide", annotations_per_solution=1)
    SolutionFactory(dataset=dataset, steps=["Short: $$a = 1$$", f"Long: $${WIDE_DISPLAY} = 0$$", "Done."])
    log_in(tab, live_server, member(dataset, "alice"))
    tab.goto(f"{live_server.url}/datasets/wide/next/")
    wait_for_page(tab)
    wide, narrow = "#step-1 .katex-display", "#step-0 .katex-display"
    tab.wait_for_selector(f"{wide}.more-right")
    assert classes(tab, narrow) == ["katex-display"]  # fits: no fade, no hint
    assert tab.get_attribute(narrow, "title") is None
    mask = "(selector) => getComputedStyle(document.querySelector(selector)).maskImage"
    assert "linear-gradient" in tab.evaluate(mask, wide) and tab.evaluate(mask, narrow) == "none"
    assert tab.get_attribute(wide, "title") == "The formula goes on: scroll it sideways"
    assert "more-left" not in classes(tab, wide)
    scroll_to_end = "(selector) => { const box = document.querySelector(selector); box.scrollLeft = box.scrollWidth; }"
    tab.evaluate(scroll_to_end, wide)
    tab.wait_for_selector(f"{wide}.more-left:not(.more-right)")  # scrolled to its end: only the start is cut
    assert horizontal_overflow(tab) == 0
    assert tab.page_errors == []
