"""Store a validated, deduplicated batch of new solutions, their problems and imported final labels.

On PostgreSQL the rows go by `COPY` (psycopg 3) into temporary staging tables, then one `INSERT ...
SELECT ... ON CONFLICT` per table writes problems, solutions and final labels. Elsewhere (SQLite)
`bulk_create` writes them, a few statements per batch and none per row. Both run inside the caller's
transaction; validation, deduplication and key ordering happen before, in `ingestion`.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from annotations.models import Dataset, FinalLabel, FinalLabelSource, Problem, Solution
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
PROBLEM_COLUMNS = ("content_hash", "text", "reference_answer", "reference_solution")
JSON_COLUMNS = {"steps", "step_offsets", "metadata"}


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


def solutions_insert(*, template: Solution, rows: Sequence[NewSolution]) -> list[InsertedSolution | None]:
    """Insert the rows (in the given order) and the problems they need; return what each row became.

    `template` holds the values every new solution shares (dataset, `needs_humans`, `ingested_by`, the
    model defaults). A new problem takes its text and reference fields from its first row, whose
    reference fields also fill an existing problem's blank ones. Imported labels become final labels
    (source `imported`). On PostgreSQL a row that a concurrent batch stored first is skipped (`ON
    CONFLICT DO NOTHING`, `None` in its place); elsewhere that raises IntegrityError.
    """
    problems: dict[str, SolutionInput] = {}
    for row in rows:
        problems.setdefault(row.problem_hash, row.item)
    if not _uses_copy():
        return list(_bulk_create(template, rows, problems))
    inserted = {
        (found.external_id, "" if found.external_id else found.content_hash): found
        for found in _copy_in(template, rows, problems)
    }
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


def _copy_in(
    template: Solution, rows: Sequence[NewSolution], problems: dict[str, SolutionInput]
) -> list[InsertedSolution]:
    now = timezone.now()
    with connection.cursor() as cursor:
        _stage(cursor, STAGING_PROBLEMS, _staging_columns(Problem, PROBLEM_COLUMNS), _problem_rows(problems))
        _stage(
            cursor,
            STAGING_SOLUTIONS,
            [("ord", "integer"), ("problem_hash", "varchar(64)"), *_staging_columns(Solution, SOLUTION_COLUMNS)],
            ([ordinal, row.problem_hash, *_solution_values(row)] for ordinal, row in enumerate(rows)),
        )
        cursor.execute(*_problems_insert(template.dataset_id, now))
        cursor.execute(*_solutions_insert(template, now))
        return [InsertedSolution(*values) for values in cursor.fetchall()]


def _staging_columns(model: type[Model], names: Sequence[str]) -> list[tuple[str, str]]:
    fields = {field.attname: field for field in model._meta.concrete_fields}
    return [(str(fields[name].column), str(fields[name].db_type(connection))) for name in names]


def _stage(cursor: Any, table: str, columns: list[tuple[str, str]], rows: Any) -> None:
    """Create (or empty) the session's staging table and COPY the rows into it."""
    definition = ", ".join(f"{name} {kind}" for name, kind in columns)
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({definition}) ON COMMIT DROP")
    cursor.execute(f"TRUNCATE {table}")  # left by an earlier batch of the same transaction
    names = ", ".join(name for name, _ in columns)
    with cursor.connection.cursor() as raw, raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _problem_rows(problems: dict[str, SolutionInput]) -> Any:
    for digest, item in sorted(problems.items()):
        yield (digest, item.problem, item.reference_answer, item.reference_solution)


def _solution_values(row: NewSolution) -> list[Any]:
    item = row.item
    steps = stored_steps(item)
    offsets = [] if waits_for_reformat(item) else [list(pair) for pair in item.step_offsets or []]
    values: dict[str, Any] = {
        "external_id": item.external_id,
        "content_hash": row.content_hash,
        "steps": json.dumps(steps),
        "num_steps": len(steps),
        "response": item.response or "",
        "step_offsets": json.dumps(offsets),
        "segmentation": item.segmentation or "",
        "status": Solution._meta.get_field("status").get_default(),
        "reformat_status": "",
        "reformat_queued_at": None,
        "generator": item.generator,
        "subset": row.subset,
        "final_answer": item.final_answer,
        "final_answer_correct": item.final_answer_correct,
        "imported_label": item.label,
        "metadata": json.dumps(item.metadata),
        **row.status_fields,
    }
    return [_plain(values[name]) for name in SOLUTION_COLUMNS]


def _plain(value: Any) -> Any:
    """Return a choice (an Enum) as its value, which is what the column stores."""
    return value.value if isinstance(value, Enum) else value


def _shared_values(instance: Model, varying: set[str], now: datetime) -> list[tuple[str, Any]]:
    """Return (column, database value) of every field not in `varying`, as a new row of `instance` stores it."""
    shared = []
    for field in instance._meta.concrete_fields:
        if field.primary_key or field.attname in varying:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value: Any = now
        else:
            value = field.get_db_prep_save(getattr(instance, field.attname), connection)
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
        ON CONFLICT (dataset_id, content_hash) DO UPDATE SET
            reference_answer = CASE WHEN p.reference_answer = '' THEN EXCLUDED.reference_answer
                                    ELSE p.reference_answer END,
            reference_solution = CASE WHEN p.reference_solution = '' THEN EXCLUDED.reference_solution
                                      ELSE p.reference_solution END
        WHERE (p.reference_answer = '' AND EXCLUDED.reference_answer <> '')
           OR (p.reference_solution = '' AND EXCLUDED.reference_solution <> '')
    """
    return sql, [value for _, value in shared]


def _solutions_insert(template: Solution, now: datetime) -> tuple[str, list[Any]]:
    """Return the INSERT of the staged solutions (and their imported final labels), returning those inserted."""
    shared = _shared_values(template, {*SOLUTION_COLUMNS, "problem_id"}, now)
    label_shared = _shared_values(
        FinalLabel(source=FinalLabelSource.IMPORTED), {"solution_id", "label", "step_count"}, now
    )
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
