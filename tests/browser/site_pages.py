"""One dataset in every state a page can show, and the list of the site's pages with who opens each.

Used by the page-by-page layout and contrast tests: math (inline and display, a long formula), a long
unbroken token, suggestions with per-step score bars, a disagreement waiting for review, a final label,
a settled gold item, an open claim, my own open annotation (its error type, explanation and a note on
another step shown at the marked step), two scored samples of one problem (the evaluation table), and a
dataset with nothing left to annotate.
"""

from dataclasses import dataclass

from django.conf import settings
from django.test import Client

from annotations.models import EXTERNAL_ENGINE, SolutionStatus
from annotations.services.agreement import solution_evaluate
from annotations.services.claims import claim_next
from annotations.services.gold import solution_set_gold
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    MembershipFactory,
    ProblemFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

LONG_FORMULA = (
    "$$\\sum_{k=1}^{n} \\frac{(-1)^{k+1}}{k(k+1)(k+2)} = \\frac{1}{2}\\left(\\frac{1}{1\\cdot 2} - "
    "\\frac{1}{(n+1)(n+2)}\\right) + \\frac{1}{3}\\cdot\\frac{1}{4}\\cdot\\frac{1}{5}\\cdot\\frac{1}{6} = 0.1234567$$"
)
LONG_TOKEN = "x=" + "1234567890" * 8
STEPS = [
    "Let $x$ be the number of apples, so $2x + 3 = 11$.",
    f"Subtract and divide:\n\n{LONG_FORMULA}",
    f"Hence $x = 5$ and the checksum is {LONG_TOKEN}.",
    "So the answer is $\\boxed{5}$.",
]


@dataclass(frozen=True)
class Site:
    dataset_slug: str
    empty_slug: str
    review_id: int
    final_id: int
    claimed_id: int
    gold_id: int
    open_id: int


def _solution(dataset, text, external_id, problem=None, **kwargs):
    problem = problem or ProblemFactory(dataset=dataset, text=text, reference_answer="4")
    return SolutionFactory(
        dataset=dataset, problem=problem, external_id=external_id, steps=STEPS, final_answer="5", **kwargs
    )


def _suggest(solution):
    SuggestionFactory(
        solution=solution, method="judge", label=1, model_name="judge-7b", rationale="Paragraph 1 divides wrongly."
    )
    SuggestionFactory(
        solution=solution, method="mc", label=1, step_scores=[1.0, 0.0, 0.0, 0.0], model_name="gen-1b", rollouts=32
    )
    SuggestionFactory(solution=solution, method="prm", label=1, step_scores=[0.93, 0.21, 0.4, 0.1], model_name="prm")


ERROR_TYPES = {"ann": "calculation", "ben": "wrong_fact", "cat": "unjustified", "mona": "misread"}


def _annotate(solution, labels):
    for username, label in labels:
        AnnotationFactory(
            solution=solution,
            annotator=UserFactory(username=username),
            earliest_error_step=label,
            rationale=f"{username}: the division by $2$ in step {label + 1} is wrong." if label >= 0 else "",
            error_type=ERROR_TYPES[username] if label >= 0 else None,
            step_notes=[{"step": 0, "note": f"Correct but terse: {LONG_TOKEN}"}] if label > 0 else [],
            seconds_spent=41,
        )
    return solution_evaluate(solution_id=solution.pk)


def _sampled(dataset):
    """Two final samples of one problem, scored by prm and an external method: the evaluation table's rows."""
    problem = ProblemFactory(dataset=dataset, text="Solve $2w = 10$.", reference_answer="5")
    samples = ((True, -1, [0.9, 0.8, 0.7, 0.95]), (False, 2, [0.9, 0.6, 0.2, 0.1]))
    for index, (check, label, scores) in enumerate(samples):
        sample = _solution(dataset, "", f"pb-sample-{index}", problem=problem, answer_check=check, status="final")
        FinalLabelFactory(solution=sample, label=label, source="imported")
        SuggestionFactory(solution=sample, method="prm", label=label, step_scores=scores, model_name="prm")
        SuggestionFactory(solution=sample, method="team-orm-qwen2.5-math-7b", config_key="step-12000", label=None,
                          engine=EXTERNAL_ENGINE, step_scores=[None, None, None, scores[-1]])  # fmt: skip


def build_site():
    """Create the dataset "algebra" (manager mona; annotators ann, ben, cat) and an empty one."""
    dataset = DatasetFactory(name="Algebra word problems", slug="algebra", agreement_mode="review")
    mona = UserFactory(username="mona", is_staff=False)
    MembershipFactory(dataset=dataset, user=mona, role="manager")
    for name in ("ann", "ben", "cat"):
        MembershipFactory(dataset=dataset, user=UserFactory(username=name), role="annotator")
    problem_text = f"Mona has $x$ apples and gets $3$ more: $2x + 3 = 11$. Find $x$.\n\n{LONG_FORMULA}"
    review = _solution(dataset, problem_text, "pb-review", final_answer_correct=False)
    _suggest(review)
    assert _annotate(review, [("ann", 1), ("ben", 2), ("cat", 1)]).status == SolutionStatus.NEEDS_REVIEW
    final = _solution(dataset, "Solve $3y = 12$.", "pb-final", final_answer_correct=True)
    assert _annotate(final, [("mona", -1), ("ann", -1), ("ben", -1)]).status == SolutionStatus.FINAL
    opened = _annotate(_solution(dataset, "Solve $y + 1 = 2$.", "pb-open"), [("mona", 2)])
    gold = _solution(dataset, "Solve $z - 1 = 3$.", "pb-gold", imported_label=1)
    solution_set_gold(solution_id=gold.pk, is_gold=True)
    _annotate(gold, [("mona", 1), ("ann", 1), ("ben", 0)])
    claimed = _solution(dataset, "", "pb-claimed", problem=review.problem)
    _suggest(claimed)
    claim = claim_next(dataset=dataset, annotator=mona)
    assert claim is not None and claim.solution_id == claimed.pk
    _sampled(dataset)
    empty = DatasetFactory(name="Geometry (empty)", slug="geometry")
    MembershipFactory(dataset=empty, user=mona, role="annotator")
    return Site("algebra", "geometry", review.pk, final.pk, claimed.pk, gold.pk, opened.pk)


def pages(site):
    """Return (path, username or None for logged out, the page's heading) for every page of the site."""
    algebra = f"/datasets/{site.dataset_slug}"
    return [
        ("/", "mona", "My datasets"),
        (f"/annotate/{site.claimed_id}/", "mona", "Problem"),
        (f"/annotate/{site.final_id}/", "mona", "Problem"),  # read-only: the label is final
        (f"/annotate/{site.open_id}/", "mona", "Problem"),  # editable: my error type, explanation and note
        ("/my-work/", "mona", "My work"),
        ("/review/", "mona", "Review and quality"),
        (f"{algebra}/review/", "mona", "Algebra word problems: review"),
        (f"{algebra}/review/?status=final&sort=spread", "mona", "Algebra word problems: review"),
        (f"/review/{site.review_id}/", "mona", "Solution pb-review"),
        (f"{algebra}/dashboard/", "mona", "Algebra word problems: quality"),
        (f"/datasets/{site.empty_slug}/next/", "mona", "Nothing left to annotate"),
        ("/accounts/password/", "mona", "Change password"),
        ("/accounts/password/done/", "mona", "Password changed"),
        ("/accounts/logout/", "mona", "Log out?"),
        ("/no-such-page/", "mona", "Page not found"),
        ("/boom/", "mona", "Something went wrong"),
        (f"{algebra}/review/", "ann", "Not allowed"),
        ("/accounts/login/", None, "Log in"),
        ("/no-such-page/", None, "Page not found"),
    ]


def log_in(context, live_server_url, username):
    """Give a browser context the session of `username`."""
    from django.contrib.auth import get_user_model

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server_url}])
