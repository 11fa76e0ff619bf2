"""A reviewer sees each annotator's error type and explanation beside their label and settles with a
critique by keyboard alone (Chromium, a phone and a wide screen): "e" picks an annotator's explanation of
the chosen step, "w" writes one, "t" then a key sets the error type, "s" sets the final label."""

import pytest

from annotations.models import FinalLabel
from annotations.services.agreement import solution_evaluate
from tests.browser.site_pages import log_in
from tests.factories import AnnotationFactory, DatasetFactory, MembershipFactory, SolutionFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"phone": {"width": 390, "height": 844}, "wide": {"width": 1440, "height": 900}}
STEPS = [
    "Janet's ducks lay $16$ eggs per day.",
    "She eats $3$ and bakes with $4$, so $16 - 3 - 4 = 10$ are left.",
    "She sells them at $\\$2$ each: $10 \\times 2 = 18$.",
    "So she makes $\\boxed{18}$ dollars.",
]
OPINIONS = (
    ("ann", 1, "16 - 3 - 4 is 9, not 10.", "calculation"),
    ("ben", 1, "", "logic"),
    ("dan", 1, "Nine eggs are left.", "calculation"),
    ("cat", 2, "10 times 2 is 20.", "calculation"),
)


def _disputed(dataset, users):
    solution = SolutionFactory(dataset=dataset, steps=STEPS)
    made = {}
    for name, label, explanation, error_type in OPINIONS:
        made[name] = AnnotationFactory(
            solution=solution,
            annotator=users[name],
            earliest_error_step=label,
            rationale=explanation,
            error_type=error_type,
        )
    return solution_evaluate(solution_id=solution.pk), made


def _press(page, *keys, navigates=False):
    for key in keys[:-1]:
        page.keyboard.press(key)
    if navigates:
        with page.expect_navigation():
            page.keyboard.press(keys[-1])
        page.wait_for_load_state("load")
    else:
        page.keyboard.press(keys[-1])


def _said(page):
    return page.inner_text("#review-keys")


@pytest.mark.parametrize("viewport", ["phone", "wide"])
def test_a_reviewer_sees_types_and_explanations_and_settles_with_one_by_keyboard(browser, live_server, viewport):
    dataset = DatasetFactory(name="Eggs", slug="eggs", agreement_mode="review")
    MembershipFactory(dataset=dataset, user=UserFactory(username="rita"), role="reviewer")
    users = {name: UserFactory(username=name) for name, *_ in OPINIONS}
    (first, made), (second, _) = _disputed(dataset, users), _disputed(dataset, users)
    context = browser.new_context(viewport=VIEWPORTS[viewport])
    log_in(context, live_server.url, "rita")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/review/{first.pk}/")
    page.wait_for_load_state("load")

    opinions = page.locator("#review-step-1 .opinion")
    assert [" ".join(text.split()) for text in opinions.all_inner_texts()] == [
        "ann Calculation 16 - 3 - 4 is 9, not 10. use this explanation",
        "ben Logic no explanation",
        "dan Calculation Nine eggs are left. use this explanation",
    ]
    assert " ".join(page.inner_text("#review-step-2 .opinion").split()) == (
        "cat Calculation 10 times 2 is 20. use this explanation"
    )

    _press(page, "0", "t")
    assert _said(page) == "All correct takes no error type."
    _press(page, "3", "e")
    assert page.inner_text("#picked-explanation") == "Picked: cat's (step 3)"
    _press(page, "2")  # cat's explanation is of step 3: it cannot go with step 2
    assert page.inner_text("#picked-explanation") == "" and page.is_checked("#id_explanation_agreed")
    assert page.inner_text("#agreed-explanation") == "As agreed: ann's"
    _press(page, "e")
    assert _said(page) == "Picked: ann's (step 2)"
    _press(page, "e")
    assert _said(page) == "Picked: dan's (step 2)"
    _press(page, "e")
    assert _said(page) == "As agreed: ann's" and page.is_checked("#id_explanation_agreed")
    _press(page, "e", "e", "t", "f")
    assert _said(page) == "Error type: Wrong fact or formula"
    assert page.is_checked(f"#id_pick_{made['dan'].pk}") and page.is_checked("#id_review_type_wrong_fact")
    _press(page, "s", navigates=True)

    assert page.url == f"{live_server.url}/review/{second.pk}/"
    final = FinalLabel.objects.get(solution=first)
    assert (final.label, final.explanation, final.error_type, final.explanation_source) == (
        1,
        "Nine eggs are left.",
        "wrong_fact",
        "human",
    )
    assert final.explanation_annotation_id == made["dan"].pk

    assert page.is_hidden("#id_explanation")
    _press(page, "3", "w")
    assert _said(page) == "Explanation: your own (Esc leaves the box)"
    assert page.evaluate("document.activeElement.id") == "id_explanation"
    page.keyboard.type("Ten eggs at $2 make 20 dollars, not 18.")
    _press(page, "Escape", "t", "Backspace")
    assert _said(page) == "Error type: the explanation's"
    _press(page, "t", "m", "s", navigates=True)
    final = FinalLabel.objects.get(solution=second)
    assert (final.label, final.explanation, final.error_type, final.explanation_source) == (
        2,
        "Ten eggs at $2 make 20 dollars, not 18.",
        "misread",
        "reviewer",
    )
    page.goto(f"{live_server.url}/review/{second.pk}/")
    assert " ".join(page.inner_text("#final-critique").split()) == (
        "Misread the problem explanation written by rita (reviewer) Ten eggs at $2 make 20 dollars, not 18."
    )
    assert errors == []
    context.close()
