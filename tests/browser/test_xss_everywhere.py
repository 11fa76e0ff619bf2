"""XSS suite: hostile stored text in every field, opened on every page that shows it, stays inert.

Payloads go into dataset names and guidelines, problems, steps, reference answers and solutions,
generators, final answers, annotation rationales, error-type titles, notes on steps, suggestion rationales
and model names. Each page is
opened by a user allowed to see it; the page must not run the payloads (`window.__xss` stays undefined,
no dialog opens) and must not contain live `javascript:` links or inline event handlers from the data.
"""

import pytest

from tests.annotations.workbench_helpers import member
from tests.factories import AnnotationFactory, DatasetFactory, ProblemFactory, SolutionFactory, SuggestionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-battery"
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "[click me](javascript:window.__xss=1)",
    "$\\href{javascript:window.__xss=1}{math link}$",
    '"><svg onload="window.__xss=1">',
    '<a href="javascript:window.__xss=1">html link</a>',
    '<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>',
]
HOSTILE = " ".join(PAYLOADS)
INERT = """() => ({
    xss: typeof window.__xss,
    jsLinks: Array.from(document.querySelectorAll('a[href]'))
        .filter(a => /^\\s*javascript:/i.test(a.getAttribute('href'))).length,
    handlers: Array.from(document.querySelectorAll('*'))
        .filter(e => Array.from(e.attributes).some(a => /^on/i.test(a.name))).length,
    frames: document.querySelectorAll('iframe').length,
})"""


@pytest.fixture
def hostile_world():
    dataset = DatasetFactory(
        name=f"Set {PAYLOADS[0]}",
        slug="hostile",
        description=HOSTILE,
        guidelines=HOSTILE,
        annotations_per_solution=1,
        max_annotations=1,
        error_types=[{"slug": "evil", "title": PAYLOADS[1], "key": "e"}],
    )
    problem = ProblemFactory(
        dataset=dataset, text=f"Problem {HOSTILE}", reference_answer=HOSTILE, reference_solution=HOSTILE
    )
    queued = SolutionFactory(
        dataset=dataset,
        problem=problem,
        generator=HOSTILE[:200],
        final_answer=HOSTILE,
        steps=[f"Step {payload}" for payload in PAYLOADS],
    )
    reviewed = SolutionFactory(
        dataset=dataset, problem=problem, generator=HOSTILE[:200], steps=[f"Other {payload}" for payload in PAYLOADS]
    )
    alice = member(dataset, "alice")
    rita = member(dataset, "rita", role="reviewer")
    AnnotationFactory(
        solution=reviewed,
        annotator=alice,
        earliest_error_step=1,
        rationale=HOSTILE,
        error_type="evil",
        step_notes=[{"step": 0, "note": HOSTILE}],
    )
    AnnotationFactory(solution=reviewed, annotator=rita, earliest_error_step=2, rationale=HOSTILE)
    for solution in (queued, reviewed):
        SuggestionFactory(solution=solution, method="judge", label=1, rationale=HOSTILE, model_name=HOSTILE[:250])
        SuggestionFactory(
            solution=solution, method="mc", label=0, step_scores=[0.0] * len(PAYLOADS), model_name="mc-model"
        )
    root = member(dataset, "root", role="manager")
    root.is_staff = root.is_superuser = True
    root.save()
    return {"dataset": dataset, "queued": queued, "reviewed": reviewed}


def _login(page, base, username, admin=False):
    page.goto(f"{base}/admin/login/" if admin else f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state()


def _assert_inert(page, url, dialogs, shows_text=True):
    page.goto(url)
    page.wait_for_load_state("networkidle")
    if page.evaluate("document.documentElement.hasAttribute('data-math')"):
        page.wait_for_function("document.documentElement.getAttribute('data-math') === 'ready'")
    found = page.evaluate(INERT)
    assert found == {"xss": "undefined", "jsLinks": 0, "handlers": 0, "frames": 0}, url
    assert dialogs == [], url
    if shows_text:
        assert "window.__xss" in page.content(), f"{url} should show the hostile text as text"


def test_hostile_text_is_inert_on_every_page(page, live_server, hostile_world):
    base = live_server.url
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    queued, reviewed = hostile_world["queued"], hostile_world["reviewed"]

    _login(page, base, "alice")
    _assert_inert(page, f"{base}/", dialogs)
    page.goto(f"{base}/datasets/hostile/next/")
    assert page.url == f"{base}/annotate/{queued.pk}/"
    _assert_inert(page, f"{base}/annotate/{queued.pk}/", dialogs)
    _assert_inert(page, f"{base}/annotate/{reviewed.pk}/", dialogs)  # her own annotation, editable
    _assert_inert(page, f"{base}/my-work/", dialogs)

    page.context.clear_cookies()
    _login(page, base, "rita")
    _assert_inert(page, f"{base}/review/{reviewed.pk}/", dialogs)
    _assert_inert(page, f"{base}/datasets/hostile/review/", dialogs)
    _assert_inert(page, f"{base}/datasets/hostile/dashboard/", dialogs)

    page.context.clear_cookies()
    _login(page, base, "root", admin=True)
    for path, shows_text in (
        (f"/admin/annotations/solution/{reviewed.pk}/change/", True),
        ("/admin/annotations/solution/", True),
        ("/admin/annotations/annotation/", False),  # lists no free text
        ("/admin/annotations/suggestion/", True),
        (f"/admin/annotations/dataset/{hostile_world['dataset'].pk}/change/", True),
        (f"/admin/annotations/problem/{queued.problem_id}/change/", True),
    ):
        _assert_inert(page, f"{base}{path}", dialogs, shows_text)
