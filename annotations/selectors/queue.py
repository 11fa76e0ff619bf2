"""The ordinary queue: the next solution the queue may hand an annotator, found (and locked) in one statement.

Live claims per solution come from the solution row itself: `claim_count` and `claim_expires_first` are
kept by triggers (migration 0011), recounted from the claim table when a claim is added, a live one is
deleted, or an expiry moves earlier, and left alone when a claim is renewed or an expired one deleted.
So `claim_expires_first` is never later than the true earliest expiry, and while it is still ahead every
counted claim is live. No claims: 0; all live: `claim_count`; otherwise (some expired, or a count left
high by deleting expired ones) the claim table is counted for that row only. Exact without a sweep, and
a row nobody holds costs no look into the claim table.

The queue statement is SQL text (parameters bound by the driver), run as is on PostgreSQL and SQLite:
built and compiled by the ORM, the same query cost several milliseconds of CPU per "next", many times
what the database spends on it (about 0.1 ms through the index `solution_queue_idx`;
`bench/workbench_bench.py` prints both). Gold solutions are served by their own path
(`annotations.selectors.workbench.gold_candidates`).
"""

import datetime
from collections.abc import Sequence
from typing import Any

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import IntegerField
from django.db.models.expressions import RawSQL

from annotations.models import Annotation, Claim, Dataset, Solution, SolutionStatus
from annotations.models.datasets import QueueOrder

SOLUTION_TABLE = Solution._meta.db_table
LIVE_CLAIMS_SQL = """CASE WHEN {row}.claim_count = 0 THEN 0
 WHEN {row}.claim_expires_first > %s THEN {row}.claim_count
 ELSE (SELECT COUNT(*) FROM "{claim}" h WHERE h.solution_id = {row}.id AND h.expires_at > %s) END"""
# "Not annotated by the user" (the outer row's alias as {row}; the user's id bound). Not `NOT EXISTS`:
# PostgreSQL turns that into an anti-join, which on a database without statistics it planned as a scan of
# all the user's annotations per candidate row (quadratic in their work: 18 ms per "next" after 460
# submits). A scalar subquery is never pulled up into a join, so every candidate costs one probe of the
# unique index (solution_id, annotator_id) whatever the statistics; that constraint allows at most one row.
NOT_ANNOTATED_SQL = (
    f'(SELECT m.id FROM "{Annotation._meta.db_table}" m WHERE m.solution_id = {{row}}.id AND m.annotator_id = %s)'
    " IS NULL"
)
QUEUE_SQL = """SELECT {columns} FROM "{solution}" c
 WHERE c.dataset_id = %s AND c.status = %s AND c.needs_humans = %s AND c.is_gold = %s{exclude}
 AND {not_annotated}
 AND c.annotation_count + {live} < CASE WHEN c.annotation_count < %s THEN %s ELSE %s END
 ORDER BY {order} LIMIT 1{lock}"""
ORDER = {QueueOrder.FEWEST_ANNOTATIONS_FIRST: "c.annotation_count, c.id", QueueOrder.OLDEST_FIRST: "c.id"}


def live_claims_expression(*, now: datetime.datetime) -> RawSQL:
    """Return an expression over solutions: the number of unexpired claims on each (the rule above)."""
    sql = LIVE_CLAIMS_SQL.format(row=f'"{SOLUTION_TABLE}"', claim=Claim._meta.db_table)
    return RawSQL(sql, (now, now), output_field=IntegerField())


def live_claims_on_row(solution: Solution, now: datetime.datetime) -> int | None:
    """Return the live claims on a solution as its kept columns tell, or None when only a count can tell.

    The rule above, in Python, for a row just read (under its lock: the latest version).
    """
    if solution.claim_count == 0:
        return 0
    if solution.claim_expires_first is not None and solution.claim_expires_first > now:
        return solution.claim_count
    return None


def queue_statement(
    *, dataset: Dataset, user: User, now: datetime.datetime, exclude_ids: Sequence[int], columns: str, lock: bool
) -> tuple[str, list[Any]]:
    """Return the queue statement and its parameters.

    A prefilter: annotation count plus live claims (the user holds none in the dataset when the queue is
    asked) is below k (`annotations_per_solution`) or, for a solution collecting extra annotators, below
    `max_annotations`; the claim service makes the exact protocol check on the row it locks.
    """
    excluded = list(dict.fromkeys(exclude_ids))
    exclude = f" AND c.id NOT IN ({', '.join(['%s'] * len(excluded))})" if excluded else ""
    skip_locked = lock and connection.features.has_select_for_update_skip_locked
    sql = QUEUE_SQL.format(
        columns=columns,
        solution=SOLUTION_TABLE,
        exclude=exclude,
        not_annotated=NOT_ANNOTATED_SQL.format(row="c"),
        live=LIVE_CLAIMS_SQL.format(row="c", claim=Claim._meta.db_table),
        order=ORDER.get(QueueOrder(dataset.queue_order), ORDER[QueueOrder.OLDEST_FIRST]),
        lock=" FOR UPDATE SKIP LOCKED" if skip_locked else "",
    )
    k = dataset.annotations_per_solution
    params = [dataset.pk, SolutionStatus.OPEN.value, True, False, *excluded, user.pk, now, now, k, k]
    return sql, [*params, dataset.max_annotations]


def queue_candidate_lock(
    *, dataset: Dataset, user: User, now: datetime.datetime, exclude_ids: Sequence[int] = ()
) -> Solution | None:
    """Return the first solution in the dataset's queue order that may still need this user's annotation.

    Only `open` ones (a solution `waiting` for its steps is never a candidate), not gold, not annotated by
    the user, not in `exclude_ids`. On PostgreSQL the row is locked (`FOR UPDATE SKIP LOCKED`: rows other
    claimers hold are passed over); call inside a transaction. One query; None when no row is free.
    """
    sql, params = queue_statement(
        dataset=dataset, user=user, now=now, exclude_ids=exclude_ids, columns="c.*", lock=True
    )
    return next(iter(Solution.objects.raw(sql, params)), None)


def queue_has_candidates(
    *, dataset: Dataset, user: User, now: datetime.datetime, exclude_ids: Sequence[int] = ()
) -> bool:
    """Return whether the queue has a candidate for the user, locked by others or not (one query)."""
    sql, params = queue_statement(dataset=dataset, user=user, now=now, exclude_ids=exclude_ids, columns="1", lock=False)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() is not None
