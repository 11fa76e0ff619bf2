"""The admin changes data only through services: read-only rows, and actions that keep history and invariants."""

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotations.models import (
    Annotation,
    Claim,
    DatasetMembership,
    FinalLabel,
    FinalLabelChange,
    Solution,
    SolutionStatus,
    Suggestion,
)
from tests.annotations.admin_helpers import admin_dataset_form
from tests.factories import (
    AnnotationFactory,
    DatasetFactory,
    FinalLabelFactory,
    MembershipFactory,
    SolutionFactory,
    SuggestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, root):
    client.force_login(root)
    return client


def _action(client, model, action, ids, **form):
    url = reverse(f"admin:annotations_{model}_changelist")
    body = {"action": action, "_selected_action": [str(pk) for pk in ids], **form}
    return client.post(url, body, follow=True)


def _apply(client, model, action, ids, **form):
    return _action(client, model, action, ids, apply="1", **form)


def assert_invariants():
    """What no admin path may break: a final solution has a final label, and only a final solution has one
    that people or machines decided (an imported label sits on a solution until then); labels in range;
    counts that match the rows; history that names its solution."""
    for solution in Solution.objects.all():
        final = FinalLabel.objects.filter(solution=solution).first()
        if solution.status == SolutionStatus.FINAL:
            assert final is not None, solution
        else:
            assert final is None or final.source == "imported", (solution, solution.status, final)
        assert solution.annotation_count == Annotation.objects.filter(solution=solution).count(), solution
    for final in FinalLabel.objects.select_related("solution"):
        assert -1 <= final.label < final.solution.num_steps
    for change in FinalLabelChange.objects.all():
        assert change.dataset_id is not None and change.solution_ref, change


def _history_row():
    return FinalLabelChange.objects.create(dataset=DatasetFactory(), solution_ref="x")


# Read-only rows ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model, make",
    [
        ("finallabel", lambda: FinalLabelFactory(label=1)),
        ("solution", lambda: SolutionFactory()),
        ("annotation", lambda: AnnotationFactory()),
        ("suggestion", lambda: SuggestionFactory()),
        ("finallabelchange", lambda: _history_row()),
    ],
)
def test_labels_statuses_and_suggestions_cannot_be_added_changed_or_deleted_by_hand(admin_client, model, make):
    row = make()
    change = reverse(f"admin:annotations_{model}_change", args=[row.pk])
    delete = reverse(f"admin:annotations_{model}_delete", args=[row.pk])
    assert admin_client.get(reverse(f"admin:annotations_{model}_add")).status_code == 403
    assert admin_client.get(change).status_code == 200  # readable
    assert 'name="_save"' not in admin_client.get(change).content.decode()
    assert admin_client.post(change, {"label": "0", "status": "final", "is_gold": "on"}).status_code == 403
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert type(row).objects.filter(pk=row.pk).exists()


def test_a_final_label_edited_or_deleted_by_hand_is_refused_and_the_solution_keeps_it(admin_client):
    final = FinalLabelFactory(label=1, solution=SolutionFactory(status=SolutionStatus.FINAL))
    url = reverse("admin:annotations_finallabel_change", args=[final.pk])
    admin_client.post(url, {"label": "2", "source": "review"})
    admin_client.post(reverse("admin:annotations_finallabel_delete", args=[final.pk]), {"post": "yes"})
    final.refresh_from_db()
    assert final.label == 1
    assert not FinalLabelChange.objects.exists()
    assert_invariants()


# Final labels --------------------------------------------------------------------------------------------


def test_set_final_label_asks_for_a_reason_then_writes_the_label_and_its_history(admin_client, root):
    solution = SolutionFactory(annotation_count=1)
    AnnotationFactory(solution=solution, earliest_error_step=0)
    page = _action(admin_client, "solution", "set_final_label", [solution.pk]).content.decode()
    assert "<title>Set the final label" in page and 'name="reason"' in page
    assert not FinalLabel.objects.exists()

    missing = _apply(admin_client, "solution", "set_final_label", [solution.pk], label="1", reason=" ")
    assert "This field is required." in missing.content.decode()
    assert not FinalLabel.objects.exists()

    done = _apply(admin_client, "solution", "set_final_label", [solution.pk], label="1", reason="Step 2 divides by 0.")
    assert "1 solution(s) now have the final label 1 (review)." in done.content.decode()
    final = FinalLabel.objects.get(solution=solution)
    assert (final.label, final.source, final.decided_by, final.note) == (1, "review", root, "Step 2 divides by 0.")
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_label, change.to_label, change.to_source, change.changed_by) == (None, 1, "review", root)
    assert change.reason == "Step 2 divides by 0."
    solution.refresh_from_db()
    assert solution.status == SolutionStatus.FINAL
    assert_invariants()


def test_set_final_label_is_all_or_nothing_and_names_the_solution_that_refused(admin_client):
    long = SolutionFactory(steps=["a", "b", "c", "d", "e"], external_id="long")
    short = SolutionFactory(steps=["a", "b"], external_id="short")
    response = _apply(admin_client, "solution", "set_final_label", [long.pk, short.pk], label="3", reason="Checked.")
    body = response.content.decode()
    assert "short: Label 3 is not -1 (all correct) or a step of this 2-step solution." in body
    assert "Must be -1 or between 0 and 1." in body
    assert not FinalLabel.objects.exists() and not FinalLabelChange.objects.exists()
    assert_invariants()


def test_reopen_removes_the_final_label_with_a_history_row(admin_client, root):
    solution = SolutionFactory(status=SolutionStatus.FINAL)
    FinalLabelFactory(solution=solution, label=2, source="unanimous")
    done = _apply(
        admin_client, "solution", "reopen", [solution.pk], target="needs_review", reason="Annotators missed it."
    )
    assert "1 solution(s) reopened (needs_review)." in done.content.decode()
    solution.refresh_from_db()
    assert (solution.status, solution.needs_humans) == (SolutionStatus.NEEDS_REVIEW, True)
    assert not FinalLabel.objects.filter(solution=solution).exists()
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.from_label, change.from_source, change.to_label, change.changed_by) == (2, "unanimous", None, root)
    assert change.reason == "Reopened: Annotators missed it."
    assert_invariants()


def test_reopen_refuses_an_open_solution_and_changes_none_of_the_selection(admin_client):
    final = SolutionFactory(status=SolutionStatus.FINAL, external_id="done")
    FinalLabelFactory(solution=final, label=0)
    still_open = SolutionFactory(external_id="open-one")
    body = _apply(admin_client, "solution", "reopen", [final.pk, still_open.pk], target="open", reason="x").content
    assert "open-one: Solution" in body.decode() and "not final or discarded." in body.decode()
    final.refresh_from_db()
    assert final.status == SolutionStatus.FINAL and FinalLabel.objects.filter(solution=final).exists()
    assert_invariants()


# Gold and triage -----------------------------------------------------------------------------------------


def test_gold_across_datasets_writes_history_and_keeps_the_invariants(admin_client, root):
    first, second = SolutionFactory(imported_label=1), SolutionFactory(imported_label=-1)
    assert first.dataset_id != second.dataset_id
    body = _action(admin_client, "solution", "mark_gold", [first.pk, second.pk]).content.decode()
    assert "2 solution(s) marked as gold." in body
    changes = FinalLabelChange.objects.order_by("id")
    assert [(c.solution_id, c.to_label, c.to_source, c.changed_by) for c in changes] == [
        (first.pk, 1, "imported", root),
        (second.pk, -1, "imported", root),
    ]
    assert_invariants()
    _action(admin_client, "solution", "unmark_gold", [first.pk])
    first.refresh_from_db()
    assert (first.is_gold, first.status) == (False, SolutionStatus.OPEN)
    assert_invariants()


def test_rerun_triage_on_solutions_auto_accepts_the_consensus_with_a_history_row(admin_client):
    dataset = DatasetFactory(triage_mode="disagreement_only", audit_rate=0.0)
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(solution=solution, method="consensus", label=2)
    body = _action(admin_client, "solution", "rerun_triage", [solution.pk]).content.decode()
    assert "Triage applied to 1 solution(s)." in body
    change = FinalLabelChange.objects.get(solution=solution)
    assert (change.to_label, change.to_source) == (2, "consensus_auto")
    assert_invariants()


# Deleting a solution -------------------------------------------------------------------------------------


def test_deleting_a_solution_takes_its_labels_and_keeps_its_history(admin_client, root):
    dataset = DatasetFactory(slug="kept")
    solution = SolutionFactory(dataset=dataset, external_id="gsm8k-9", annotation_count=1)
    AnnotationFactory(solution=solution, earliest_error_step=1)
    SuggestionFactory(solution=solution, method="judge", label=1)
    _apply(admin_client, "solution", "set_final_label", [solution.pk], label="1", reason="Agreed.")
    other = SolutionFactory(dataset=dataset)

    page = _action(admin_client, "solution", "delete_with_history", [solution.pk]).content.decode()
    assert "<title>Delete with their labels" in page
    assert Solution.objects.filter(pk=solution.pk).exists()
    done = _apply(admin_client, "solution", "delete_with_history", [solution.pk], reason="Duplicate of gsm8k-8.")

    assert "Deleted 1 solution(s) with their labels; their history is kept." in done.content.decode()
    assert not Solution.objects.filter(pk=solution.pk).exists()
    assert not Annotation.objects.filter(solution_id=solution.pk).exists()
    assert not Suggestion.objects.filter(solution_id=solution.pk).exists()
    assert not FinalLabel.objects.filter(solution_id=solution.pk).exists()
    history = list(FinalLabelChange.objects.filter(solution_ref="gsm8k-9").order_by("id"))
    assert [(c.solution_id, c.dataset_id, c.from_label, c.to_label, c.to_source) for c in history] == [
        (None, dataset.pk, None, 1, "review"),
        (None, dataset.pk, 1, None, "deleted"),
    ]
    assert history[1].changed_by == root
    assert history[1].reason == "Deleted: Duplicate of gsm8k-8. (1 annotation(s) and 1 suggestion(s) went with it.)"
    assert Solution.objects.filter(pk=other.pk).exists()
    listing = admin_client.get(reverse("admin:annotations_finallabelchange_changelist")).content.decode()
    assert "gsm8k-9" in listing
    assert_invariants()


def test_deleting_needs_a_reason_and_the_delete_permission(client):
    solution = SolutionFactory()
    staff = UserFactory(username="viewer", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_solution", "change_finallabel"]))
    client.force_login(staff)
    page = client.get(reverse("admin:annotations_solution_changelist")).content.decode()
    assert 'value="set_final_label"' in page and 'value="delete_with_history"' not in page
    refused = _apply(client, "solution", "delete_with_history", [solution.pk], reason="no")
    assert refused.status_code == 200 and Solution.objects.filter(pk=solution.pk).exists()


# Ingestion and who did it --------------------------------------------------------------------------------


def _record(index):
    return {"id": f"adm-{index}", "problem": "What is 2 + 2?", "steps": ["2 + 2 = 4.", "\\boxed{4}"], "label": -1}


def test_ingesting_from_the_admin_records_who_ingested(admin_client, root):
    dataset = DatasetFactory(name="Target")
    payload = json.dumps([_record(0), _record(1)])
    body = _apply(admin_client, "dataset", "ingest_solutions", [dataset.pk], solutions=payload).content.decode()
    assert "Target: 2 solution(s) created, 0 already there." in body
    solutions = Solution.objects.filter(dataset=dataset)
    assert sorted(solutions.values_list("external_id", "ingested_by__username")) == [
        ("adm-0", "root"),
        ("adm-1", "root"),
    ]
    listing = admin_client.get(reverse("admin:annotations_solution_changelist")).content.decode()
    assert listing.count('<td class="field-ingested_by nowrap">root</td>') == 2
    page = admin_client.get(reverse("admin:annotations_solution_change", args=[solutions[0].pk])).content.decode()
    assert "Ingested by:</label>" in page and f'<a href="/admin/auth/user/{root.pk}/change/">root</a>' in page
    assert_invariants()


def test_ingesting_a_file_and_refusing_bad_json_or_bad_solutions(admin_client):
    dataset = DatasetFactory()
    upload = SimpleUploadedFile("batch.json", json.dumps(_record(7)).encode())
    ok = _apply(admin_client, "dataset", "ingest_solutions", [dataset.pk], file=upload).content.decode()
    assert "1 solution(s) created" in ok
    bad_json = _apply(admin_client, "dataset", "ingest_solutions", [dataset.pk], solutions="[{").content.decode()
    assert "Not valid JSON: Expecting property name enclosed in double quotes: line 1 column 3 (char 2)." in bad_json
    invalid = json.dumps([_record(8), {**_record(9), "steps": []}])
    body = _apply(admin_client, "dataset", "ingest_solutions", [dataset.pk], solutions=invalid).content.decode()
    assert "1 of 2 solutions are invalid; nothing was stored." in body
    # Every problem of every item is listed, not only the first (the API's errors, one line each).
    several = json.dumps([{"question": "x", "steps": ["a"]}, {"problem": "y", "steps": "b"}])
    body = _apply(admin_client, "dataset", "ingest_solutions", [dataset.pk], solutions=several).content.decode()
    assert "2 of 2 solutions are invalid; nothing was stored. item 0, problem: This field is required." in body
    assert body.count("item 0, problem: This field is required.") == 1
    assert "item 0, question: Unknown field. Allowed fields: problem, steps," in body
    assert "item 1, steps: Must be a non-empty list of non-empty strings." in body
    assert set(Solution.objects.values_list("external_id", flat=True)) == {"adm-7"}


def test_ingesting_needs_exactly_one_dataset(admin_client):
    first, second = DatasetFactory(), DatasetFactory()
    body = _action(admin_client, "dataset", "ingest_solutions", [first.pk, second.pk]).content.decode()
    assert "Choose exactly one dataset to ingest solutions into." in body


# Datasets, members and claims ----------------------------------------------------------------------------


def test_a_dataset_made_in_the_admin_makes_its_creator_its_manager(admin_client, root):
    form = admin_dataset_form(name="Made here", slug="made-here", max_annotations="2")
    refused = admin_client.post(reverse("admin:annotations_dataset_add"), form)
    assert refused.status_code == 200
    assert not DatasetMembership.objects.exists()
    created = admin_client.post(reverse("admin:annotations_dataset_add"), {**form, "max_annotations": "5"})
    assert created.status_code == 302
    membership = DatasetMembership.objects.get(dataset__slug="made-here")
    assert (membership.user, membership.role) == (root, "manager")


def test_the_last_manager_can_be_neither_demoted_nor_removed_from_the_admin(admin_client):
    manager = MembershipFactory(role="manager")
    url = reverse("admin:annotations_datasetmembership_change", args=[manager.pk])
    response = admin_client.post(url, {"role": "annotator"})
    assert response.status_code == 200
    assert "is the last manager of dataset" in response.content.decode()
    body = _action(admin_client, "datasetmembership", "remove_members", [manager.pk]).content.decode()
    assert "is the last manager of dataset" in body
    manager.refresh_from_db()
    assert manager.role == "manager"
    other = MembershipFactory(dataset=manager.dataset, role="annotator")
    done = _action(admin_client, "datasetmembership", "remove_members", [other.pk]).content.decode()
    assert "1 membership(s) removed." in done
    assert not DatasetMembership.objects.filter(pk=other.pk).exists()


def test_claims_are_released_through_the_service(admin_client):
    solution = SolutionFactory()
    claim = Claim.objects.create(solution=solution, annotator=UserFactory(), expires_at="2999-01-01T00:00:00Z")
    body = _action(admin_client, "claim", "release_claims", [claim.pk]).content.decode()
    assert "1 claim(s) released." in body
    assert not Claim.objects.exists()
    assert admin_client.get(reverse("admin:annotations_claim_add")).status_code == 403
