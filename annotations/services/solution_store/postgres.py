"""PostgreSQL: COPY (psycopg 3) straight into the tables, or (the retry) through staging tables and ON CONFLICT."""

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from annotations.models import FinalLabel, Problem, Solution
from annotations.services.solution_store.rows import (
    NUM_STEPS,
    PROBLEM_COLUMNS,
    PROBLEM_CONFLICT,
    SOLUTION_COLUMNS,
    STATUS,
    InsertedSolution,
    NewSolution,
    default_status,
    label_shared_values,
    shared_values,
    solution_values,
)
from annotations.solution_input import SolutionInput

STAGING_PROBLEMS = "prmweb_ingest_problem"
STAGING_SOLUTIONS = "prmweb_ingest_solution"


def copy_in(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    now, status = timezone.now(), default_status()
    with connection.cursor() as cursor:
        _stage(cursor, STAGING_PROBLEMS, _staging_columns(Problem, PROBLEM_COLUMNS), _problem_rows(problems))
        _stage(
            cursor,
            STAGING_SOLUTIONS,
            [("ord", "integer"), ("problem_hash", "varchar(64)"), *_staging_columns(Solution, SOLUTION_COLUMNS)],
            ([ordinal, row.problem_hash, *solution_values(row, status)] for ordinal, row in enumerate(rows)),
        )
        cursor.execute(*_problems_insert(template.dataset_id, now))
        cursor.execute(*_solutions_insert(template, now))
        return [InsertedSolution(*values) for values in cursor.fetchall()]


def copy_straight(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    """COPY the new problems, the solutions and their final labels into their tables, with ids drawn first."""
    now, status = timezone.now(), default_status()
    table = Solution._meta.db_table
    with connection.cursor() as cursor:
        problem_ids = _problem_ids(cursor, template.dataset_id, problems, now)
        ids = _drawn_ids(cursor, table, len(rows))  # in key order, as the retry's INSERT
        shared = shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
        label_shared = label_shared_values(now)
        values = [solution_values(row, status) for row in rows]
        with connection.wrap_database_errors:  # a row stored meanwhile: IntegrityError, as from Django's cursor
            _copy_rows(
                cursor,
                table,
                ["id", "problem_id", *SOLUTION_COLUMNS, *(column for column, _ in shared)],
                (
                    [solution_id, problem_ids[row.problem_hash], *row_values, *(value for _, value in shared)]
                    for solution_id, row, row_values in zip(ids, rows, values, strict=True)
                ),
            )
            _copy_rows(
                cursor,
                FinalLabel._meta.db_table,
                ["solution_id", "label", "step_count", *(column for column, _ in label_shared)],
                (
                    [solution_id, row.item.label, row_values[NUM_STEPS], *(value for _, value in label_shared)]
                    for solution_id, row, row_values in zip(ids, rows, values, strict=True)
                    if row.item.label is not None
                ),
            )
    return [
        InsertedSolution(solution_id, row.item.external_id, row.content_hash, row_values[STATUS])
        for solution_id, row, row_values in zip(ids, rows, values, strict=True)
    ]


def _problem_ids(cursor: Any, dataset_id: int, problems: dict[str, SolutionInput], now: datetime) -> dict[str, int]:
    """Return {text hash: id} of the batch's problems: those stored, and the others COPYed now with drawn ids.

    A stored problem's blank reference fields take the batch's. One a concurrent batch stores meanwhile
    makes the COPY raise IntegrityError (the retry stages them).
    """
    table = Problem._meta.db_table
    cursor.execute(
        f"SELECT content_hash, id, reference_answer, reference_solution FROM {table}"
        " WHERE dataset_id = %s AND content_hash IN (SELECT jsonb_array_elements_text(%s::jsonb))",
        [dataset_id, json.dumps(list(problems))],
    )
    stored = {digest: (problem_id, answer, solution) for digest, problem_id, answer, solution in cursor.fetchall()}
    blanks = [
        [problems[digest].reference_answer, problems[digest].reference_solution, problem_id]
        for digest, (problem_id, answer, solution) in sorted(stored.items())
        if (not answer and problems[digest].reference_answer) or (not solution and problems[digest].reference_solution)
    ]
    if blanks:  # CASE again in SQL: a concurrent batch may have filled one meanwhile
        cursor.executemany(
            f"UPDATE {table} SET"
            " reference_answer = CASE WHEN reference_answer = '' THEN %s ELSE reference_answer END,"
            " reference_solution = CASE WHEN reference_solution = '' THEN %s ELSE reference_solution END"
            " WHERE id = %s",
            blanks,
        )
    missing = sorted(digest for digest in problems if digest not in stored)
    ids = _drawn_ids(cursor, table, len(missing))
    shared = shared_values(Problem(dataset_id=dataset_id), set(PROBLEM_COLUMNS), now)
    with connection.wrap_database_errors:
        _copy_rows(
            cursor,
            table,
            ["id", *PROBLEM_COLUMNS, *(column for column, _ in shared)],
            (
                [problem_id, digest, item.problem, item.reference_answer, item.reference_solution]
                + [value for _, value in shared]
                for problem_id, digest in zip(ids, missing, strict=True)
                for item in (problems[digest],)
            ),
        )
    return {**{digest: found[0] for digest, found in stored.items()}, **dict(zip(missing, ids, strict=True))}


def _drawn_ids(cursor: Any, table: str, count: int) -> list[int]:
    """Return `count` new ids of the table, ascending (drawn from its sequence, as an INSERT would)."""
    if not count:
        return []
    cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
    return sorted(drawn for (drawn,) in cursor.fetchall())


def _copy_rows(cursor: Any, table: str, columns: list[str], rows: Any) -> None:
    with cursor.connection.cursor() as raw, raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _staging_columns(model: type[Model], names: Sequence[str]) -> list[tuple[str, str]]:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return [(str(fields[name].column), str(fields[name].db_type(connection))) for name in names]


def _stage(cursor: Any, table: str, columns: list[tuple[str, str]], rows: Any) -> None:
    """Create (or empty) the session's staging table and COPY the rows into it."""
    definition = ", ".join(f"{name} {kind}" for name, kind in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({definition}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {table}")  # left by an earlier batch of the same transaction
    _copy_rows(cursor, table, [name for name, _ in columns], rows)


def _problem_rows(problems: dict[str, SolutionInput]) -> Any:
    for digest, item in sorted(problems.items()):
        yield (digest, item.problem, item.reference_answer, item.reference_solution)


def _problems_insert(dataset_id: int, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of missing problems that also fills an existing problem's blank reference fields."""
    shared = shared_values(Problem(dataset_id=dataset_id), set(PROBLEM_COLUMNS), now)
    columns = ", ".join([*PROBLEM_COLUMNS, *(column for column, _ in shared)])
    placeholders = ", ".join(["%s"] * len(shared))
    table = Problem._meta.db_table
    sql = f"""
        INSERT INTO {table} AS p ({columns})
        SELECT s.content_hash, s.text, s.reference_answer, s.reference_solution, {placeholders}
        FROM {STAGING_PROBLEMS} s ORDER BY s.content_hash
        {PROBLEM_CONFLICT}
    """
    return sql, [value for _, value in shared]


def _solutions_insert(template: Solution, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of the staged solutions (and their imported final labels), returning those inserted."""
    shared = shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
    label_shared = label_shared_values(now)
    solution_columns = ", ".join(["problem_id", *SOLUTION_COLUMNS, *(column for column, _ in shared)])
    staged = ", ".join(f"s.{column}" for column in SOLUTION_COLUMNS)
    label_columns = ", ".join(["solution_id", "label", "step_count", *(column for column, _ in label_shared)])
    sql = f"""
        WITH inserted AS (
            INSERT INTO {Solution._meta.db_table} ({solution_columns})
            SELECT p.id, {staged}, {", ".join(["%s"] * len(shared))}
            FROM {STAGING_SOLUTIONS} s
            JOIN {Problem._meta.db_table} p ON p.dataset_id = %s AND p.content_hash = s.problem_hash
            ORDER BY s.ord
            ON CONFLICT DO NOTHING
            RETURNING id, external_id, content_hash, status, imported_label, num_steps
        ), labels AS (
            INSERT INTO {FinalLabel._meta.db_table} ({label_columns})
            SELECT i.id, i.imported_label, i.num_steps, {", ".join(["%s"] * len(label_shared))}
            FROM inserted i WHERE i.imported_label IS NOT NULL ORDER BY i.id
        )
        SELECT id, external_id, content_hash, status FROM inserted ORDER BY id
    """
    params = [value for _, value in shared] + [template.dataset_id] + [value for _, value in label_shared]
    return sql, params
