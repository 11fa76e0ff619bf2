"""Every page of the site, page by page, on a phone (390x844) and a wide screen (1440x900), in light and
dark mode: no horizontal scroll (the document is never wider than the viewport) and every visible text at
4.5:1 contrast or more against the background rendered behind it (WCAG AA).

The admin (Django's own pages) and the API docs (Swagger UI) are left out.
"""

import pytest

from tests.browser.pagecheck import contrast_failures, overflow
from tests.browser.site_pages import build_site, log_in, pages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls("tests.browser.boom_urls")]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "wide": {"width": 1440, "height": 900}}


def _visit_all(browser, live_server, viewport, scheme):
    site = build_site()
    contexts = {}
    problems = []
    try:
        for path, username, heading in pages(site):
            if username not in contexts:
                context = browser.new_context(viewport=VIEWPORTS[viewport], color_scheme=scheme)
                if username:
                    log_in(context, live_server.url, username)
                contexts[username] = context.new_page()
            page = contexts[username]
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("load")
            page.evaluate("document.fonts.ready")
            shown = page.locator("h1, h2").first.inner_text(timeout=2000)
            if heading not in shown:
                problems.append(f"{path} ({username}): expected the page {heading!r}, got {shown!r}")
            found = overflow(page)
            if found.overflows:
                wide = f"{found.scroll_width}px wide in {found.width}px"
                problems.append(f"{path} ({username}): {wide}: {found.culprits}")
            for failure in contrast_failures(page):
                problems.append(f"{path} ({username}): contrast {failure}")
    finally:
        for page in contexts.values():
            page.context.close()
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", ["phone", "wide"])
def test_every_page_fits_and_is_legible(browser, live_server, viewport, scheme):
    problems = _visit_all(browser, live_server, viewport, scheme)
    assert problems == [], "\n".join(problems)


def test_the_checks_catch_a_wide_element_and_faint_text(page):
    page.set_viewport_size({"width": 390, "height": 844})
    page.set_content(
        '<body style="margin:0;background:#fff">'
        '<p id="faint" style="color:#aaa">faint grey on white</p>'
        '<p style="color:#fff;background:#2f5bd3">white on blue</p>'
        '<div style="opacity:0.3"><span id="faded" style="color:#000">black, faded</span></div>'
        '<pre id="wide" style="width:600px">wide</pre></body>'
    )
    found = overflow(page)
    assert (found.overflows, found.scroll_width, found.width) == (True, 600, 390)
    assert "pre#wide right=600" in found.culprits
    failures = {failure["element"]: failure for failure in contrast_failures(page)}
    assert sorted(failures) == ["p#faint", "span#faded"]
    assert failures["p#faint"]["ratio"] == 2.32
    assert (failures["p#faint"]["colour"], failures["p#faint"]["background"]) == ("#aaaaaa", "#ffffff")
