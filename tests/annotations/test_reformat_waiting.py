"""segmentation "reformat" on the labelling side: ingestion, the waiting state, the flag in the API, admin and pages.

The judge's reply is handed in through `solutions_reformat_settle`, as the scoring task does, so these tests
need no engine; tests/scoring/test_reformat.py runs the whole path with the scripted judge.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from annotations import hooks
from annotations.exporters.filters import ExportFilters
from annotations.models import Dataset, Solution, SolutionStatus, Suggestion
from annotations.selectors.exports import export_selection
from annotations.services import ingestion
from annotations.services import reformat as reformat_service
from annotations.services.annotations import AnnotationInput, annotation_submit
from annotations.services.answers import solutions_check_answers
from annotations.services.reformat import JudgeSplit, solutions_reformat_settle
from annotations.services.review import review_decide
from prmweb.errors import ApplicationError, ConflictError
from tests.annotations.api_support import post_json, solution_url, solutions_url, token_client
from tests.factories import SolutionFactory, UserFactory

pytestmark = pytest.mark.django_db

RESPONSE = "We add 12 and 30.\n12 + 30 = 52.\nSo the answer is \\boxed{52}."
SPLIT = "We add 12 and 30.\n\n12 + 30 = 52.\n\nSo the answer is \\boxed{52}."
BODY = {"id": "r-1", "problem": "What is 12 + 30?", "response": RESPONSE, "segmentation": "reformat"}
PENDING = {"status": "pending", "fell_back": False, "error": "", "model": ""}


@pytest.fixture
def handed(monkeypatch):
    """Record what the after-commit hooks are given, instead of calling scoring."""
    calls: dict[str, list] = {"scoring": [], "reformat": []}
    monkeypatch.setattr("annotations.tasks.check_final_answers.delay", lambda ids: None)
    monkeypatch.setattr(hooks, "notify_solutions_ingested", lambda **kw: calls["scoring"].append(kw["solution_ids"]))
    monkeypatch.setattr(hooks, "request_reformat", lambda **kw: calls["reformat"].append(kw["solution_ids"]))
    return calls


def _post(manager, payload):
    return post_json(token_client(manager), solutions_url(), payload)


def _settle(solution_id, reformatted, error="", model="judge-72b"):
    return solutions_reformat_settle(splits=[JudgeSplit(solution_id, reformatted, error, model)])


def test_a_reformat_response_is_stored_waiting_without_steps_and_handed_to_the_reformat_hook(
    manager, dataset, handed, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        created = _post(manager, [BODY, {"id": "p-1", "problem": "What is 1 + 1?", "response": "1 + 1 = 2."}])

    assert created.status_code == 201
    waiting, ready = Solution.objects.get(external_id="r-1"), Solution.objects.get(external_id="p-1")
    assert (waiting.status, waiting.num_steps, waiting.steps, waiting.step_offsets) == ("waiting", 0, [], [])
    assert (waiting.segmentation, waiting.reformat_status, waiting.response) == ("reformat", "pending", RESPONSE)
    assert waiting.reformat_queued_at is not None
    assert handed == {"scoring": [[ready.pk]], "reformat": [[waiting.pk]]}
    body = token_client(manager).get(solution_url(waiting.pk)).json()
    assert (body["status"], body["num_steps"], body["steps"], body["step_offsets"]) == ("waiting", 0, [], [])
    assert (body["response"], body["segmentation"], body["reformat"]) == (RESPONSE, "reformat", PENDING)
    assert token_client(manager).get(solution_url(ready.pk)).json()["reformat"] is None


def test_the_same_response_sent_again_is_the_same_solution_before_and_after_its_steps_exist(manager, dataset):
    first = _post(manager, {**BODY, "id": None})
    again = _post(manager, {**BODY, "id": None})
    _settle(first.json()["items"][0]["id"], SPLIT)
    after = _post(manager, {**BODY, "id": None})

    assert (first.status_code, again.status_code, after.status_code) == (201, 200, 200)
    assert [response.json()["items"][0]["status"] for response in (again, after)] == ["existing", "existing"]
    assert Solution.objects.count() == 1


def test_a_label_cannot_come_with_reformat(manager, dataset):
    response = _post(manager, {**BODY, "label": 1})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "label": [
            "Cannot be given with segmentation 'reformat': the steps are known only once the judge has split the "
            "response."
        ]
    }
    assert not Solution.objects.exists()


def test_the_limits_apply_to_the_paragraphs_it_would_fall_back_to(manager, dataset):
    response = _post(manager, {**BODY, "response": "\n\n".join(f"Step {index}." for index in range(201))})

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "response": [
            "Segmentation 'reformat' falls back to paragraphs, which split it into 201 steps; a solution has at most "
            "200."
        ]
    }


def test_reformat_is_refused_naming_segmentation_when_no_reformat_hook_is_configured(manager, dataset, settings):
    settings.PRMWEB_REFORMAT_HOOK = ""

    response = _post(manager, BODY)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "segmentation": ["'reformat' needs the scoring app's reformat hook (PRMWEB_REFORMAT_HOOK), which is not set."]
    }


def test_the_dataset_default_can_be_reformat(manager, dataset):
    url = reverse("api:dataset-detail", args=[dataset.slug])
    patched = token_client(manager).patch(url, {"segmentation": "reformat"}, format="json")

    assert patched.status_code == 200 and patched.json()["segmentation"] == "reformat"
    _post(manager, {"problem": "p", "response": "a. b."})
    assert Solution.objects.get().status == "waiting"


def test_an_accepted_reply_opens_the_solution_and_sends_it_to_scoring_after_the_commit(
    dataset, handed, django_capture_on_commit_callbacks
):
    solution = _waiting(dataset)

    with django_capture_on_commit_callbacks(execute=True):
        settled = _settle(solution.pk, SPLIT)

    assert [(item.reformat_status, item.num_steps, item.reason) for item in settled] == [("accepted", 3, "")]
    solution.refresh_from_db()
    assert solution.steps == ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]
    assert (solution.status, solution.segmentation, solution.reformat_model) == ("open", "reformat", "judge-72b")
    assert handed == {"scoring": [[solution.pk]], "reformat": []}
    assert _settle(solution.pk, "anything else") == []  # settled once: a second reply changes nothing


def test_the_flag_and_its_reason_reach_the_api_and_the_list_filters(manager, dataset):
    flagged, accepted, waiting = _waiting(dataset), _waiting(dataset), _waiting(dataset)
    _settle(flagged.pk, SPLIT.replace("52.\n\n", "42.\n\n"))
    _settle(accepted.pk, SPLIT)
    client = token_client(manager)

    body = client.get(solution_url(flagged.pk)).json()

    assert body["reformat"] == {
        "status": "rejected",
        "fell_back": True,
        "error": "The reply changes the text at character 28 of the response: '52. So the answer is "
        "\\\\boxed{52}.' became '42. So the answer is \\\\boxed{52}.'.",
        "model": "judge-72b",
    }
    assert (body["segmentation"], body["steps"]) == ("paragraphs", [RESPONSE])
    rejected = client.get(solutions_url(), {"reformat_status": "rejected"}).json()["results"]
    assert [row["id"] for row in rejected] == [flagged.pk]
    waiting_rows = client.get(solutions_url(), {"status": "waiting"}).json()["results"]
    assert [(row["id"], row["reformat"]) for row in waiting_rows] == [(waiting.pk, PENDING)]
    bad = client.get(solutions_url(), {"reformat_status": "sideways"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["reformat_status"]


def test_a_failed_reformat_records_why(dataset):
    solution = _waiting(dataset)

    _settle(solution.pk, None, error="EngineError: SCORING_JUDGE_MODEL is not set", model="")

    solution.refresh_from_db()
    assert (solution.reformat_status, solution.segmentation, solution.steps) == ("failed", "paragraphs", [RESPONSE])
    assert solution.reformat_error == "EngineError: SCORING_JUDGE_MODEL is not set"


def test_the_answer_check_waits_for_the_steps(dataset):
    solution = _waiting(dataset, reference_answer="42")

    assert solutions_check_answers(solution_ids=[solution.pk]).checked == 0
    _settle(solution.pk, SPLIT)
    assert solutions_check_answers(solution_ids=[solution.pk]).checked == 1
    solution.refresh_from_db()
    assert (solution.final_answer, solution.answer_check) == ("52", False)


def test_a_waiting_solution_is_never_exported_labelled_or_annotated(dataset):
    solution = _waiting(dataset)
    Suggestion.objects.create(solution=solution, method="judge", config_key="k", step_count=0, status="failed")
    reviewer = UserFactory(username="rita", is_staff=True)

    exported = export_selection(dataset=dataset, filters=ExportFilters(), labelled_only=False).matching()
    assert list(exported) == []
    with pytest.raises(ApplicationError) as refused:
        review_decide(solution_id=solution.pk, reviewer=reviewer, label=-1)
    assert refused.value.message == (
        f"Solution {solution.pk} is waiting for its steps (the judge is re-splitting its response); label it once "
        "it has them."
    )
    assert refused.value.errors == {"label": ["The solution has no steps yet."]}
    with pytest.raises(ConflictError) as conflict:
        annotation_submit(solution_id=solution.pk, annotator=reviewer, data=AnnotationInput(earliest_error_step=-1))
    assert conflict.value.errors == {"solution": ["It has no steps yet; it joins the queue once it has them."]}
    assert Solution.objects.get(pk=solution.pk).status == SolutionStatus.WAITING


def test_the_dashboard_counts_waiting_solutions(manager, dataset):
    _waiting(dataset)
    SolutionFactory(dataset=dataset)

    metrics = token_client(manager).get(reverse("api:dataset-metrics", args=[dataset.slug])).json()

    assert metrics["progress"]["by_status"] == {
        "waiting": 1,
        "open": 1,
        "needs_review": 0,
        "final": 0,
        "discarded": 0,
    }


def test_the_pages_show_the_waiting_state_and_the_fallback_flag_with_its_reason(client, dataset):
    staff = UserFactory(username="sam", is_staff=True, is_superuser=True)
    waiting, flagged, accepted = _waiting(dataset), _waiting(dataset), _waiting(dataset)
    _settle(flagged.pk, None, error="the judge could not take the prompt: prompt is 9000 tokens")
    _settle(accepted.pk, SPLIT)
    client.force_login(staff)

    review = client.get(reverse("annotations:review_solution", args=[waiting.pk])).content.decode()
    flagged_page = client.get(reverse("annotations:review_solution", args=[flagged.pk])).content.decode()
    accepted_page = client.get(reverse("annotations:review_solution", args=[accepted.pk])).content.decode()

    assert "Waiting for its steps: the judge model is re-splitting this response into paragraphs" in review
    assert (
        "The judge could not re-split this response: the steps are its paragraphs (split at blank lines)."
        in " ".join(flagged_page.split())
    )
    assert "the judge could not take the prompt: prompt is 9000 tokens" in flagged_page
    assert "Steps split by the judge model judge-72b; the text is the response's, unchanged." in accepted_page
    admin_list = client.get(reverse("admin:annotations_solution_changelist"), {"reformat_status__exact": "failed"})
    assert admin_list.status_code == 200 and f">{flagged.pk}<" in admin_list.content.decode()
    assert "Reformatting failed: split into paragraphs" in admin_list.content.decode()
    admin_page = client.get(reverse("admin:annotations_solution_change", args=[flagged.pk])).content.decode()
    assert "the judge could not take the prompt: prompt is 9000 tokens" in admin_page


def test_the_review_page_refuses_a_decision_on_a_waiting_solution(client, dataset):
    waiting = _waiting(dataset)
    client.force_login(UserFactory(username="sam", is_staff=True, is_superuser=True))

    response = client.post(reverse("annotations:review_solution", args=[waiting.pk]), {"action": "decide", "label": -1})

    assert response.status_code == 400
    assert "is waiting for its steps (the judge is re-splitting its response); label it once it has them." in (
        response.content.decode()
    )
    assert Solution.objects.get(pk=waiting.pk).status == "waiting"


def test_the_annotation_page_flags_a_solution_whose_reformat_was_refused(client, dataset):
    from annotations.services.claims import claim_next
    from tests.annotations.workbench_helpers import member

    alice = member(dataset, "alice")
    flagged = _waiting(dataset)
    _settle(flagged.pk, SPLIT.replace("52.\n\n", "42.\n\n"))
    assert claim_next(dataset=dataset, annotator=alice).solution_id == flagged.pk
    client.force_login(alice)

    page = " ".join(client.get(reverse("annotations:annotate", args=[flagged.pk])).content.decode().split())

    assert (
        "The judge's re-split changed the text of this response, so it was not used: the steps are its "
        "paragraphs (split at blank lines)." in page
    )
    assert "The reply changes the text at character 28 of the response" in page


def test_import_solutions_takes_reformat_as_its_segmentation(dataset, tmp_path):
    path = tmp_path / "responses.jsonl"
    path.write_text('{"id": "a", "problem": "p", "response": "x. y."}\n', encoding="utf-8")

    call_command(
        "import_solutions", str(path), "--dataset", dataset.slug, "--format", "responses", "--segmentation", "reformat"
    )

    assert list(Solution.objects.values_list("external_id", "status", "segmentation")) == [("a", "waiting", "reformat")]


def _waiting(dataset: Dataset, reference_answer: str = "") -> Solution:
    """Ingest RESPONSE with segmentation reformat (hooks not run) and return the waiting solution."""
    number = Solution.objects.count()
    item = ingestion.SolutionInput(
        problem=f"What is 12 + 30? ({number})",
        response=RESPONSE,
        segmentation="reformat",
        reference_answer=reference_answer,
    )
    result = ingestion.solutions_ingest(dataset=dataset, items=[item])
    return Solution.objects.get(pk=result.items[0].solution_id)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_settling_at_once_give_the_solution_its_steps_exactly_once(monkeypatch):
    for module in ("ingestion", "reformat"):  # committed for real here: keep the hooks out of it
        monkeypatch.setattr(f"annotations.services.{module}.solutions_hand_over", lambda **kwargs: None)
    decide = reformat_service._decide

    def slow_decide(response, split):  # widen the window between reading the row and writing it
        time.sleep(0.2)
        return decide(response, split)

    monkeypatch.setattr(reformat_service, "_decide", slow_decide)
    from tests.factories import DatasetFactory

    solution = _waiting(DatasetFactory())
    replies = [SPLIT, None] * 4  # four deliveries with the judge's split, four whose judge failed
    barrier = threading.Barrier(len(replies))

    def settle(reply):
        try:
            barrier.wait()
            return solutions_reformat_settle(splits=[JudgeSplit(solution.pk, reply, "judge down", "j")])
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=len(replies)) as pool:
        results = [item for settled in pool.map(settle, replies) for item in settled]

    assert len(results) == 1
    solution.refresh_from_db()
    assert (solution.status, solution.reformat_status) == ("open", results[0].reformat_status)
    assert solution.num_steps == results[0].num_steps == (3 if results[0].reformat_status == "accepted" else 1)
