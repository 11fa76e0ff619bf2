"""Data migrations: existing rows come through with the values the new code expects."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("annotations", "0005_suggestion_derived_may_lack_label")]
AFTER = [("annotations", "0006_solution_ingested_by_and_lasting_history")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_history_rows_learn_their_dataset_and_solution_name():
    apps = _migrate(BEFORE)
    try:
        dataset = apps.get_model("annotations", "Dataset").objects.create(name="Old", slug="old")
        problem = apps.get_model("annotations", "Problem").objects.create(
            dataset=dataset, text="1+1?", content_hash="p"
        )
        solutions = apps.get_model("annotations", "Solution").objects
        named = solutions.create(
            dataset=dataset, problem=problem, external_id="gsm8k-7", content_hash="a", steps=["2"], num_steps=1
        )
        unnamed = solutions.create(dataset=dataset, problem=problem, content_hash="b", steps=["2"], num_steps=1)
        changes = apps.get_model("annotations", "FinalLabelChange").objects
        changes.create(solution=named, to_label=0, to_source="review")
        changes.create(solution=unnamed, to_label=-1, to_source="unanimous")

        apps = _migrate(AFTER)

        rows = apps.get_model("annotations", "FinalLabelChange").objects.order_by("id")
        assert [(row.dataset_id, row.solution_ref) for row in rows] == [
            (dataset.pk, "gsm8k-7"),
            (dataset.pk, f"solution {unnamed.pk}"),
        ]
    finally:
        _migrate(_latest())


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_solutions_learn_their_claim_counts():
    apps = _migrate([("annotations", "0010_solution_waiting_for_reformat")])
    try:
        from django.utils import timezone

        dataset = apps.get_model("annotations", "Dataset").objects.create(name="Old", slug="old-claims")
        problem = apps.get_model("annotations", "Problem").objects.create(
            dataset=dataset, text="1+1?", content_hash="p"
        )
        solutions = apps.get_model("annotations", "Solution").objects
        claimed = solutions.create(dataset=dataset, problem=problem, content_hash="a", steps=["2"], num_steps=1)
        free = solutions.create(dataset=dataset, problem=problem, content_hash="b", steps=["2"], num_steps=1)
        users = apps.get_model("auth", "User").objects
        soon, later = timezone.now(), timezone.now() + timezone.timedelta(minutes=30)
        claims = apps.get_model("annotations", "Claim").objects
        claims.create(solution=claimed, annotator=users.create(username="one"), expires_at=later)
        claims.create(solution=claimed, annotator=users.create(username="two"), expires_at=soon)

        apps = _migrate([("annotations", "0011_solution_claim_count")])

        rows = apps.get_model("annotations", "Solution").objects.order_by("id")
        assert [(row.pk, row.claim_count, row.claim_expires_first) for row in rows] == [
            (claimed.pk, 2, soon),
            (free.pk, 0, None),
        ]
    finally:
        _migrate(_latest())
