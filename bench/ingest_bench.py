"""Bulk REST ingestion next to the physical limit: a bare COPY (PostgreSQL) or bulk_create (SQLite).

    python bench/ingest_bench.py --solutions 10000 [--batch 10000] [--rounds 3] [--no-old]

Posts the solutions through the whole Django stack (middleware, token auth, strict JSON parser,
validation, deduplication, the ingestion service) with the test client, `--batch` per request. Next
to it, in the same run and alternating which goes first:

- PostgreSQL: a bare `COPY` of the same Problem, Solution and FinalLabel rows (their column values,
  ids and hashes computed beforehand) into same-shaped tables (`CREATE TABLE ... (LIKE ... INCLUDING
  ALL)`: the same columns, defaults, checks and indexes), in one transaction: what the hardware allows.
  Also the old store (`bulk_create`, as before COPY) through the same REST path (skip with `--no-old`).
- SQLite: a bare `bulk_create` of the same rows into a second dataset, batch by batch (Django's own bulk
  write; the REST path writes by `executemany` and comes in under it).

Prints medians of the rounds, per solution, and the ratios of the medians. The final-answer check and
the scoring hook run after the commit. In the embedded default they would run inline (no broker: eager
Celery); here Celery is switched to non-eager with an in-memory broker, so they are enqueued, not run,
and are not part of the figure. Uses whatever DATABASE_URL points to (the database must be migrated);
it creates the datasets `bench-ingest` and `bench-ingest-bare` and a user `bench-ingest`, and deletes
their rows (and the bare COPY tables) before each round and at the end.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH_SLUG = "bench-ingest"
STEP_TEXT = (
    "We substitute the values into the expression and simplify: \\(3x + 2 = 17\\) gives \\(3x = 15\\), "
    "so \\(x = 5\\). Checking, \\(3 \\cdot 5 + 2 = 17\\), which matches the equation in the problem."
)


@dataclass(frozen=True)
class BenchResult:
    database: str
    solutions: int
    batch: int
    rounds: int
    rest_seconds: float
    bare_seconds: float  # bare COPY (PostgreSQL) or bare bulk_create (SQLite)
    old_seconds: float | None = None  # REST with the old bulk_create store (PostgreSQL only)

    @property
    def bare_name(self) -> str:
        return "bare COPY" if self.database == "postgresql" else "bare bulk_create"

    @property
    def ratio(self) -> float:
        """REST time over the bare write (on PostgreSQL 1.0 would be the physical limit)."""
        return self.rest_seconds / self.bare_seconds

    def report(self) -> str:
        per = 1e6 / self.solutions
        lines = [
            f"ingest bench ({self.database}): {self.solutions} solutions, {self.batch} per request, "
            f"median of {self.rounds} rounds",
            "answer check and scoring hook: enqueued to an in-memory broker after commit, not run inline",
            f"REST bulk ingestion : {self.rest_seconds:8.3f} s  ({self.rest_seconds * per:7.1f} us/solution, "
            f"{self.solutions / self.rest_seconds:8.0f} solutions/s)",
            f"{self.bare_name:<20}: {self.bare_seconds:8.3f} s  ({self.bare_seconds * per:7.1f} us/solution; "
            "same Problem, Solution, FinalLabel rows)",
        ]
        if self.old_seconds is not None:
            lines.append(
                f"REST, old store     : {self.old_seconds:8.3f} s  ({self.old_seconds * per:7.1f} us/solution; "
                "bulk_create instead of COPY)"
            )
        meaning = "1.0 would be the physical limit" if self.database == "postgresql" else "below 1.0: faster"
        lines.append(f"{'REST / ' + self.bare_name:<23}: {self.ratio:8.2f}x  ({meaning})")
        if self.old_seconds is not None:
            lines.append(f"{'old store / REST':<23}: {self.old_seconds / self.rest_seconds:8.2f}x  (speed-up)")
        return "\n".join(lines)


def make_payload(count: int) -> list[dict[str, Any]]:
    """Return `count` ProcessBench-like solutions: 8 steps, two solutions per problem, all labelled."""
    payload = []
    for index in range(count):
        steps = [f"Step {step + 1} of solution {index}. {STEP_TEXT}" for step in range(8)]
        payload.append(
            {
                "id": f"bench-{index}",
                "generator": "Qwen2-7B-Instruct",
                "problem": f"Problem {index // 2}: solve \\(3x + 2 = 17\\) for \\(x\\), then report \\(x^2\\).",
                "steps": steps,
                "final_answer_correct": index % 3 != 0,
                "label": -1 if index % 3 else index % 8,
            }
        )
    return payload


def _setup() -> tuple[Any, Any]:
    """Return (dataset, API client with a token) for the bench user, as staff."""
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from annotations.models import Dataset

    user, _ = get_user_model().objects.get_or_create(username=BENCH_SLUG, defaults={"is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    dataset, _ = Dataset.objects.get_or_create(slug=BENCH_SLUG, defaults={"name": "Ingestion benchmark"})
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return dataset, client


def _bare_dataset() -> Any:
    from annotations.models import Dataset

    dataset, _ = Dataset.objects.get_or_create(
        slug=f"{BENCH_SLUG}-bare", defaults={"name": "Ingestion benchmark (bare)"}
    )
    return dataset


def _flush(dataset: Any) -> None:
    from annotations.models import Problem

    Problem.objects.filter(dataset=dataset).delete()  # cascades to solutions and their labels


def _post_batch(client: Any, dataset: Any, body: bytes) -> float:
    """POST one batch through the API; return its seconds."""
    url = f"/api/v1/datasets/{dataset.slug}/solutions/"
    started = time.perf_counter()
    response = client.post(url, data=body, content_type="application/json")
    seconds = time.perf_counter() - started
    if response.status_code != 201:
        raise RuntimeError(f"ingestion answered {response.status_code}: {response.content[:300]!r}")
    return seconds


def _bare_rows(dataset: Any, batch: list[dict[str, Any]]) -> tuple[list[Any], Callable[[], None]]:
    """Return prepared Problem rows and a function that bulk-creates them with their solutions and labels."""
    from django.db import transaction

    from annotations.models import FinalLabel, FinalLabelSource, Problem, Solution
    from annotations.services.ingestion import content_hash, problem_hash

    problems = {problem_hash(r["problem"]): r["problem"] for r in batch}
    rows = [(problem_hash(r["problem"]), r, content_hash(r["problem"], r["steps"])) for r in batch]

    def store() -> None:
        with transaction.atomic():
            created = Problem.objects.bulk_create(
                [Problem(dataset=dataset, text=text, content_hash=digest) for digest, text in problems.items()]
            )
            by_hash = {problem.content_hash: problem for problem in created}
            solutions = Solution.objects.bulk_create(
                [
                    Solution(
                        dataset=dataset,
                        problem=by_hash[p_hash],
                        external_id=r["id"],
                        content_hash=digest,
                        steps=r["steps"],
                        num_steps=len(r["steps"]),
                        generator=r["generator"],
                        final_answer_correct=r["final_answer_correct"],
                        imported_label=r["label"],
                    )
                    for p_hash, r, digest in rows
                ]
            )
            FinalLabel.objects.bulk_create(
                [
                    FinalLabel(solution=s, label=r["label"], step_count=s.num_steps, source=FinalLabelSource.IMPORTED)
                    for s, (_, r, _) in zip(solutions, rows, strict=True)
                ]
            )

    return list(problems), store


def _timed(store: Callable[[], None]) -> float:
    started = time.perf_counter()
    store()
    return time.perf_counter() - started


BARE_TABLES = ("annotations_problem", "annotations_solution", "annotations_finallabel")


def _table_rows(model: Any, now: Any) -> tuple[str, Callable[..., tuple[Any, ...]]]:
    """Return (column list, row maker) for a model: given values by attname, the model's defaults elsewhere."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    template = model()
    defaults = {}
    for field in fields:
        value = now if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False) else None
        if value is None:
            value = field.get_db_prep_save(getattr(template, field.attname), connection)
        defaults[field.attname] = getattr(value, "value", value)  # a choice's value
        if isinstance(getattr(template, field.attname), dict | list):
            defaults[field.attname] = json.dumps(getattr(template, field.attname))

    def row(**values: Any) -> tuple[Any, ...]:
        return tuple(values[field.attname] if field.attname in values else defaults[field.attname] for field in fields)

    return ", ".join(field.column for field in fields), row


def _bare_copy(payload: list[dict[str, Any]]) -> Callable[[], None]:
    """Return a function that COPYs the payload's rows into fresh same-shaped tables in one transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    from annotations.models import FinalLabel, Problem, Solution
    from annotations.services.ingestion import content_hash, problem_hash

    now = timezone.now()
    shapes = {model._meta.db_table: _table_rows(model, now) for model in (Problem, Solution, FinalLabel)}
    problem_row, solution_row, label_row = (shapes[table][1] for table in BARE_TABLES)
    problem_ids: dict[str, int] = {}
    rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in BARE_TABLES}
    for index, record in enumerate(payload, start=1):
        digest = problem_hash(record["problem"])
        if digest not in problem_ids:
            problem_ids[digest] = len(problem_ids) + 1
            rows["annotations_problem"].append(
                problem_row(id=problem_ids[digest], dataset_id=0, text=record["problem"], content_hash=digest)
            )
        rows["annotations_solution"].append(
            solution_row(
                id=index,
                dataset_id=0,
                problem_id=problem_ids[digest],
                external_id=record["id"],
                content_hash=content_hash(record["problem"], record["steps"]),
                steps=json.dumps(record["steps"]),
                num_steps=len(record["steps"]),
                generator=record["generator"],
                final_answer_correct=record["final_answer_correct"],
                imported_label=record["label"],
            )
        )
        rows["annotations_finallabel"].append(
            label_row(
                id=index, solution_id=index, label=record["label"], step_count=len(record["steps"]), source="imported"
            )
        )

    def store() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for table in BARE_TABLES:
                columns = shapes[table][0]
                with cursor.connection.cursor() as raw, raw.copy(f"COPY bench_{table} ({columns}) FROM STDIN") as copy:
                    for row in rows[table]:
                        copy.write_row(row)

    return store


def _reset_bare_tables() -> None:
    """(Re)create the empty same-shaped tables for the bare COPY."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in BARE_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")
            cursor.execute(f"CREATE TABLE bench_{table} (LIKE {table} INCLUDING ALL)")


def _drop_bare_tables() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in BARE_TABLES:
            cursor.execute(f"DROP TABLE IF EXISTS bench_{table}")


@contextmanager
def _old_store() -> Iterator[None]:
    """Store with bulk_create, as before COPY (the old figure, measured in the same run)."""
    from annotations.services import solution_store

    saved = solution_store._uses_copy
    solution_store._uses_copy = lambda: False
    try:
        yield
    finally:
        solution_store._uses_copy = saved


def _rest(client: Any, dataset: Any, bodies: list[bytes]) -> float:
    _flush(dataset)
    return sum(_post_batch(client, dataset, body) for body in bodies)


def _round_postgresql(
    client: Any, dataset: Any, payload: list[dict[str, Any]], bodies: list[bytes], first: int, old: bool
) -> tuple[float, float, float | None]:
    """Time REST, the bare COPY and (with `old`) REST on the old store, in a rotating order."""
    store = _bare_copy(payload)  # column values prepared outside the timing

    def bare() -> float:
        _reset_bare_tables()
        return _timed(store)

    def old_rest() -> float | None:
        if not old:
            return None
        with _old_store():
            return _rest(client, dataset, bodies)

    runs: list[Callable[[], Any]] = [lambda: _rest(client, dataset, bodies), bare, old_rest]
    order = [(first + shift) % len(runs) for shift in range(len(runs))]
    results: dict[int, Any] = {}
    for position in order:
        results[position] = runs[position]()
    return results[0], results[1], results[2]


def _round_sqlite(
    client: Any, datasets: tuple[Any, Any], batches: list[list[dict[str, Any]]], bodies: list[bytes]
) -> tuple[float, float, None]:
    """Ingest every batch both ways, alternating which goes first, into two emptied datasets."""
    rest_dataset, bare_dataset = datasets
    _flush(rest_dataset)
    _flush(bare_dataset)
    stores = [_bare_rows(bare_dataset, batch)[1] for batch in batches]  # column values prepared outside the timing
    rest = bare = 0.0
    for index, (body, store) in enumerate(zip(bodies, stores, strict=True)):
        if index % 2:
            bare += _timed(store)
            rest += _post_batch(client, rest_dataset, body)
        else:
            rest += _post_batch(client, rest_dataset, body)
            bare += _timed(store)
    return rest, bare, None


def run_bench(*, solutions: int, batch: int = 10_000, rounds: int = 3, old: bool = True) -> BenchResult:
    """Time REST ingestion and the bare write of `solutions` rows; return the medians (Django set up)."""
    from django.db import connection

    from prmweb.celery import app as celery_app

    saved = {"task_always_eager": celery_app.conf.task_always_eager, "broker_url": celery_app.conf.broker_url}
    celery_app.conf.update(task_always_eager=False, broker_url="memory://")
    rest_dataset, client = _setup()
    bare_dataset = _bare_dataset()
    payload = make_payload(solutions)
    batches = [payload[start : start + batch] for start in range(0, solutions, batch)]
    bodies = [json.dumps(chunk).encode() for chunk in batches]
    postgresql = connection.vendor == "postgresql"
    timings = []
    try:
        _post_batch(client, rest_dataset, json.dumps(make_payload(2)).encode())  # warm up: imports, URL conf
        for index in range(rounds):
            if postgresql:
                timings.append(_round_postgresql(client, rest_dataset, payload, bodies, index, old))
            else:
                timings.append(_round_sqlite(client, (rest_dataset, bare_dataset), batches, bodies))
    finally:
        _flush(rest_dataset)
        _flush(bare_dataset)
        if postgresql:
            _drop_bare_tables()
        celery_app.conf.update(saved)
    olds = [old_seconds for _, _, old_seconds in timings if old_seconds is not None]
    return BenchResult(
        database=connection.vendor,
        solutions=solutions,
        batch=batch,
        rounds=rounds,
        rest_seconds=statistics.median(rest for rest, _, _ in timings),
        bare_seconds=statistics.median(bare for _, bare, _ in timings),
        old_seconds=statistics.median(olds) if olds else None,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=10_000, help="solutions per request (at most 10,000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-old", action="store_true", help="PostgreSQL: skip REST with the old bulk_create store")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")
    import django

    django.setup()
    from django.db import DatabaseError

    try:
        result = run_bench(solutions=args.solutions, batch=args.batch, rounds=args.rounds, old=not args.no_old)
    except DatabaseError as error:
        print(f"the database is not ready ({error}); run `python manage.py migrate` first", file=sys.stderr)
        return 1
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
