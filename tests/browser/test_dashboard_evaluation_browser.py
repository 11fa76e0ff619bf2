"""The dashboard's evaluation table in headless Chromium: the figures as a manager reads them, the aggregation
switched by link, the BoN@N chart drawn, and the block legible and within the screen on a phone in dark mode."""

import pytest

from annotations.services.external_scores import external_scores_ingest_json
from tests.browser.pagecheck import contrast_failures, overflow
from tests.browser.site_pages import log_in
from tests.evaluation_fixture import store
from tests.factories import DatasetFactory, MembershipFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _dataset():
    dataset = DatasetFactory(slug="samples", name="Samples")
    store(dataset)
    MembershipFactory(dataset=dataset, user=UserFactory(username="mona"), role="manager")
    external_scores_ingest_json(
        dataset=dataset,
        payload=[
            {"external_id": "gsm8k-c", "method": "team-orm-qwen2.5-math-7b", "config_key": "step-12000",
             "step_scores": [None, None, 0.9]},
            {"external_id": "gsm8k-g", "method": "team-orm-qwen2.5-math-7b", "config_key": "step-12000",
             "step_scores": [None, None, 0.4]},
        ],
    )  # fmt: skip
    return dataset


def _cells(page, method, subset):
    row = page.locator(f'#evaluation tr[data-method="{method}"][data-subset="{subset}"]')
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def test_a_manager_reads_the_evaluation_table_and_switches_the_aggregation(browser, live_server):
    _dataset()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    log_in(context, live_server.url, "mona")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(f"{live_server.url}/datasets/samples/dashboard/")
        heading = page.locator("#evaluation h2").inner_text()
        assert heading == "Methods on sampled solutions: Best-of-N beside ProcessBench"
        assert _cells(page, "prm", "gsm8k") == [
            "prm", "prm-model", "gsm8k", "2", "3 to 4", "0.500", "0.500", "1.000", "0.000 (0 of 2)",
            "0.286 (2 of 7)", "0.889", "1.000",
        ]  # fmt: skip
        orm = _cells(page, "team-orm-qwen2.5-math-7b", "all groups")
        assert orm[0] == "team-orm-qwen2.5-math-7b step-12000 external"
        assert orm[5:] == ["0.500", "0.500", "0.750", "0.000 (0 of 4)", "\N{EN DASH} (0 of 0)", "0.000", "0.182"]
        chart = page.locator("#bon-curve svg")
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 200
        assert chart.locator("g.series").count() == 4  # judge, prm, the external one, pass@N
        assert chart.locator('g.series[data-label="prm"] circle').count() == 3

        page.click("#evaluation >> text=last")
        page.wait_for_url(f"{live_server.url}/datasets/samples/dashboard/?aggregate=last#evaluation")
        assert page.locator("#evaluation strong[aria-current]").inner_text() == "last"
        assert _cells(page, "prm", "gsm8k")[8] == "0.500 (1 of 2)"  # b: right answer, step 2 wrong
        assert errors == []
    finally:
        context.close()


def test_the_evaluation_block_fits_a_phone_and_is_legible_in_dark_mode(browser, live_server):
    _dataset()
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    log_in(context, live_server.url, "mona")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/datasets/samples/dashboard/#evaluation")
        page.evaluate("document.fonts.ready")
        found = overflow(page)
        assert not found.overflows, found.culprits
        assert contrast_failures(page) == []
        # on a phone each table row is a card whose cells carry their column's name
        label = page.locator('#evaluation tr[data-method="prm"][data-subset="gsm8k"] td.flawed')
        assert label.evaluate("cell => getComputedStyle(cell, '::before').content") == '"Flawed picks: "'
        legend = page.locator("#bon-curve svg g.legend text").first
        ink = page.evaluate("getComputedStyle(document.body).color")
        assert legend.evaluate("text => getComputedStyle(text).fill") == ink  # chart text in the page's ink
    finally:
        context.close()
