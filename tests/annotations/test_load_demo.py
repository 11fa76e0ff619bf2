"""The embedded default's demo: dataset, users, roles, tokens and the printed login; idempotent."""

import io
import json
from collections import Counter

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings
from rest_framework.authtoken.models import Token

from annotations.models import Dataset, DatasetMembership, FinalLabel, FinalLabelChange, Solution, SolutionStatus
from annotations.rendering import render_markdown
from annotations.services.demo import DEMO_DIR, DEMO_GOLD_IDS, DEMO_GUIDELINES

pytestmark = pytest.mark.django_db


def load_demo(*args):
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue().splitlines()


def _state():
    return {
        "solutions": sorted(
            Solution.objects.values_list("external_id", "status", "is_gold", "imported_label", "answer_check")
        ),
        "final_labels": sorted(FinalLabel.objects.values_list("solution__external_id", "label", "source")),
        "history": FinalLabelChange.objects.count(),
        "memberships": sorted(DatasetMembership.objects.values_list("user__username", "role")),
        "tokens": sorted(Token.objects.values_list("user__username", "key")),
        "users": sorted(User.objects.values_list("username", "password", "is_superuser", "is_staff")),
        "groups": sorted(User.groups.through.objects.values_list("user__username", "group__name")),
    }


def test_load_demo_twice_creates_everything_once_and_prints_the_login(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = load_demo()
    state = _state()
    with django_capture_on_commit_callbacks(execute=True):
        second = load_demo()

    tokens = dict(Token.objects.values_list("user__username", "key"))
    login = [
        "Log in at http://127.0.0.1:8000/accounts/login/  (admin: http://127.0.0.1:8000/admin/)",
        f"  demo        manager, admin  password: prmweb-demo  API token: {tokens['demo']}",
        f"  annotator1  annotator       password: prmweb-demo  API token: {tokens['annotator1']}",
        f"  annotator2  annotator       password: prmweb-demo  API token: {tokens['annotator2']}",
        f"  annotator3  annotator       password: prmweb-demo  API token: {tokens['annotator3']}",
    ]
    assert first == ["Demo dataset 'demo': 40 solutions (created 40, existing 0), 8 of them gold.", *login]
    assert second == ["Demo dataset 'demo': 40 solutions (created 0, existing 40), 8 of them gold.", *login]
    assert _state() == state  # the second run changed nothing


def test_demo_dataset_content_and_roles(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        load_demo()

    dataset = Dataset.objects.get(slug="demo")
    assert "earliest step" in dataset.guidelines and "All steps correct" in dataset.guidelines
    assert (dataset.annotations_per_solution, dataset.agreement_mode, dataset.gold_rate) == (3, "review", 0.1)
    source = {r["id"]: r for r in json.loads((DEMO_DIR / "records.json").read_text(encoding="utf-8"))}
    solutions = list(Solution.objects.filter(dataset=dataset).select_related("problem"))
    assert len(solutions) == 40
    assert Counter(s.subset for s in solutions) == {"gsm8k": 20, "math": 20}
    for solution in solutions:
        record = source[solution.external_id]
        assert solution.steps == record["steps"]
        assert solution.metadata["processbench_label"] == record["label"]
        assert solution.problem.reference_answer  # every demo record has one
        assert solution.answer_check is not None
    # people make the labels: only the gold items carry an imported (final) label
    ordinary = [s for s in solutions if s.external_id not in DEMO_GOLD_IDS]
    assert all(s.imported_label is None and s.status == SolutionStatus.OPEN and not s.is_gold for s in ordinary)
    assert sum(s.metadata["processbench_label"] >= 0 for s in ordinary) == 16
    gold = {s.external_id: s for s in solutions if s.is_gold}
    assert set(gold) == set(DEMO_GOLD_IDS)
    assert all(s.imported_label == source[s.external_id]["label"] for s in gold.values())
    assert sorted(FinalLabel.objects.values_list("solution__external_id", flat=True)) == sorted(DEMO_GOLD_IDS)

    demo = User.objects.get(username="demo")
    assert demo.is_superuser and demo.is_staff and demo.check_password("prmweb-demo")
    assert set(demo.groups.values_list("name", flat=True)) == {"manager", "reviewer"}
    assert set(Group.objects.values_list("name", flat=True)) >= {"annotator", "reviewer", "manager"}
    assert sorted(DatasetMembership.objects.filter(dataset=dataset).values_list("user__username", "role")) == [
        ("annotator1", "annotator"),
        ("annotator2", "annotator"),
        ("annotator3", "annotator"),
        ("demo", "manager"),
    ]
    annotator = User.objects.get(username="annotator2")
    assert not annotator.is_staff and list(annotator.groups.values_list("name", flat=True)) == ["annotator"]


def test_a_changed_password_is_kept_and_not_printed():
    load_demo()
    user = User.objects.get(username="annotator1")
    user.set_password("my own secret")
    user.save()

    lines = load_demo()

    assert any(line.startswith("  annotator1  annotator       password: (changed since") for line in lines)
    assert not any("my own secret" in line for line in lines)
    user.refresh_from_db()
    assert user.check_password("my own secret")


def test_production_needs_an_explicit_password():
    with override_settings(SETTINGS_MODULE="prmweb.settings.production"), pytest.raises(CommandError) as failure:
        load_demo()
    assert str(failure.value) == "Refusing to create demo users with the public default password: pass --password."
    assert not User.objects.exists()

    lines = load_demo("--password", "s3cret-demo", "--base-url", "https://labels.example.org/")
    assert (
        lines[1] == "Log in at https://labels.example.org/accounts/login/  (admin: https://labels.example.org/admin/)"
    )
    assert User.objects.get(username="demo").check_password("s3cret-demo")


def test_the_demo_guidelines_render_without_hard_line_breaks():
    """Markdown here keeps single newlines as breaks, so each paragraph and item of the guidelines is one line."""
    html = render_markdown(DEMO_GUIDELINES)
    assert "<br" not in html
    assert html.count("<li>") == 6
