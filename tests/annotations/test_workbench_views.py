"""The workbench in the browser (Django test client): accounts, home, next, the annotation page, my work."""

import datetime
import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from annotations import suggestion_methods
from annotations.models import Annotation, Claim, SolutionStatus
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.claims import claim_next
from tests.annotations.workbench_helpers import member
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

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def dataset():
    return DatasetFactory(
        name="Algebra", slug="algebra", guidelines="Mark the **earliest** wrong step. <script>window.__x=1</script>"
    )


@pytest.fixture
def alice(dataset):
    return member(dataset, "alice")


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def claim_for(dataset, user):
    return claim_next(dataset=dataset, annotator=user)


# ---- accounts ----


def test_login_with_the_right_password_goes_home(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302
    assert response.url == "/"
    assert client.get("/").status_code == 200


def test_pages_need_a_login(client):
    response = client.get(reverse("annotations:home"))
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_five_failures_lock_the_username_even_with_the_right_password(client, alice):
    for _ in range(5):
        response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
        assert "Please enter a correct username and password" in response.content.decode()
    response = client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed login attempts for this username. Try again in 15 minutes." in response.content.decode()
    assert "_auth_user_id" not in client.session
    admin = client.post(reverse("admin:login"), {"username": "alice", "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert admin.status_code == 200


def test_the_lock_is_per_username_and_a_success_clears_the_count(client, alice):
    UserFactory(username="bob")
    for _ in range(4):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("login"), {"username": "alice", "password": PASSWORD})
    client.post(reverse("logout"))
    for _ in range(4):
        client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert client.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    assert client.post(reverse("login"), {"username": "bob", "password": PASSWORD}).status_code == 302


def test_logout_is_a_post(logged_in):
    response = logged_in.post(reverse("logout"))
    assert response.status_code == 302
    assert logged_in.get(reverse("annotations:home")).status_code == 302


def test_logout_by_get_asks_to_confirm_with_a_csrf_protected_post(alice):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    response = client.get("/accounts/logout/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Log out?</h1>" in html
    assert "You are logged in as <strong>alice</strong>." in html
    form = html.split("<main")[1].split('<form method="post" action="/accounts/logout/" class="stacked">')[1]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    assert '<button type="submit" class="primary" autofocus>Log out</button>' in form
    assert "_auth_user_id" in client.session  # a GET never logs out
    assert client.post("/accounts/logout/").status_code == 403  # no token
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token})
    assert (response.status_code, response.url) == (302, reverse("login"))
    assert "_auth_user_id" not in client.session


def test_logout_by_get_when_logged_out_goes_to_login(client):
    response = client.get("/accounts/logout/")
    assert (response.status_code, response.url) == (302, "/accounts/login/?next=/accounts/logout/")


def test_favicon_is_linked_from_every_page_and_served(logged_in, admin_client):
    icon = '<link rel="icon" type="image/svg+xml" href="/static/annotations/favicon.svg">'
    assert icon in logged_in.get(reverse("annotations:home")).content.decode()
    assert icon in Client().get(reverse("login")).content.decode()
    assert icon in admin_client.get("/admin/").content.decode()
    assert icon in admin_client.get("/admin/annotations/solution/").content.decode()
    served = Client().get("/static/annotations/favicon.svg")
    assert (served.status_code, served["Content-Type"]) == (200, "image/svg+xml")
    assert b"<svg" in b"".join(served.streaming_content)
    redirect = Client().get("/favicon.ico")
    assert (redirect.status_code, redirect.url) == (302, "/static/annotations/favicon.svg")


def test_password_change(logged_in, alice):
    response = logged_in.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-much-better-secret-42",
            "new_password2": "a-much-better-secret-42",
        },
    )
    assert response.status_code == 302
    assert response.url == reverse("password_change_done")
    alice.refresh_from_db()
    assert alice.check_password("a-much-better-secret-42")


def test_annotators_never_reach_the_admin(logged_in):
    response = logged_in.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/")
    assert "Admin" not in logged_in.get(reverse("annotations:home")).content.decode().split("<main")[0]


# ---- home ----


def test_home_lists_only_my_datasets_with_progress_and_sanitized_guidelines(logged_in, dataset, alice):
    DatasetFactory(name="Secret project", slug="secret")
    done = SolutionFactory(dataset=dataset, status=SolutionStatus.FINAL)
    FinalLabelFactory(solution=done, label=0, source="unanimous")
    SolutionFactory(dataset=dataset)
    SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=done, annotator=alice)
    html = logged_in.get(reverse("annotations:home")).content.decode()
    assert "Algebra" in html
    assert "Secret project" not in html
    assert '<dd class="done-by-me">1</dd>' in html
    assert '<dd class="done-overall">1 of 3</dd>' in html
    assert '<dd class="remaining">2</dd>' in html
    assert "Mark the <strong>earliest</strong> wrong step." in html
    assert "<script>window.__x=1</script>" not in html
    assert "Start annotating" in html


def test_done_overall_counts_labels_made_here_and_shows_gold_apart(logged_in, dataset):
    def solution(status=SolutionStatus.OPEN, source=None, **kwargs):
        made = SolutionFactory(dataset=dataset, status=status, **kwargs)
        if source is not None:
            FinalLabelFactory(solution=made, label=-1, source=source)
        return made

    for _gold in range(2):  # the demo's case: gold items arrive final with their imported label
        solution(SolutionStatus.FINAL, "imported", is_gold=True, imported_label=-1, needs_humans=False)
    solution(SolutionStatus.OPEN, "imported", imported_label=-1)  # imported, people still to label it
    solution(SolutionStatus.OPEN, needs_humans=False)  # waiting for the machines' consensus at triage
    solution(SolutionStatus.NEEDS_REVIEW)
    solution(SolutionStatus.OPEN)
    for source in ("unanimous", "majority", "review"):
        solution(SolutionStatus.FINAL, source)
    solution(SolutionStatus.FINAL, "consensus_auto", needs_humans=False)
    solution(SolutionStatus.DISCARDED)
    html = logged_in.get(reverse("annotations:home")).content.decode()
    # 9 solutions to label (gold left out); settled: unanimous, majority, review, consensus_auto, discarded
    assert '<dd class="done-overall">5 of 9</dd>' in html
    assert '<dd class="remaining">4</dd>' in html
    assert 'aria-valuenow="56"' in html
    gold_title = "Solutions with a known label, mixed into queues to measure annotators; not counted above"
    assert f'<dt>Gold items</dt><dd class="gold" title="{gold_title}">2</dd>' in html


def test_no_gold_line_without_gold_items(logged_in, dataset):
    SolutionFactory(dataset=dataset)
    html = logged_in.get(reverse("annotations:home")).content.decode()
    assert '<dd class="done-overall">0 of 1</dd>' in html
    assert "Gold items" not in html


def _header(html):
    return html.split("<main")[0]


def test_a_managers_home_links_to_review_and_to_each_reviewed_datasets_queue_and_dashboard(client, dataset, alice):
    manager = member(dataset, "manny", role="manager")
    annotated = DatasetFactory(name="Geometry", slug="geometry")
    MembershipFactory(dataset=annotated, user=manager, role="annotator")
    client.force_login(manager)
    html = client.get(reverse("annotations:home")).content.decode()
    assert '<a href="/review/">Review</a>' in _header(html)
    algebra = html.split('id="dataset-algebra"')[1].split("</section>")[0]
    assert '<a class="review-queue-link" href="/datasets/algebra/review/">Review queue</a>' in algebra
    assert '<a class="dashboard-link" href="/datasets/algebra/dashboard/">Dashboard</a>' in algebra
    geometry = html.split('id="dataset-geometry"')[1].split("</section>")[0]
    assert "/datasets/geometry/review/" not in geometry
    assert "/datasets/geometry/dashboard/" not in geometry
    # every page's header carries the link, not only home's
    assert '<a href="/review/">Review</a>' in _header(client.get(reverse("annotations:my_work")).content.decode())
    assert client.get("/review/").status_code == 200
    assert client.get("/datasets/algebra/dashboard/").status_code == 200


def test_an_annotators_home_has_no_review_or_dashboard_links(logged_in):
    html = logged_in.get(reverse("annotations:home")).content.decode()
    assert "Algebra" in html
    assert "/review/" not in html
    assert "Review" not in _header(html)
    assert "/dashboard/" not in html


def test_staff_who_are_not_members_anywhere_see_the_review_link(client):
    client.force_login(UserFactory(username="root", is_staff=True))
    assert '<a href="/review/">Review</a>' in _header(client.get(reverse("annotations:home")).content.decode())


# ---- next ----


def test_next_claims_and_opens_the_annotation_page(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    response = logged_in.post(reverse("annotations:next", args=["algebra"]))
    assert response.status_code == 302
    assert response.url == reverse("annotations:annotate", args=[solution.pk])
    assert Claim.objects.get(annotator=alice).solution_id == solution.pk


def test_empty_queue_shows_nothing_left(logged_in):
    response = logged_in.get(reverse("annotations:next", args=["algebra"]))
    assert response.status_code == 200
    assert "Nothing left to annotate" in response.content.decode()


def test_next_on_a_dataset_i_do_not_belong_to_is_404(logged_in):
    DatasetFactory(slug="secret")
    assert logged_in.get(reverse("annotations:next", args=["secret"])).status_code == 404


# ---- the annotation page ----


def test_annotation_page_shows_problem_reference_and_numbered_steps(logged_in, dataset, alice):
    problem = ProblemFactory(dataset=dataset, text="Compute $1+1$.", reference_answer="2")
    solution = SolutionFactory(dataset=dataset, problem=problem, steps=["First $a_1$.", "Then b.", "So 2."])
    claim_for(dataset, alice)
    response = logged_in.get(reverse("annotations:annotate", args=[solution.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert 'Compute <span class="math">$1+1$</span>.' in html
    assert "Reference answer" in html
    assert [int(number) for number in re.findall(r'class="step-number">Step (\d+)<', html)] == [1, 2, 3]
    assert 'First <span class="math">$a_1$</span>.' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert all("src=" in tag for tag in re.findall(r"<script[^>]*>", html)), "inline scripts break the CSP"


def test_reference_is_hidden_when_the_dataset_says_so(logged_in, dataset, alice):
    dataset.show_reference = False
    dataset.save()
    problem = ProblemFactory(dataset=dataset, reference_answer="42", reference_solution="Because.")
    solution = SolutionFactory(dataset=dataset, problem=problem)
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "Reference answer" not in html
    assert "Because." not in html


def test_other_annotators_work_is_never_shown(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=solution, annotator=UserFactory(username="bob"), rationale="BOB-SECRET-RATIONALE")
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "BOB-SECRET-RATIONALE" not in html
    assert "bob" not in html


def test_suggestions_panel_highlights_but_never_preselects(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(
        solution=solution, method="judge", label=1, model_name="Qwen2.5-72B", rationale="Step 2 says $2+2=5$."
    )
    SuggestionFactory(solution=solution, method="mc", label=1, model_name="mc-model", step_scores=[0.9, 0.0, 0.0])
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "Qwen2.5-72B" in html
    assert "Step 2 is the earliest error" in html
    assert 'Step 2 says <span class="math">$2+2=5$</span>.' in html
    assert 'id="step-1" data-index="1"' in html
    assert re.search(r'class="step suggested" id="step-1"', html)
    assert "Suggested as the earliest error by judge, mc" in html
    assert 'style="width: 90%"' in html
    assert " checked" not in html


def test_suggestions_carry_the_titles_and_rationale_names_the_methods_registered(
    logged_in, dataset, alice, monkeypatch
):
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(solution=solution, method="judge", label=1, rationale="Step 2 is off.")
    SuggestionFactory(solution=solution, method="mc", label=1, rationale="0 of 8 rollouts reach 4.")
    SuggestionFactory(solution=solution, method="oracle", label=1, rationale="Unregistered.")
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "<h3>LLM judge</h3>" in html and "<h3>Monte-Carlo estimation</h3>" in html and "<h3>oracle</h3>" in html
    assert re.search(r'<details class="critique" open>\s*<summary>Critique</summary>', html)
    assert len(re.findall(r'<details class="critique">\s*<summary>Details</summary>', html)) == 2

    renamed = suggestion_methods.SuggestionMethod(
        "mc", "Rollouts", "Samples.", rationale_title="Rollouts", rationale_open=True
    )
    monkeypatch.setattr(suggestion_methods, "_registered", {"mc": renamed})
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "<h3>Rollouts</h3>" in html and "<h3>judge</h3>" in html  # read from the registration, at each request
    assert re.search(r'<details class="critique" open>\s*<summary>Rollouts</summary>', html)


def test_blind_datasets_show_no_suggestions(logged_in, dataset, alice):
    dataset.blind = True
    dataset.save()
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(solution=solution, method="judge", label=1, model_name="Qwen2.5-72B")
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    assert "Qwen2.5-72B" not in html
    assert 'id="suggestions"' not in html


def test_a_solution_i_do_not_hold_redirects_to_next(logged_in, dataset):
    solution = SolutionFactory(dataset=dataset)
    response = logged_in.get(reverse("annotations:annotate", args=[solution.pk]))
    assert response.status_code == 302
    assert response.url == reverse("annotations:next", args=["algebra"])


def test_a_solution_outside_my_datasets_is_404(logged_in):
    other = SolutionFactory(dataset=DatasetFactory(slug="secret"))
    assert logged_in.get(reverse("annotations:annotate", args=[other.pk])).status_code == 404


def test_submit_stores_and_goes_to_the_next_solution(logged_in, dataset, alice):
    first, second = SolutionFactory(dataset=dataset), SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    response = logged_in.post(
        reverse("annotations:annotate", args=[first.pk]),
        {"earliest_error_step": "1", "rationale": "wrong sum", "flag_unsure": "on", "seconds_spent": "12.5"},
    )
    assert response.status_code == 302
    assert response.url == reverse("annotations:next", args=["algebra"])
    stored = Annotation.objects.get(annotator=alice)
    assert (stored.solution_id, stored.earliest_error_step, stored.rationale) == (first.pk, 1, "wrong sum")
    assert (stored.flag_unsure, stored.seconds_spent) == (True, 12.5)
    follow = logged_in.get(response.url)
    assert follow.url == reverse("annotations:annotate", args=[second.pk])


def test_a_submit_after_the_claim_expired_is_kept_while_there_is_room(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    Claim.objects.update(expires_at=timezone.now() - datetime.timedelta(minutes=1))  # the tab slept meanwhile
    response = logged_in.post(reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "0"})
    assert response.status_code == 302
    assert Annotation.objects.get(annotator=alice).solution_id == solution.pk


def test_a_claimless_submit_is_refused_and_shows_what_i_wrote_read_only(logged_in, dataset, alice):
    mine, other = SolutionFactory(dataset=dataset), SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    for solution in (other, mine):  # other: picked by id; mine: its claim was released meanwhile
        if solution is mine:
            Claim.objects.filter(solution=mine).delete()
        response = logged_in.post(
            reverse("annotations:annotate", args=[solution.pk]),
            {"earliest_error_step": "1", "rationale": "2 + 2 is not 5", "flag_unsure": "on"},
        )
        assert response.status_code == 409
        html = response.content.decode()
        assert (
            "You hold no claim on this solution: it was released, or never handed to you by the queue. "
            "Take your next solution from the queue. What you wrote is shown below and kept in this browser "
            "as a draft."
        ) in html
        assert re.search(r'value="1" checked disabled', html)
        assert re.search(r'id="id_rationale" rows="3" maxlength="10000" disabled>2 \+ 2 is not 5</textarea>', html)
        assert 'id="submit-button"' not in html
        assert f'<a class="button primary" id="next-button" href="/datasets/{dataset.slug}/next/">Next solution' in html
    assert not Annotation.objects.exists()


def test_a_submit_after_others_filled_the_solution_is_refused_with_a_message(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    Claim.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for name in ("b", "c", "d"):
        claim_for(dataset, member(dataset, name))
    response = logged_in.post(reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "0"})
    assert response.status_code == 409
    assert (
        "This solution no longer needs your annotation: your claim expired and others completed it."
        in response.content.decode()
    )
    assert not Annotation.objects.filter(annotator=alice).exists()


def test_submit_without_a_mark_says_what_is_missing(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    response = logged_in.post(reverse("annotations:annotate", args=[solution.pk]), {"rationale": "x"})
    assert response.status_code == 400
    assert "Mark the earliest wrong step, or mark all steps correct." in response.content.decode()
    assert not Annotation.objects.exists()


def test_step_beyond_the_last_is_refused(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    response = logged_in.post(reverse("annotations:annotate", args=[solution.pk]), {"earliest_error_step": "3"})
    assert response.status_code == 400
    assert "This solution has 3 steps: at most 2." in response.content.decode()


def test_all_correct_on_a_wrong_final_answer_needs_the_confirmation_field(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset, final_answer_correct=False)
    claim_for(dataset, alice)
    url = reverse("annotations:annotate", args=[solution.pk])
    html = logged_in.get(url).content.decode()
    assert 'data-final-answer-wrong="true"' in html
    assert 'name="confirm_all_correct"' in html
    response = logged_in.post(url, {"earliest_error_step": "-1"})
    assert response.status_code == 400
    assert "The final answer is known to be wrong, so some step should be wrong." in response.content.decode()
    response = logged_in.post(url, {"earliest_error_step": "-1", "confirm_all_correct": "on"})
    assert response.status_code == 302
    assert Annotation.objects.get(annotator=alice).earliest_error_step == -1


def test_skip_releases_the_claim_and_offers_another_solution(logged_in, dataset, alice):
    first, second = SolutionFactory(dataset=dataset), SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    response = logged_in.post(reverse("annotations:skip", args=[first.pk]))
    assert response.status_code == 302
    assert not Claim.objects.filter(solution=first).exists()
    follow = logged_in.get(response.url)
    assert follow.url == reverse("annotations:annotate", args=[second.pk])


def test_skipped_solutions_can_be_shown_again(logged_in, dataset, alice):
    only = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    logged_in.post(reverse("annotations:skip", args=[only.pk]))
    html = logged_in.get(reverse("annotations:next", args=["algebra"])).content.decode()
    assert "Show the 1 solution I skipped" in html
    response = logged_in.post(reverse("annotations:next", args=["algebra"]), {"reset_skipped": "1"})
    assert response.url == reverse("annotations:annotate", args=[only.pk])


def test_heartbeat_renews_and_reports_a_lost_claim(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset, annotation_count=0)
    claim_for(dataset, alice)
    url = reverse("annotations:heartbeat", args=[solution.pk])
    body = logged_in.post(url).json()
    assert body["solution"] == solution.pk
    assert datetime.datetime.fromisoformat(body["expires_at"]) > timezone.now() + datetime.timedelta(minutes=29)
    Claim.objects.filter(annotator=alice).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    for name in ("b", "c", "d"):
        claim_for(dataset, member(dataset, name))
    lost = logged_in.post(url)
    assert lost.status_code == 409
    assert lost.json()["message"].startswith("Your claim on this solution expired")
    assert logged_in.get(url).status_code == 405


# ---- my work ----


def test_my_work_lists_only_mine_with_filters(logged_in, dataset, alice):
    mine = SolutionFactory(dataset=dataset)
    flagged = SolutionFactory(dataset=dataset)
    AnnotationFactory(solution=mine, annotator=alice, rationale="because", earliest_error_step=1)
    AnnotationFactory(solution=flagged, annotator=alice, flag_ambiguous=True)
    AnnotationFactory(solution=mine, annotator=UserFactory(username="bob"), rationale="BOB-ONLY")
    html = logged_in.get(reverse("annotations:my_work")).content.decode()
    assert "2 annotations." in html
    assert "BOB-ONLY" not in html
    assert "step 2" in html
    html = logged_in.get(reverse("annotations:my_work"), {"has_rationale": "yes"}).content.decode()
    assert "1 annotation." in html
    assert f'data-solution="{mine.pk}"' in html
    html = logged_in.get(reverse("annotations:my_work"), {"flagged": "yes", "dataset": "algebra"}).content.decode()
    assert f'data-solution="{flagged.pk}"' in html
    assert f'data-solution="{mine.pk}"' not in html
    bad = logged_in.get(reverse("annotations:my_work"), {"date_from": "2026-02-02", "date_to": "2026-01-01"})
    assert "Must be on or after the start date." in bad.content.decode()


def test_i_can_change_my_annotation_until_the_label_is_final(logged_in, dataset, alice):
    solution = SolutionFactory(dataset=dataset)
    claim_for(dataset, alice)
    annotation_submit(solution_id=solution.pk, annotator=alice, data=AnnotationInput(earliest_error_step=0))
    url = reverse("annotations:annotate", args=[solution.pk])
    html = logged_in.get(url).content.decode()
    assert "You are changing your annotation" in html
    assert re.search(r'value="0" checked', html)
    response = logged_in.post(url, {"earliest_error_step": "2", "rationale": "on reflection"})
    assert response.url == reverse("annotations:next", args=["algebra"])  # back to where I was in the queue
    assert Annotation.objects.get(annotator=alice).earliest_error_step == 2
    for name in ("b", "c"):
        user = member(dataset, name)
        claim_for(dataset, user)
        annotation_submit(solution_id=solution.pk, annotator=user, data=AnnotationInput(earliest_error_step=2))
    html = logged_in.get(url).content.decode()
    assert (
        '<div class="banner banner-final" id="read-only-banner">This solution&#x27;s label is final '
        "(its annotators agreed unanimously): your annotation is read-only. The final label: step 3.</div>"
    ) in html
    assert "disabled" in html
    response = logged_in.post(url, {"earliest_error_step": "0"})
    assert response.status_code == 302
    assert Annotation.objects.get(annotator=alice).earliest_error_step == 2


@pytest.mark.parametrize(
    ("label", "verdict"),
    [
        (1, "First arithmetic slip at step 2; an earlier step may hold another kind of error"),
        (-1, "No arithmetic slip in the checked claims"),
    ],
)
def test_arithmetic_suggestion_says_what_an_arithmetic_check_can_tell(logged_in, dataset, alice, label, verdict):
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(solution=solution, method="arithmetic", label=label, rationale="Details of the check.")
    claim_for(dataset, alice)
    html = logged_in.get(reverse("annotations:annotate", args=[solution.pk])).content.decode()
    panel = html.split('class="suggestion suggestion-arithmetic"')[1].split("</section>")[0]
    assert "<h3>Arithmetic check</h3>" in panel
    assert f'<p class="verdict">{verdict}</p>' in panel
    assert "earliest error" not in panel and "All steps correct" not in panel
