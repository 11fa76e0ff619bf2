"""The workbench in headless Chromium: login, claim, mark by mouse and by keyboard, submit, skip, warnings,
stored text that must stay inert, and real ProcessBench LaTeX rendered by KaTeX."""

import datetime
import json
from pathlib import Path

import pytest
from django.utils import timezone

from annotations.models import Annotation, Claim
from tests.annotations.workbench_helpers import member
from tests.factories import DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
RECORDS = Path(__file__).resolve().parent.parent / "fixtures" / "processbench" / "workbench_records.json"
FOUR_STEPS = ["First we note $a_1 = 1$.", "Then $a_2 = 2$.", "So $a_3 = 5$.", "The answer is $\\boxed{5}$."]
XSS_PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "[x](javascript:window.__xss=1)",
    "$\\href{javascript:window.__xss=1}{x}$",
]
TEXT_OUTSIDE_MATH = """(selector) => Array.from(document.querySelectorAll(selector)).map((element) => {
    const copy = element.cloneNode(true);
    copy.querySelectorAll('.katex').forEach((math) => math.remove());
    return copy.textContent;
})"""


@pytest.fixture
def dataset():
    return DatasetFactory(name="Browser set", slug="browser", annotations_per_solution=1, max_annotations=1)


@pytest.fixture
def alice(dataset):
    return member(dataset, "alice")


def wait_for_math(page):
    page.wait_for_function("document.documentElement.getAttribute('data-math') === 'ready'")


def login(page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")


def open_next(page, live_server, solution):
    page.click("button.start")
    page.wait_for_url(f"{live_server.url}/annotate/{solution.pk}/")
    wait_for_math(page)


def classes(page, selector):
    return (page.get_attribute(selector, "class") or "").split()


def test_keyboard_only_annotation_of_three_solutions(page, live_server, dataset, alice):
    first, second, third = (SolutionFactory(dataset=dataset, steps=FOUR_STEPS) for _ in range(3))
    page.goto(f"{live_server.url}/accounts/login/")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/")
    # the start button has the focus (autofocus is applied at a rendering step that may follow "load")
    page.wait_for_function("document.activeElement && document.activeElement.matches('button.start')")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/annotate/{first.pk}/")
    wait_for_math(page)

    page.keyboard.press("?")
    assert page.is_visible("#shortcuts")
    page.keyboard.press("Escape")
    assert not page.is_visible("#shortcuts")

    for key in ("j", "j", "j", "k", "Enter"):  # down to step 3, back up to step 2, mark it
        page.keyboard.press(key)
    assert "is-error" in classes(page, "#step-1")
    assert "not-judged" in classes(page, "#step-2") and "not-judged" in classes(page, "#step-3")
    assert "is-correct" in classes(page, "#step-0")
    page.keyboard.press("r")
    page.keyboard.type("a_2 should be 3")
    page.keyboard.press("Escape")
    page.keyboard.press("s")
    page.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    stored = Annotation.objects.get(solution=first)
    assert (stored.annotator_id, stored.earliest_error_step, stored.rationale) == (alice.pk, 1, "a_2 should be 3")
    assert stored.seconds_spent > 0

    wait_for_math(page)
    page.keyboard.press("0")
    assert "is-correct" in classes(page, "#step-3")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{live_server.url}/annotate/{third.pk}/")
    assert Annotation.objects.get(solution=second).earliest_error_step == -1

    wait_for_math(page)
    page.keyboard.press("3")
    page.keyboard.press("s")
    page.wait_for_selector("text=Nothing left to annotate")
    assert Annotation.objects.get(solution=third).earliest_error_step == 2
    assert not Claim.objects.exists()
    assert page.page_errors == []


def test_mouse_marking_submit_all_correct_and_skip(page, live_server, dataset, alice):
    first, second, third, fourth = (SolutionFactory(dataset=dataset, steps=FOUR_STEPS) for _ in range(4))
    login(page, live_server)
    open_next(page, live_server, first)
    page.click("#step-2 .step-body")
    assert "is-error" in classes(page, "#step-2")
    assert "not-judged" in classes(page, "#step-3")
    assert page.is_checked('#step-2 input[type="radio"]')
    page.click("#step-1 .step-body")  # change of mind: the earlier step
    assert "is-error" in classes(page, "#step-1") and "not-judged" in classes(page, "#step-2")
    page.click("#submit-button")
    page.wait_for_url(f"{live_server.url}/annotate/{second.pk}/")
    assert Annotation.objects.get(solution=first).earliest_error_step == 1

    page.click("#all-correct")
    page.click("#submit-button")
    page.wait_for_url(f"{live_server.url}/annotate/{third.pk}/")
    assert Annotation.objects.get(solution=second).earliest_error_step == -1

    page.click("#skip-button")
    page.wait_for_url(f"{live_server.url}/annotate/{fourth.pk}/")
    assert not Annotation.objects.filter(solution=third).exists()
    assert list(Claim.objects.values_list("solution_id", flat=True)) == [fourth.pk]
    assert "Skipped solution" in page.inner_text(".messages")


def test_all_correct_on_a_known_wrong_answer_asks_first(page, live_server, dataset, alice):
    wrong = SolutionFactory(dataset=dataset, steps=FOUR_STEPS, final_answer_correct=False)
    login(page, live_server)
    open_next(page, live_server, wrong)
    page.keyboard.press("0")
    page.keyboard.press("s")
    assert page.is_visible("#confirm-dialog")
    assert "The final answer is known to be wrong" in page.inner_text("#confirm-dialog")
    page.keyboard.press("Escape")
    assert not page.is_visible("#confirm-dialog")
    page.keyboard.press("s")
    assert page.evaluate("document.activeElement.id") == "confirm-no"  # Enter, the marking key, goes back
    page.keyboard.press("Enter")
    assert not page.is_visible("#confirm-dialog")
    assert not Annotation.objects.exists()
    page.click("#submit-button")
    page.keyboard.press("y")
    page.wait_for_selector("text=Nothing left to annotate")
    assert Annotation.objects.get(solution=wrong).earliest_error_step == -1


def test_stored_payloads_stay_inert(page, live_server, dataset, alice):
    dataset.guidelines = "Guidelines " + " ".join(XSS_PAYLOADS)
    dataset.save()
    problem = ProblemFactory(dataset=dataset, text="Problem: " + " ".join(XSS_PAYLOADS), reference_answer="1")
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=[*XSS_PAYLOADS, "Fine step."])
    login(page, live_server)
    assert page.evaluate("typeof window.__xss") == "undefined"
    open_next(page, live_server, solution)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.inner_text("#step-0 .step-body") == "<script>window.__xss=1</script>"
    assert page.inner_text("#step-1 .step-body") == '<img src=x onerror="window.__xss=1">'
    assert page.evaluate("document.querySelectorAll('#steps img, #problem img, #steps script').length") == 0
    assert page.evaluate("document.querySelectorAll('[href^=\"javascript\" i], [onerror]').length") == 0
    url = page.url
    page.click("#step-2 .step-body a")
    page.click("#step-3 .step-body .math")
    page.click("#problem a")
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.url == url
    assert "href" in page.inner_text("#step-3 .step-body")  # \href shown as inert source, not a link


def test_processbench_latex_is_typeset_and_currency_stays_text(page, live_server, dataset, alice):
    records = json.loads(RECORDS.read_text())
    solutions = {}
    for record in records:
        problem = ProblemFactory(dataset=dataset, text=record["problem"])
        solutions[record["id"]] = SolutionFactory(
            dataset=dataset, problem=problem, steps=record["steps"], external_id=record["id"]
        )
    expires = timezone.now() + datetime.timedelta(minutes=30)
    Claim.objects.bulk_create([Claim(solution=s, annotator=alice, expires_at=expires) for s in solutions.values()])
    login(page, live_server)
    for record_id, solution in solutions.items():
        page.goto(f"{live_server.url}/annotate/{solution.pk}/")
        wait_for_math(page)
        assert page.evaluate("document.querySelectorAll('#steps .katex-error, #problem .katex-error').length") == 0
        assert page.evaluate("document.querySelectorAll('#steps .katex').length") > 0, record_id
        texts = page.evaluate(TEXT_OUTSIDE_MATH, "#steps .step-body")
        assert len(texts) == len(solution.steps)
        leftover = "".join(texts)
        if record_id.startswith("math-"):
            for raw in ("$", "\\(", "\\[", "\\begin{", "\\frac"):
                assert raw not in leftover, (record_id, raw)
        else:
            assert "$3.5 * 4000 = $14,000" in leftover  # currency is not math
            assert "\\boxed" not in leftover
    assert page.page_errors == []


def test_bad_latex_falls_back_to_its_source_text(page, live_server, dataset, alice):
    steps = ["Broken $\\frac{1}{$ here.", "Unknown $\\foo{x}$ command.", "Fine $x^2$."]
    solution = SolutionFactory(dataset=dataset, steps=steps)
    login(page, live_server)
    open_next(page, live_server, solution)
    assert page.inner_text("#step-0 .step-body") == "Broken $\\frac{1}{$ here."
    assert page.get_attribute("#step-0 .math", "data-typeset") == "source"
    assert "\\foo" in page.inner_text("#step-1 .step-body")  # the unknown command stays visible, in colour
    assert page.evaluate("document.querySelectorAll('#step-2 .katex').length") == 1


def test_the_page_heartbeat_renews_the_claim(page, live_server, dataset, alice, settings):
    settings.WORKBENCH_HEARTBEAT_SECONDS = 1
    solution = SolutionFactory(dataset=dataset, steps=FOUR_STEPS)
    login(page, live_server)
    open_next(page, live_server, solution)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() + datetime.timedelta(minutes=2))
    page.wait_for_timeout(2500)
    renewed = Claim.objects.get(annotator=alice).expires_at
    assert renewed > timezone.now() + datetime.timedelta(minutes=dataset.claim_minutes - 1)


def test_screenshot_of_the_annotation_page(page, live_server, dataset, alice, tmp_path):
    records = json.loads(RECORDS.read_text())
    problem = ProblemFactory(dataset=dataset, text=records[1]["problem"], reference_answer="\\frac{1}{2}")
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=records[1]["steps"])
    login(page, live_server)
    open_next(page, live_server, solution)
    page.keyboard.press("2")
    path = tmp_path / "annotation-page.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000
