"""The queue's plans on PostgreSQL do not depend on planner statistics (the test database is never analysed).

"Not annotated by me" used to be `NOT EXISTS`, which PostgreSQL turned into an anti-join; without
statistics it scanned all of my annotations once per candidate row, so "next" and the annotation page
grew with the square of my work. Each candidate must cost one probe of an index on the solution.
"""

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from annotations.models import Annotation, Solution
from annotations.selectors.queue import queue_candidate_lock, queue_statement
from annotations.selectors.workbench import solution_for_workbench
from tests.annotations.workbench_helpers import member, solutions
from tests.factories import DatasetFactory

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

DONE = 60  # my annotations, on the first solutions of the queue's order


@pytest.fixture
def worked():
    """Return (dataset, alice, the first solution she has not annotated): she annotated the first DONE."""
    dataset = DatasetFactory(slug="plans", annotations_per_solution=3)
    alice = member(dataset, "alice")
    rows = solutions(dataset, DONE + 20)
    Annotation.objects.bulk_create(
        Annotation(solution=row, annotator=alice, earliest_error_step=-1, step_count=row.num_steps)
        for row in rows[:DONE]
    )
    Solution.objects.filter(pk__in=[row.pk for row in rows[:DONE]]).update(annotation_count=1)
    return dataset, alice, rows[DONE]


def plan(sql, params=None):
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (COSTS OFF) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def assert_one_probe_per_candidate(text):
    assert "Anti Join" not in text, text
    assert "(SubPlan" in text and ") IS NULL)" in text, text  # the probe, in the candidates' filter


def test_the_queue_probes_my_annotations_per_candidate(worked):
    dataset, alice, first_open = worked
    now = timezone.now()
    sql, params = queue_statement(dataset=dataset, user=alice, now=now, exclude_ids=[], columns="c.*", lock=True)
    with transaction.atomic():
        text = plan(sql, params)
        assert_one_probe_per_candidate(text)
        assert "Join" not in text, text
        assert queue_candidate_lock(dataset=dataset, user=alice, now=now) == first_open


def test_the_annotation_page_counts_what_is_left_with_a_probe_per_candidate(worked):
    _dataset, alice, first_open = worked
    with CaptureQueriesContext(connection) as queries:
        solution = solution_for_workbench(solution_id=first_open.pk, user=alice, now=timezone.now())
    assert solution.left_for_me == 19
    assert_one_probe_per_candidate(plan(queries.captured_queries[-1]["sql"]))
