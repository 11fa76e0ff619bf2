"""Store a validated, deduplicated batch of new solutions, their problems and imported final labels.

On PostgreSQL (`postgres`) the new problems, solutions and final labels go by `COPY` (psycopg 3)
straight into their tables, with ids drawn beforehand (the problems already stored are read first).
Should a concurrent batch have stored one of them first, that raises IntegrityError and the retry
goes through temporary staging tables and `INSERT ... SELECT ... ON CONFLICT`, which skips those rows.
On SQLite (`sqlite`) one prepared `INSERT` per table runs for every row (`executemany`: no model
instances, no SQL built per row), the final labels by one `INSERT ... SELECT`. Elsewhere (`orm`)
`bulk_create` writes them, the reference the other two are tested against. All run inside the
caller's transaction; validation, deduplication and key ordering happen before, in `ingestion`.
"""

import json
from collections.abc import Sequence

from django.db import connection

from annotations.models import Solution
from annotations.services.solution_store.orm import bulk_create as _bulk_create
from annotations.services.solution_store.postgres import copy_in as _copy_in
from annotations.services.solution_store.postgres import copy_straight as _copy_straight
from annotations.services.solution_store.rows import InsertedSolution, NewSolution
from annotations.services.solution_store.sqlite import insert_many as _insert_many
from annotations.solution_input import SolutionInput

__all__ = ["InsertedSolution", "NewSolution", "solutions_insert", "stored_solution_keys"]


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
