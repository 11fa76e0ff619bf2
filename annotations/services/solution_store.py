"""Store a validated, deduplicated batch of new solutions, their problems and imported final labels.

On PostgreSQL the rows go by `COPY` (psycopg 3): problems into a temporary staging table and from there
by one `INSERT ... SELECT ... ON CONFLICT`, solutions and final labels straight into their tables with
ids drawn beforehand. Should a concurrent batch have stored one of them first, that raises
IntegrityError and the retry stages the solutions too, then skips those rows (`ON CONFLICT DO
NOTHING`). On SQLite one prepared
`INSERT` per table runs for every row (`executemany`: no model instances, no SQL built per row), the
final labels by one `INSERT ... SELECT`. Elsewhere `bulk_create` writes them (also the reference the
other two are tested against). All run inside the caller's transaction; validation, deduplication and
key ordering happen before, in `ingestion`.
"""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import IntegrityError, connection
from django.db.models import Model
from django.utils import timezone

from annotations.models import Dataset, FinalLabel, FinalLabelSource, Problem, Solution
from annotations.segmentation import REFORMAT
from annotations.services.response_input import stored_steps, waits_for_reformat
from annotations.solution_input import SolutionInput

STAGING_PROBLEMS = "prmweb_ingest_problem"
STAGING_SOLUTIONS = "prmweb_ingest_solution"
# Solution columns that differ per row (the others are the same for the whole batch).
SOLUTION_COLUMNS = (
    "external_id",
    "content_hash",
    "steps",
    "num_steps",
    "response",
    "step_offsets",
    "segmentation",
    "status",
    "reformat_status",
    "reformat_queued_at",
    "generator",
    "subset",
    "final_answer",
    "final_answer_correct",
    "imported_label",
    "metadata",
)
# SQLite page cache during a batch (a bound, filled as pages are touched): 10,000 solutions take ~25 MiB.
SQLITE_BATCH_CACHE_KIB = 64 * 1024
NUM_STEPS, STATUS = SOLUTION_COLUMNS.index("num_steps"), SOLUTION_COLUMNS.index("status")
PROBLEM_COLUMNS = ("content_hash", "text", "reference_answer", "reference_solution")
JSON_COLUMNS = {"steps", "step_offsets", "metadata"}
# A problem already stored keeps its text; its blank reference fields take the new ones.
PROBLEM_CONFLICT = """
    ON CONFLICT (dataset_id, content_hash) DO UPDATE SET
        reference_answer = CASE WHEN p.reference_answer = '' THEN EXCLUDED.reference_answer
                                ELSE p.reference_answer END,
        reference_solution = CASE WHEN p.reference_solution = '' THEN EXCLUDED.reference_solution
                                  ELSE p.reference_solution END
    WHERE (p.reference_answer = '' AND EXCLUDED.reference_answer <> '')
       OR (p.reference_solution = '' AND EXCLUDED.reference_solution <> '')
"""


@dataclass(frozen=True)
class NewSolution:
    """One solution to insert: the validated item, its content hash and subset, and its status fields."""

    item: SolutionInput
    content_hash: str
    problem_hash: str
    subset: str
    status_fields: dict[str, Any]


@dataclass(frozen=True)
class InsertedSolution:
    solution_id: int
    external_id: str
    content_hash: str
    status: str


def solutions_insert(
    *, template: Solution, rows: Sequence[NewSolution], skip_stored: bool = False
) -> list[InsertedSolution | None]:
    """Insert the rows (in the given order) and the problems they need; return what each row became.

    `template` holds the values every new solution shares (dataset, `needs_humans`, `ingested_by`, the
    model defaults). A new problem takes its text and reference fields from its first row, whose
    reference fields also fill an existing problem's blank ones. Imported labels become final labels
    (source `imported`). A row that a concurrent batch stored first raises IntegrityError; with
    `skip_stored` (PostgreSQL only, for the retry) it is skipped instead, `None` in its place.
    """
    problems: dict[str, SolutionInput] = {}
    for row in rows:
        problems.setdefault(row.problem_hash, row.item)
    if _uses_copy():
        stored = (_copy_in if skip_stored else _copy_straight)(template, rows, problems)
    elif _uses_executemany():
        stored = _insert_many(template, rows, problems)
    else:
        return list(_bulk_create(template, rows, problems))
    inserted = {(found.external_id, "" if found.external_id else found.content_hash): found for found in stored}
    return [inserted.get((row.item.external_id, "" if row.item.external_id else row.content_hash)) for row in rows]


def stored_solution_keys(
    *, dataset_id: int, external_ids: list[str], content_hashes: list[str]
) -> list[tuple[str, str, int]]:
    """Return (external id, content hash, id) of the dataset's solutions with these external ids, or (those
    without one) these content hashes: one query (on PostgreSQL with two JSON parameters, whatever their size).
    """
    if not external_ids and not content_hashes:
        return []
    if _uses_copy():
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT external_id, content_hash, id FROM {Solution._meta.db_table}
                WHERE dataset_id = %s AND external_id <> ''
                  AND external_id IN (SELECT jsonb_array_elements_text(%s::jsonb))
                UNION ALL
                SELECT external_id, content_hash, id FROM {Solution._meta.db_table}
                WHERE dataset_id = %s AND external_id = ''
                  AND content_hash IN (SELECT jsonb_array_elements_text(%s::jsonb))
                """,
                # JSON text: one parameter each, encoded in C (a Python list is quoted element by element)
                [dataset_id, json.dumps(external_ids), dataset_id, json.dumps(content_hashes)],
            )
            return list(cursor.fetchall())
    rows = Solution.objects.none().values_list("external_id", "content_hash", "id")
    if external_ids:
        rows = rows.union(
            Solution.objects.filter(dataset_id=dataset_id, external_id__in=external_ids).values_list(
                "external_id", "content_hash", "id"
            )
        )
    if content_hashes:
        rows = rows.union(
            Solution.objects.filter(dataset_id=dataset_id, external_id="", content_hash__in=content_hashes).values_list(
                "external_id", "content_hash", "id"
            )
        )
    return list(rows)


def _uses_copy() -> bool:
    return connection.vendor == "postgresql"


def _uses_executemany() -> bool:
    return connection.vendor == "sqlite"


def _copy_in(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    now, status = timezone.now(), _default_status()
    with connection.cursor() as cursor:
        _stage(cursor, STAGING_PROBLEMS, _staging_columns(Problem, PROBLEM_COLUMNS), _problem_rows(problems))
        _stage(
            cursor,
            STAGING_SOLUTIONS,
            [("ord", "integer"), ("problem_hash", "varchar(64)"), *_staging_columns(Solution, SOLUTION_COLUMNS)],
            ([ordinal, row.problem_hash, *_solution_values(row, status)] for ordinal, row in enumerate(rows)),
        )
        cursor.execute(*_problems_insert(template.dataset_id, now))
        cursor.execute(*_solutions_insert(template, now))
        return [InsertedSolution(*values) for values in cursor.fetchall()]


def _copy_straight(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    """COPY the solutions and their final labels into their tables, with ids drawn first and the problems' ids."""
    now, status = timezone.now(), _default_status()
    table = Solution._meta.db_table
    with connection.cursor() as cursor:
        _stage(cursor, STAGING_PROBLEMS, _staging_columns(Problem, PROBLEM_COLUMNS), _problem_rows(problems))
        cursor.execute(*_problems_insert(template.dataset_id, now))
        cursor.execute(
            f"SELECT s.content_hash, p.id FROM {STAGING_PROBLEMS} s JOIN {Problem._meta.db_table} p"
            " ON p.dataset_id = %s AND p.content_hash = s.content_hash",
            [template.dataset_id],
        )
        problem_ids = dict(cursor.fetchall())
        if len(problem_ids) < len(problems):
            raise IntegrityError("a problem of the batch vanished meanwhile")
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = sorted(solution_id for (solution_id,) in cursor.fetchall())  # in key order, as the retry's INSERT
        shared = _shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
        label_shared = _label_shared(now)
        values = [_solution_values(row, status) for row in rows]
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


def _solution_values(row: NewSolution, default_status: str) -> list[Any]:
    """Return the row's values of SOLUTION_COLUMNS, in that order, as the database stores them (JSON as text)."""
    item = row.item
    waiting = item.response is not None and item.segmentation == REFORMAT  # stored without steps: see stored_steps
    status = row.status_fields
    queued_at = status.get("reformat_queued_at")
    return [
        item.external_id,
        row.content_hash,
        "[]" if waiting else json.dumps(item.steps),
        0 if waiting else len(item.steps),
        item.response or "",
        "[]" if waiting or not item.step_offsets else json.dumps(item.step_offsets),
        item.segmentation or "",
        _plain(status.get("status", default_status)),
        _plain(status.get("reformat_status", "")),
        None if queued_at is None else connection.ops.adapt_datetimefield_value(queued_at),
        item.generator,
        row.subset,
        item.final_answer,
        item.final_answer_correct,
        item.label,
        json.dumps(item.metadata) if item.metadata else "{}",
    ]


def _default_status() -> str:
    return str(_plain(Solution._meta.get_field("status").get_default()))


def _plain(value: Any) -> Any:
    """Return a choice (an Enum) as its value, which is what the column stores."""
    return value.value if isinstance(value, Enum) else value


def _shared_values(instance: Model, varying: set[str], now: datetime) -> list[tuple[str, Any]]:
    """Return (column, database value) of every field not in `varying`, as a new row of `instance` stores it."""
    shared = []
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.attname in varying:
            continue
        auto_now = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        value = field.get_db_prep_save(now if auto_now else getattr(instance, field.attname), connection)
        shared.append((str(field.column), _plain(value)))
    return shared


def _problems_insert(dataset_id: int, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of missing problems that also fills an existing problem's blank reference fields."""
    shared = _shared_values(Problem(dataset_id=dataset_id), set(PROBLEM_COLUMNS), now)
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
    shared = _shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
    label_shared = _label_shared(now)
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


def _insert_many(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    """Insert by prepared statements (SQLite): problems upserted, then solutions and their imported labels.

    The new solutions are those with an id above the largest before the insert: SQLite ids only grow
    (`AUTOINCREMENT`), and no other connection writes until this transaction ends.
    """
    now, status = timezone.now(), _default_status()
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
            solutions_sql, [[dataset_id, row.problem_hash, *_solution_values(row, status), *shared] for row in rows]
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
    shared = _shared_values(Problem(dataset_id=dataset_id), set(PROBLEM_COLUMNS), now)
    columns = ", ".join([*PROBLEM_COLUMNS, *(column for column, _ in shared)])
    placeholders = ", ".join(["%s"] * (len(PROBLEM_COLUMNS) + len(shared)))
    sql = f"INSERT INTO {Problem._meta.db_table} AS p ({columns}) VALUES ({placeholders}) {PROBLEM_CONFLICT}"
    return sql, [value for _, value in shared]


def _solution_values_insert(template: Solution, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of one solution (parameters: dataset id and problem hash, SOLUTION_COLUMNS, shared)."""
    shared = _shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
    columns = ", ".join(["problem_id", *SOLUTION_COLUMNS, *(column for column, _ in shared)])
    placeholders = ", ".join(["%s"] * (len(SOLUTION_COLUMNS) + len(shared)))
    problem_id = f"SELECT id FROM {Problem._meta.db_table} WHERE dataset_id = %s AND content_hash = %s"
    sql = f"INSERT INTO {Solution._meta.db_table} ({columns}) VALUES (({problem_id}), {placeholders})"
    return sql, [value for _, value in shared]


def _label_shared(now: datetime) -> list[tuple[str, Any]]:
    """Return (column, value) of an imported final label's columns but its solution, label and step count."""
    return _shared_values(FinalLabel(source=FinalLabelSource.IMPORTED), {"solution_id", "label", "step_count"}, now)


def _labels_insert_after(last_id: int, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of the final labels imported with the solutions whose id is above `last_id`."""
    shared = _label_shared(now)
    columns = ", ".join(["solution_id", "label", "step_count", *(column for column, _ in shared)])
    sql = f"""
        INSERT INTO {FinalLabel._meta.db_table} ({columns})
        SELECT id, imported_label, num_steps, {", ".join(["%s"] * len(shared))}
        FROM {Solution._meta.db_table} WHERE id > %s AND imported_label IS NOT NULL ORDER BY id
    """
    return sql, [*(value for _, value in shared), last_id]


def _bulk_create(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    by_hash = _problems_for(template.dataset, problems)
    shared = {
        field.attname: getattr(template, field.attname)
        for field in Solution._meta.concrete_fields
        if not field.primary_key and field.attname not in {*SOLUTION_COLUMNS, "problem_id"}
    }
    solutions = []
    for row in rows:
        item = row.item
        steps = stored_steps(item)
        solutions.append(
            Solution(
                **shared,
                problem=by_hash[row.problem_hash],
                external_id=item.external_id,
                content_hash=row.content_hash,
                steps=steps,
                num_steps=len(steps),
                response=item.response or "",
                step_offsets=[] if waits_for_reformat(item) else [list(pair) for pair in item.step_offsets or []],
                segmentation=item.segmentation or "",
                **row.status_fields,
                generator=item.generator,
                subset=row.subset,
                final_answer=item.final_answer,
                final_answer_correct=item.final_answer_correct,
                imported_label=item.label,
                metadata=item.metadata,
            )
        )
    created = Solution.objects.bulk_create(solutions)
    final_labels = [
        FinalLabel(
            solution=solution,
            label=solution.imported_label,
            step_count=solution.num_steps,
            source=FinalLabelSource.IMPORTED,
        )
        for solution in created
        if solution.imported_label is not None
    ]
    if final_labels:
        FinalLabel.objects.bulk_create(final_labels)
    return [
        InsertedSolution(solution.pk, solution.external_id, solution.content_hash, solution.status)
        for solution in created
    ]


def _problems_for(dataset: Dataset, wanted: dict[str, SolutionInput]) -> dict[str, Problem]:
    """Return problems by text hash, creating missing ones and filling blank reference fields."""
    found = {p.content_hash: p for p in Problem.objects.filter(dataset=dataset, content_hash__in=list(wanted))}
    missing = [
        Problem(
            dataset=dataset,
            text=item.problem,
            reference_answer=item.reference_answer,
            reference_solution=item.reference_solution,
            content_hash=digest,
        )
        for digest, item in sorted(wanted.items())
        if digest not in found
    ]
    if missing:
        # ON CONFLICT DO UPDATE returns the id of a problem a concurrent batch inserted meanwhile.
        created = Problem.objects.bulk_create(
            missing, update_conflicts=True, unique_fields=["dataset", "content_hash"], update_fields=["text"]
        )
        found.update({problem.content_hash: problem for problem in created})
    to_update = []
    for digest, problem in sorted(found.items()):
        item = wanted[digest]
        if (not problem.reference_answer and item.reference_answer) or (
            not problem.reference_solution and item.reference_solution
        ):
            problem.reference_answer = problem.reference_answer or item.reference_answer
            problem.reference_solution = problem.reference_solution or item.reference_solution
            to_update.append(problem)
    if to_update:
        Problem.objects.bulk_update(to_update, ["reference_answer", "reference_solution"])
    return found
