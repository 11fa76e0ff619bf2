"""Bulk REST ingestion vs a bare `bulk_create` of the same rows.

    python bench/ingest_bench.py --solutions 2000 [--batch 1000] [--rounds 3]

Posts the solutions through the whole Django stack (middleware, token auth, strict JSON parser,
validation, deduplication, the ingestion service) with the test client, `--batch` per request, and
times a bare `bulk_create` of the same Problem, Solution and FinalLabel rows (their column values,
hashes included, computed beforehand) into a second dataset, batch by batch, alternating which goes
first. Prints both (medians of the rounds), per solution, and the ratio (target: <= 2x).

The final-answer check and the scoring hook run after the commit. In the embedded default they would
run inline (no broker: eager Celery); here Celery is switched to non-eager with an in-memory broker, so
they are enqueued, not run, and are not part of the figure. Uses whatever DATABASE_URL points to (the
database must be migrated); it creates the datasets `bench-ingest` and `bench-ingest-bare` and a user
`bench-ingest`, and deletes those datasets' rows before each round and at the end.
"""

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
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
    solutions: int
    batch: int
    rounds: int
    rest_seconds: float
    bulk_create_seconds: float
    ratio: float  # median of the rounds' REST / bulk_create ratios

    def report(self) -> str:
        per = 1e6 / self.solutions
        return "\n".join(
            [
                f"ingest bench: {self.solutions} solutions, {self.batch} per request, median of {self.rounds} rounds",
                "answer check and scoring hook: enqueued to an in-memory broker after commit, not run inline",
                f"REST bulk ingestion : {self.rest_seconds:8.3f} s  ({self.rest_seconds * per:7.1f} us/solution)",
                f"bare bulk_create    : {self.bulk_create_seconds:8.3f} s  "
                f"({self.bulk_create_seconds * per:7.1f} us/solution; same Problem, Solution, FinalLabel rows)",
                f"ratio               : {self.ratio:8.2f}x  (median of the rounds; target <= 2x)",
            ]
        )


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


def _round(
    client: Any, datasets: tuple[Any, Any], batches: list[list[dict[str, Any]]], bodies: list[bytes]
) -> tuple[float, float]:
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
    return rest, bare


def run_bench(*, solutions: int, batch: int = 1000, rounds: int = 3) -> BenchResult:
    """Time REST ingestion and bare bulk_create of `solutions` rows; return the medians (Django set up).

    Both ways run batch by batch, interleaved, so a busy machine slows both alike.
    """
    from prmweb.celery import app as celery_app

    saved = {"task_always_eager": celery_app.conf.task_always_eager, "broker_url": celery_app.conf.broker_url}
    celery_app.conf.update(task_always_eager=False, broker_url="memory://")
    rest_dataset, client = _setup()
    bare_dataset = _bare_dataset()
    payload = make_payload(solutions)
    batches = [payload[start : start + batch] for start in range(0, solutions, batch)]
    bodies = [json.dumps(chunk).encode() for chunk in batches]
    timings = []
    try:
        timings = [_round(client, (rest_dataset, bare_dataset), batches, bodies) for _ in range(rounds)]
    finally:
        _flush(rest_dataset)
        _flush(bare_dataset)
        celery_app.conf.update(saved)
    return BenchResult(
        solutions=solutions,
        batch=batch,
        rounds=rounds,
        rest_seconds=statistics.median(rest for rest, _ in timings),
        bulk_create_seconds=statistics.median(bare for _, bare in timings),
        ratio=statistics.median(rest / bare for rest, bare in timings),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=1000, help="solutions per request (at most 1000)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")
    import django

    django.setup()
    from django.db import DatabaseError

    try:
        result = run_bench(solutions=args.solutions, batch=args.batch, rounds=args.rounds)
    except DatabaseError as error:
        print(f"the database is not ready ({error}); run `python manage.py migrate` first", file=sys.stderr)
        return 1
    from django.db import connection

    print(f"database: {connection.vendor}")
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
