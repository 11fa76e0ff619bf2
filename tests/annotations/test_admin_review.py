"""Admin for quality work: gold actions, re-applying triage, protocol settings and the read-only history."""

import pytest
from django.urls import reverse

from annotations.models import FinalLabel, FinalLabelChange, SolutionStatus
from tests.factories import DatasetFactory, SolutionFactory, SuggestionFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def _action(admin_client, model, action, ids):
    url = reverse(f"admin:annotations_{model}_changelist")
    return admin_client.post(url, {"action": action, "_selected_action": [str(pk) for pk in ids]}, follow=True)


def test_mark_and_unmark_gold_from_the_solution_list(admin_client):
    solutions = [SolutionFactory(imported_label=1) for _ in range(2)]
    response = _action(admin_client, "solution", "mark_gold", [s.pk for s in solutions])
    assert "2 solution(s) marked as gold." in response.content.decode()
    for solution in solutions:
        solution.refresh_from_db()
        assert (solution.is_gold, solution.status) == (True, SolutionStatus.FINAL)
        assert FinalLabel.objects.get(solution=solution).source == "imported"
    response = _action(admin_client, "solution", "unmark_gold", [solutions[0].pk])
    assert "1 solution(s) no longer gold." in response.content.decode()
    solutions[0].refresh_from_db()
    assert (solutions[0].is_gold, solutions[0].status) == (False, SolutionStatus.OPEN)


def test_mark_gold_without_imported_label_shows_an_error_and_changes_nothing(admin_client):
    good, bad = SolutionFactory(imported_label=0), SolutionFactory(imported_label=None)
    body = _action(admin_client, "solution", "mark_gold", [good.pk, bad.pk]).content.decode()
    assert "1 of the chosen solutions have no imported label, so they cannot be gold." in body
    good.refresh_from_db()
    assert good.is_gold is False


def test_reapply_triage_from_the_dataset_list(admin_client):
    dataset = DatasetFactory(name="Triaged", triage_mode="disagreement_only", audit_rate=0.0)
    solution = SolutionFactory(dataset=dataset)
    SuggestionFactory(solution=solution, method="consensus", label=2)
    body = _action(admin_client, "dataset", "reapply_triage", [dataset.pk]).content.decode()
    assert "Triaged: triage applied to 1 solution(s) without annotations." in body
    assert FinalLabel.objects.get(solution=solution).source == "consensus_auto"


def test_protocol_settings_are_editable_in_the_dataset_admin(admin_client):
    dataset = DatasetFactory()
    body = admin_client.get(reverse("admin:annotations_dataset_change", args=[dataset.pk])).content.decode()
    for field in ("annotations_per_solution", "max_annotations", "agreement_mode", "on_max_reached", "triage_mode"):
        assert f'name="{field}"' in body, field
    for field in ("audit_rate", "gold_rate"):
        assert f'name="{field}"' in body, field


def test_history_is_shown_on_the_solution_and_cannot_be_edited(admin_client):
    solution = SolutionFactory(imported_label=2)
    _action(admin_client, "solution", "mark_gold", [solution.pk])
    body = admin_client.get(reverse("admin:annotations_solution_change", args=[solution.pk])).content.decode()
    assert "Marked as gold: the imported label is the truth." in body
    change = FinalLabelChange.objects.get(solution=solution)
    url = reverse("admin:annotations_finallabelchange_change", args=[change.pk])
    response = admin_client.post(url, {"reason": "rewritten"})
    assert response.status_code == 403
    change.refresh_from_db()
    assert change.reason == "Marked as gold: the imported label is the truth."
    assert admin_client.get(reverse("admin:annotations_finallabelchange_add")).status_code == 403
