"""My progress in a dataset, as SQL expressions that ride along an existing query (no query of their own).

The annotation page and the home page add these to the one row they read anyway (the solution, or each
membership), so progress counts and back-links cost no extra statement and no query per row:
- `done_today`: my annotations in the dataset created since midnight (in `TIME_ZONE`);
- `left_for_me`: the ordinary queue's solutions the queue could still hand me, counted up to
  `LEFT_FOR_ME_CAP` + 1 in the order of the index `solution_queue_idx` (a capped count: the index scan
  stops early, so its cost does not grow with the dataset), plus the gold solutions the queue will mix in
  among them (the rule of `annotations.selectors.gold.gold_should_serve`, worked out in `LEFT_FOR_ME_SQL`);
- `previous_solution_id` / `before_previous_solution_id`: my two annotations in the dataset made before
  the current solution's (or before now, when I have not annotated it), newest first.

They are written as SQL (`RawSQL`, parameters bound by the driver) rather than as nested ORM subqueries:
the ORM version cost about 11 ms of CPU per page just to build and compile (measured with
`bench/workbench_bench.py`), more than the rest of the page. Each fragment refers to the outer row by its
table's name, which Django uses as the alias of a query's base table; plain SQL that PostgreSQL and SQLite
both run. `LEFT_FOR_ME_SQL` applies the queue's own prefilter (`solution_queue_candidates`), counting my
own claims as mine rather than as others' holds; a solution nobody has claimed (`claim_count` 0, kept by
triggers) costs no look into the claim table.
"""

import datetime

from django.db.models import IntegerField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from annotations.models import Annotation, Claim, Dataset, Solution, SolutionStatus
from annotations.selectors.queue import NOT_ANNOTATED_SQL

LEFT_FOR_ME_CAP = 500  # about 2.5 µs per counted row on PostgreSQL: 500 keeps the page's cost near 1 ms

_TABLES = {
    "annotation": Annotation._meta.db_table,
    "claim": Claim._meta.db_table,
    "dataset": Dataset._meta.db_table,
    "solution": Solution._meta.db_table,
    "not_annotated_c": NOT_ANNOTATED_SQL.format(row="c"),
    "not_annotated_s": NOT_ANNOTATED_SQL.format(row="s"),
}
DONE_TODAY_SQL = """SELECT COUNT(*) FROM "{annotation}" a JOIN "{solution}" s ON s.id = a.solution_id
 WHERE a.annotator_id = %s AND a.created_at >= %s AND s.dataset_id = "{outer}".dataset_id"""
GOLD_RATE_SCALE = 1_000_000  # the rate as an exact integer ratio p / GOLD_RATE_SCALE (rates have few decimals)
ORDINARY_LEFT_SQL = """SELECT COUNT(*) FROM (SELECT c.id FROM "{solution}" c JOIN "{dataset}" d ON d.id = c.dataset_id
 WHERE c.dataset_id = "{outer}".dataset_id AND c.status = %s AND c.needs_humans = %s AND c.is_gold = %s{exclude}
 AND {not_annotated_c}
 AND c.annotation_count + CASE WHEN c.claim_count = 0 THEN 0 ELSE (SELECT COUNT(*) FROM "{claim}" h
   WHERE h.solution_id = c.id AND h.expires_at > %s AND h.annotator_id <> %s) END
   < CASE WHEN c.annotation_count < d.annotations_per_solution THEN d.annotations_per_solution
          ELSE d.max_annotations END
 ORDER BY c.dataset_id, c.status, c.needs_humans, c.id LIMIT %s) capped"""
# Gold is served whenever my gold share, counting the item about to be served, stays within the rate:
# g < r * (t + 1). After my l ordinary items the queue has served me the fewest gold items n with
# g + n >= r * (t + l + n + 1), i.e. n = ceil((p * (t + l + 1) - S * g) / (S - p)) in integers (r = p / S),
# at most the u gold items I have not annotated; every one of them when r = 1. At rate 0 none of the gold
# counts runs (PostgreSQL and SQLite evaluate a CASE branch's subquery only when it is taken), and the
# unseen-gold count reads the partial index `solution_gold_idx`. `LIMIT 1` keeps the one-row derived table x
# from being flattened into the outer expression, which would run its counts once per mention of l, t, g, u.
MINE_SQL = """SELECT COUNT(*) FROM "{annotation}" a JOIN "{solution}" s ON s.id = a.solution_id
 WHERE a.annotator_id = %s AND s.dataset_id = "{outer}".dataset_id{gold}"""
UNSEEN_GOLD_SQL = """SELECT COUNT(*) FROM "{solution}" s
 WHERE s.dataset_id = "{outer}".dataset_id AND s.is_gold = %s{exclude}
 AND {not_annotated_s}"""
NEEDED = "(x.p * (x.t + x.l + 1) - {scale} * x.g)"
GOLD_DUE = "((" + NEEDED + " + {scale} - x.p - 1) / ({scale} - x.p))"
LEFT_FOR_ME_SQL = (
    "SELECT x.l + CASE WHEN x.u <= 0 THEN 0 WHEN x.p >= {scale} THEN x.u WHEN "
    + NEEDED
    + " <= 0 THEN 0 WHEN "
    + GOLD_DUE
    + " >= x.u THEN x.u ELSE "
    + GOLD_DUE
    + """ END
 FROM (SELECT ({ordinary}) AS l,
   CASE WHEN d.gold_rate > 0 THEN ({mine}){pending} ELSE 0 END AS t,
   CASE WHEN d.gold_rate > 0 THEN ({mine_gold}){pending_gold} ELSE 0 END AS g,
   CASE WHEN d.gold_rate > 0 THEN ({unseen_gold}) ELSE 0 END AS u,
   CAST(ROUND(d.gold_rate * {scale}) AS BIGINT) AS p FROM "{dataset}" d WHERE d.id = "{outer}".dataset_id
   LIMIT 1) x"""
)
# On the annotation page the outer solution, when I have not annotated it yet, is the one I am doing now.
PENDING_SQL = """ + (CASE WHEN EXISTS (SELECT 1 FROM "{annotation}" o WHERE o.solution_id = "{outer}".id
 AND o.annotator_id = %s) THEN 0 ELSE 1 END){gold}"""
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
    """Return an expression: how many solutions the queue could still hand me (ordinary ones up to the cap + 1).

    The ordinary queue's solutions are counted up to LEFT_FOR_ME_CAP + 1; the gold solutions the queue
    will mix in among them (at the dataset's `gold_rate`, only ones I have not annotated) are added.
    With `exclude_outer` (the outer row is a solution), that solution is not counted, and when I have not
    annotated it, it counts as done for the gold rule (it is the one I am doing).
    """
    exclude = f' AND {{alias}}.id <> "{outer}".id' if exclude_outer else ""
    tables = {**_TABLES, "outer": outer}
    ordinary = ORDINARY_LEFT_SQL.format(exclude=exclude.format(alias="c"), **tables)
    pending = PENDING_SQL.format(gold="", **tables) if exclude_outer else ""
    pending_gold = PENDING_SQL.format(gold=f' * (CASE WHEN "{outer}".is_gold = %s THEN 1 ELSE 0 END)', **tables)
    sql = LEFT_FOR_ME_SQL.format(
        ordinary=ordinary,
        mine=MINE_SQL.format(gold="", **tables),
        mine_gold=MINE_SQL.format(gold=" AND s.is_gold = %s", **tables),
        unseen_gold=UNSEEN_GOLD_SQL.format(exclude=exclude.format(alias="s"), **tables),
        pending=pending,
        pending_gold=pending_gold if exclude_outer else "",
        scale=GOLD_RATE_SCALE,
        **tables,
    )
    params: list[object] = [SolutionStatus.OPEN.value, True, False, user_id, now, user_id, LEFT_FOR_ME_CAP + 1]
    params += [user_id, *([user_id] if exclude_outer else [])]  # t
    params += [user_id, True, *([user_id, True] if exclude_outer else [])]  # g
    params += [True, user_id]  # u
    return RawSQL(sql, tuple(params), output_field=IntegerField())


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
