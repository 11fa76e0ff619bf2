"""My progress in a dataset, as SQL expressions that ride along an existing query (no query of their own).

The annotation page and the home page add these to the one row they read anyway (the solution, or each
membership), so progress counts and back-links cost no extra statement and no query per row:
- `done_today`: my annotations in the dataset created since midnight (in `TIME_ZONE`);
- `left_for_me`: the ordinary queue's solutions the queue could still hand me, counted up to
  `LEFT_FOR_ME_CAP` + 1 in the order of the index `solution_queue_idx` (a capped count: the index scan
  stops early, so its cost does not grow with the dataset);
- `previous_solution_id` / `before_previous_solution_id`: my two annotations in the dataset made before
  the current solution's (or before now, when I have not annotated it), newest first.

They are written as SQL (`RawSQL`, parameters bound by the driver) rather than as nested ORM subqueries:
the ORM version cost about 11 ms of CPU per page just to build and compile (measured with
`bench/workbench_bench.py`), more than the rest of the page. Each fragment refers to the outer row by its
table's name, which Django uses as the alias of a query's base table; plain SQL that PostgreSQL and SQLite
both run. `LEFT_FOR_ME_SQL` applies the queue's own prefilter (`solution_queue_candidates`), counting my
own claims as mine rather than as others' holds.
"""

import datetime

from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from annotations.models import Annotation, Claim, Dataset, Solution, SolutionStatus

LEFT_FOR_ME_CAP = 500  # about 2.5 µs per counted row on PostgreSQL: 500 keeps the page's cost near 1 ms

_TABLES = {
    "annotation": Annotation._meta.db_table,
    "claim": Claim._meta.db_table,
    "dataset": Dataset._meta.db_table,
    "solution": Solution._meta.db_table,
}
DONE_TODAY_SQL = """SELECT COUNT(*) FROM "{annotation}" a JOIN "{solution}" s ON s.id = a.solution_id
 WHERE a.annotator_id = %s AND a.created_at >= %s AND s.dataset_id = "{outer}".dataset_id"""
LEFT_FOR_ME_SQL = """SELECT COUNT(*) FROM (SELECT c.id FROM "{solution}" c JOIN "{dataset}" d ON d.id = c.dataset_id
 WHERE c.dataset_id = "{outer}".dataset_id AND c.status = %s AND c.needs_humans = %s AND c.is_gold = %s{exclude}
 AND NOT EXISTS (SELECT 1 FROM "{annotation}" m WHERE m.solution_id = c.id AND m.annotator_id = %s)
 AND c.annotation_count + (SELECT COUNT(*) FROM "{claim}" h
   WHERE h.solution_id = c.id AND h.expires_at > %s AND h.annotator_id <> %s)
   < CASE WHEN c.annotation_count < d.annotations_per_solution THEN d.annotations_per_solution
          ELSE d.max_annotations END
 ORDER BY c.dataset_id, c.status, c.needs_humans, c.id LIMIT %s) capped"""
PREVIOUS_SQL = """SELECT a.solution_id FROM "{annotation}" a JOIN "{solution}" s ON s.id = a.solution_id
 WHERE a.annotator_id = %s AND s.dataset_id = "{outer}".dataset_id AND a.solution_id <> "{outer}".id
 AND a.created_at < COALESCE((SELECT mine.created_at FROM "{annotation}" mine
   WHERE mine.solution_id = "{outer}".id AND mine.annotator_id = %s), %s)
 ORDER BY a.created_at DESC, a.id DESC LIMIT 1 OFFSET %s"""


def start_of_today(now: datetime.datetime) -> datetime.datetime:
    """Return midnight of `now`'s day in the current time zone (an aware datetime)."""
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


def done_today_expression(*, user_id: int, now: datetime.datetime, outer: str) -> RawSQL:
    """Return an expression: my annotations in the outer row's dataset created since midnight.

    `outer`: the outer query's base table (Solution's or DatasetMembership's), which has `dataset_id`.
    """
    sql = DONE_TODAY_SQL.format(outer=outer, **_TABLES)
    return RawSQL(sql, (user_id, start_of_today(now)), output_field=IntegerField())


def left_for_me_expression(*, user_id: int, now: datetime.datetime, outer: str, exclude_outer: bool) -> RawSQL:
    """Return an expression: how many solutions the queue could still hand me, up to LEFT_FOR_ME_CAP + 1.

    With `exclude_outer` (the outer row is a solution), that solution is not counted.
    """
    exclude = f' AND c.id <> "{outer}".id' if exclude_outer else ""
    sql = LEFT_FOR_ME_SQL.format(outer=outer, exclude=exclude, **_TABLES)
    params = (SolutionStatus.OPEN.value, True, False, user_id, now, user_id, LEFT_FOR_ME_CAP + 1)
    return RawSQL(sql, params, output_field=IntegerField())


def previous_solution_expressions(*, user_id: int, now: datetime.datetime) -> dict[str, RawSQL]:
    """Return expressions for the outer solution: my two annotations made before my annotation of it.

    Without an annotation of mine on the outer solution, "before" means before now: my latest two.
    """
    sql = PREVIOUS_SQL.format(outer=_TABLES["solution"], **_TABLES)
    return {
        name: RawSQL(sql, (user_id, user_id, now, offset), output_field=IntegerField())
        for offset, name in enumerate(("previous_solution_id", "before_previous_solution_id"))
    }


def my_latest_solution_id(*, user_id: int, dataset_id: int) -> int | None:
    """Return the solution of my newest annotation in the dataset, or None (one query)."""
    return (
        Annotation.objects.filter(annotator_id=user_id, solution__dataset_id=dataset_id)
        .order_by("-created_at", "-pk")
        .values_list("solution_id", flat=True)
        .first()
    )
