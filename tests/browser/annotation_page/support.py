"""Helpers for the annotation-page browser tests: both viewports, a logged-in tab, real records, contrast."""

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from annotations.models import Problem
from tests.factories import ProblemFactory, SolutionFactory

VIEWPORTS = {"desktop": {"width": 1440, "height": 900}, "phone": {"width": 390, "height": 844}}
DAY_RECORDS = Path(__file__).resolve().parents[2] / "fixtures" / "processbench" / "workbench_day_records.json"

# WCAG 2.x contrast ratio of an element's text against the first opaque background behind it (colours as
# the browser computed them); also the product of the opacities of the element and its ancestors.
CONTRAST_JS = """(selector) => {
  const parse = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const channel = (value) => {
      const c = value / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    };
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const element = document.querySelector(selector);
  let node = element, background = null, opacity = 1;
  while (node && node.nodeType === 1) {
    const style = getComputedStyle(node);
    opacity *= Number(style.opacity);
    const colour = parse(style.backgroundColor);
    if (!background && colour.length >= 3 && (colour.length === 3 || colour[3] === 1)) {
      background = colour.slice(0, 3);
    }
    node = node.parentElement;
  }
  background = background || [255, 255, 255];
  const ink = parse(getComputedStyle(element).color).slice(0, 3);
  const [light, dark] = [luminance(ink), luminance(background)].sort((a, b) => b - a);
  return { ratio: (light + 0.05) / (dark + 0.05), opacity, ink, background };
}"""


def viewports():
    """Parametrize a test over the desktop (1440x900) and phone (390x844) viewports."""
    return pytest.mark.parametrize("viewport", list(VIEWPORTS), indirect=True)


def open_tab(browser, viewport_name):
    """Return a new tab (in its own context) of the given viewport, collecting page errors."""
    context = browser.new_context(viewport=VIEWPORTS[viewport_name])
    context.set_default_timeout(15_000)
    return watch_errors(context.new_page())


def watch_errors(tab):
    """Return the tab, collecting its page errors (uncaught exceptions) in `tab.page_errors`."""
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.page_errors = errors
    return tab


def log_in(tab, live_server, user):
    """Put a session of `user` into the tab's context (no login form round trip)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    tab.context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])


def day_records() -> list[dict]:
    """Return the 20 real ProcessBench records of workbench_day_records.json (see its SOURCE.md)."""
    return json.loads(DAY_RECORDS.read_text(encoding="utf-8"))


def solution_from_record(dataset, record: dict, **fields):
    """Create a solution (and its problem) of the dataset from a ProcessBench record; return the solution."""
    problem = Problem.objects.filter(dataset=dataset, text=record["problem"]).first() or ProblemFactory(
        dataset=dataset, text=record["problem"]
    )
    return SolutionFactory(
        dataset=dataset,
        problem=problem,
        steps=record["steps"],
        external_id=record["id"],
        final_answer_correct=record["final_answer_correct"],
        **fields,
    )


def wait_for_page(tab):
    """Wait until the math is typeset (the annotation page's scripts have run)."""
    tab.wait_for_selector("html[data-math='ready']", state="attached")


def classes(tab, selector) -> list[str]:
    return (tab.get_attribute(selector, "class") or "").split()


def in_viewport(tab, selector) -> bool:
    """Return whether the element's box lies entirely inside the visible viewport."""
    return tab.evaluate(
        """(selector) => { const box = document.querySelector(selector).getBoundingClientRect();
        return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth; }""",
        selector,
    )


def horizontal_overflow(tab) -> int:
    """Return how many pixels the page is wider than the viewport (0: no horizontal scroll)."""
    return tab.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
