"""SQLite: one prepared INSERT per table, run for every row (executemany), in a page cache that holds the batch."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from annotations.models import FinalLabel, Problem, Solution
from annotations.services.solution_store.rows import (
    PROBLEM_COLUMNS,
    PROBLEM_CONFLICT,
    SOLUTION_COLUMNS,
    InsertedSolution,
    NewSolution,
    default_status,
    label_shared_values,
    shared_values,
    solution_values,
)
from annotations.solution_input import SolutionInput

# SQLite page cache during a batch (a bound, filled as pages are touched): 10,000 solutions take ~25 MiB.
SQLITE_BATCH_CACHE_KIB = 64 * 1024


def insert_many(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    """Insert by prepared statements (SQLite): problems upserted, then solutions and their imported labels.

    The new solutions are those with an id above the largest before the insert: SQLite ids only grow
    (`AUTOINCREMENT`), and no other connection writes until this transaction ends.
    """
    now, status = timezone.now(), default_status()
    problems_sql, problem_shared = _problem_upsert(template.dataset_id, now)
    solutions_sql, shared = _solution_values_insert(template, now)
    table = Solution._meta.db_table
    with connection.cursor() as cursor, _page_cache(cursor, SQLITE_BATCH_CACHE_KIB):
        cursor.executemany(
            problems_sql,
            [
                [digest, item.problem, item.reference_answer, item.reference_solution, *problem_shared]
                for digest, item in sorted(problems.items())
            ],
        )
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        (last_id,) = cursor.fetchone()
        dataset_id = template.dataset_id
        cursor.executemany(
            solutions_sql, [[dataset_id, row.problem_hash, *solution_values(row, status), *shared] for row in rows]
        )
        cursor.execute(*_labels_insert_after(last_id, now))
        cursor.execute(
            f"SELECT id, external_id, content_hash, status FROM {table} WHERE id > %s ORDER BY id", [last_id]
        )
        return [InsertedSolution(*values) for values in cursor.fetchall()]


@contextmanager
def _page_cache(cursor: Any, kibibytes: int) -> Iterator[None]:
    """Let SQLite's page cache hold `kibibytes` inside the block, then set it back.

    With the default 2 MiB a batch's pages spill to the file before the commit, and each spill first
    syncs the journal; with room for them the commit writes them once. Durability is unchanged.
    """
    cursor.execute("PRAGMA cache_size")
    (before,) = cursor.fetchone()
    cursor.execute(f"PRAGMA cache_size = {-int(kibibytes)}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}")


def _problem_upsert(dataset_id: int, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of one problem (parameters: PROBLEM_COLUMNS, then the returned shared values)."""
    shared = shared_values(Problem(dataset_id=dataset_id), set(PROBLEM_COLUMNS), now)
    columns = ", ".join([*PROBLEM_COLUMNS, *(column for column, _ in shared)])
    placeholders = ", ".join(["%s"] * (len(PROBLEM_COLUMNS) + len(shared)))
    sql = f"INSERT INTO {Problem._meta.db_table} AS p ({columns}) VALUES ({placeholders}) {PROBLEM_CONFLICT}"
    return sql, [value for _, value in shared]


def _solution_values_insert(template: Solution, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of one solution (parameters: dataset id and problem hash, SOLUTION_COLUMNS, shared)."""
    shared = shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
    columns = ", ".join(["problem_id", *SOLUTION_COLUMNS, *(column for column, _ in shared)])
    placeholders = ", ".join(["%s"] * (len(SOLUTION_COLUMNS) + len(shared)))
    problem_id = f"SELECT id FROM {Problem._meta.db_table} WHERE dataset_id = %s AND content_hash = %s"
    sql = f"INSERT INTO {Solution._meta.db_table} ({columns}) VALUES (({problem_id}), {placeholders})"
    return sql, [value for _, value in shared]


def _labels_insert_after(last_id: int, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of the final labels imported with the solutions whose id is above `last_id`."""
    shared = label_shared_values(now)
    columns = ", ".join(["solution_id", "label", "step_count", *(column for column, _ in shared)])
    sql = f"""
        INSERT INTO {FinalLabel._meta.db_table} ({columns})
        SELECT id, imported_label, num_steps, {", ".join(["%s"] * len(shared))}
        FROM {Solution._meta.db_table} WHERE id > %s AND imported_label IS NOT NULL ORDER BY id
    """
    return sql, [*(value for _, value in shared), last_id]
