"""Workbench server time at scale: "next" (claim), the annotation page and submit, with N solutions in the dataset.

    python bench/workbench_bench.py --solutions 100000 [--requests 300] [--annotators 20] [--done 0.5] [--explain]

Creates a scratch database next to the one DATABASE_URL points to (Django's test-database machinery:
`test_<name>`, migrated, dropped at the end), bulk-creates one dataset with N solutions (8 LaTeX steps
each, two solutions per problem, a judge and an MC suggestion per solution; the first `--done` share,
default half, already final with three annotations each, so the queue starts deep in the table), then
lets `--annotators` annotators work through the queue with the Django test client: each round times
GET next (claim + redirect), GET the annotation page, and POST the annotation (which redirects to next).
Every page shows a solution not seen before, so Markdown rendering is never served from its cache.
Prints p50/p95/max wall-clock milliseconds (and this process's CPU milliseconds, which a busy machine
does not inflate) and the SQL statements per request, then the queue's locking query timed in the same
run two ways, with every annotator holding a claim: as served (live claims read from the solution row's
kept `claim_count`) and the baseline that counts each candidate's claims in the claim table, with their
ratio. Targets: submit p95 <= 20 ms and next p95 <= 15 ms at 10,000 solutions; next p95 <= 25 ms at
100,000 on PostgreSQL. The first round of each annotator (connection and template warm-up) is not counted.
"""

import argparse
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_SLUG = "bench-workbench"
EARLIER_ANNOTATORS = ("bench-earlier-1", "bench-earlier-2", "bench-earlier-3")
STEPS_PER_SOLUTION = 8
BATCH = 2000
STEP_TEXT = (
    "We substitute into the equation: \\(3x + 2 = 17\\) gives \\(3x = 15\\), so $x = 5$; "
    "checking, $$3 \\cdot 5 + 2 = 17.$$ The **key** fact is that \\(x_1 + x_2 = 10\\)."
)


@dataclass
class Timings:
    """Milliseconds and query counts of one kind of request."""

    name: str
    milliseconds: list[float] = field(default_factory=list)
    cpu_milliseconds: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)

    @staticmethod
    def percentile(values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    def line(self) -> str:
        queries = sorted(set(self.queries))
        wall, cpu = self.milliseconds, self.cpu_milliseconds
        return (
            f"{self.name:<16} n={len(wall):<5} p50={statistics.median(wall):6.1f} ms  "
            f"p95={self.percentile(wall, 0.95):6.1f} ms  max={max(wall):6.1f} ms  "
            f"(web process CPU p50={statistics.median(cpu):5.1f} p95={self.percentile(cpu, 0.95):5.1f} ms)  "
            f"queries/request={','.join(str(count) for count in queries)}"
        )


@dataclass
class BenchResult:
    solutions: int
    annotators: int
    vendor: str
    setup_seconds: float
    load_average: tuple[float, float]
    next: Timings
    page: Timings
    submit: Timings
    queue_plan: str = ""
    queue_query: tuple[float, float] = (0.0, 0.0)  # median ms: as served, and counting claims per row

    def queue_line(self) -> str:
        served, counted = self.queue_query
        ratio = counted / served if served else 0.0
        return (
            f"queue query p50: {served:.2f} ms reading kept claim counts vs {counted:.2f} ms counting claims per "
            f"row (baseline, same run): {ratio:.1f}x"
        )

    def target_lines(self) -> list[str]:
        next_target = 25.0 if self.solutions > 10_000 else 15.0
        lines = [_target_line("next", Timings.percentile(self.next.milliseconds, 0.95), next_target)]
        if self.solutions <= 10_000:
            lines.append(_target_line("submit", Timings.percentile(self.submit.milliseconds, 0.95), 20.0))
        return [*lines, "target: at most 8 statements per submit (session and user included)"]

    def report(self) -> str:
        plan = [f"queue query plan (EXPLAIN ANALYZE):\n{self.queue_plan}"] if self.queue_plan else []
        return "\n".join(
            [
                f"workbench bench: {self.solutions} solutions, {self.annotators} annotators, database {self.vendor} "
                f"(setup {self.setup_seconds:.1f} s; 1-min load average {self.load_average[0]:.1f} before, "
                f"{self.load_average[1]:.1f} after, on {os.cpu_count()} CPUs)",
                self.next.line(),
                self.page.line(),
                self.submit.line(),
                self.queue_line(),
                *self.target_lines(),
                *plan,
            ]
        )


def _target_line(name: str, p95: float, target: float) -> str:
    verdict = "met" if p95 <= target else "MISSED"
    return f"target: {name} p95 <= {target:g} ms: {p95:.1f} ms, {verdict}"


def _solution_rows(dataset: Any, indexes: range, done: int) -> list[Any]:
    from annotations.models import Problem, Solution, SolutionStatus
    from annotations.services.ingestion import content_hash, problem_hash

    texts = {index // 2: f"Problem {index // 2}: solve \\(3x + 2 = 17\\) and report $x^2$." for index in indexes}
    problems = Problem.objects.bulk_create(
        [Problem(dataset=dataset, text=text, content_hash=problem_hash(text)) for text in texts.values()]
    )
    by_number = dict(zip(texts, problems, strict=True))
    rows = []
    for index in indexes:
        steps = [f"Step {step + 1} of solution {index}. {STEP_TEXT}" for step in range(STEPS_PER_SOLUTION)]
        problem = by_number[index // 2]
        rows.append(
            Solution(
                dataset=dataset,
                problem=problem,
                external_id=f"bench-{index}",
                content_hash=content_hash(problem.text, steps),
                steps=steps,
                num_steps=STEPS_PER_SOLUTION,
                generator="Qwen2-7B-Instruct",
                final_answer_correct=index % 3 != 0,
                status=SolutionStatus.FINAL if index < done else SolutionStatus.OPEN,
                annotation_count=len(EARLIER_ANNOTATORS) if index < done else 0,
            )
        )
    return rows


def _suggestions(solutions: list[Any]) -> list[Any]:
    from annotations.models import Suggestion, SuggestionStatus

    return [
        Suggestion(
            solution=solution,
            method=method,
            model_name=model,
            status=SuggestionStatus.SUCCEEDED,
            label=solution.pk % STEPS_PER_SOLUTION - 1,
            step_count=STEPS_PER_SOLUTION,
            step_scores=[round(1 - step / STEPS_PER_SOLUTION, 3) for step in range(STEPS_PER_SOLUTION)],
            rationale="Step 3 claims $3 \\cdot 5 = 16$, which is wrong." if method == "judge" else "",
        )
        for solution in solutions
        for method, model in (("judge", "Qwen2.5-72B-Instruct"), ("mc", "Qwen2.5-Math-7B-Instruct"))
    ]


def create_dataset(solutions: int, *, done_share: float = 0.5) -> Any:
    """Bulk-create the bench dataset and return it.

    `solutions` solutions with two suggestions each; the first `done_share` of them are final, with one
    annotation from each of three earlier annotators, as in a dataset half way through.
    """
    from django.contrib.auth import get_user_model

    from annotations.models import Annotation, Dataset, Solution, SolutionStatus, Suggestion

    dataset = Dataset.objects.create(
        name="Workbench benchmark", slug=BENCH_SLUG, annotations_per_solution=3, max_annotations=5
    )
    earlier = [get_user_model().objects.create_user(username=name, password=None) for name in EARLIER_ANNOTATORS]
    done = int(solutions * done_share)
    for start in range(0, solutions, BATCH):
        created = Solution.objects.bulk_create(
            _solution_rows(dataset, range(start, min(start + BATCH, solutions)), done)
        )
        Suggestion.objects.bulk_create(_suggestions(created))
        Annotation.objects.bulk_create(
            [
                Annotation(solution=solution, annotator=user, earliest_error_step=-1, step_count=solution.num_steps)
                for solution in created
                if solution.status == SolutionStatus.FINAL
                for user in earlier
            ]
        )
    return dataset


def _annotators(dataset: Any, count: int) -> list[Any]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from annotations.models import DatasetMembership

    clients = []
    for index in range(count):
        user = get_user_model().objects.create_user(username=f"bench-annotator-{index}", password=None)
        DatasetMembership.objects.create(dataset=dataset, user=user)
        client = Client()
        client.force_login(user)
        clients.append(client)
    return clients


def _timed(
    client: Any, method: str, url: str, data: dict[str, str] | None = None
) -> tuple[Any, tuple[float, float], int]:
    """Return the response, (wall, CPU) milliseconds, and the SQL statements the request ran."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    connection.queries_log.clear()  # the log keeps 9,000 entries: a long run would count 0 queries
    with CaptureQueriesContext(connection) as queries:
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(url, data) if method == "POST" else client.get(url)
        elapsed = ((time.perf_counter() - started) * 1000, (time.process_time() - cpu_started) * 1000)
    return response, elapsed, len(queries.captured_queries)


def _round(client: Any, dataset: Any, timings: tuple[Timings, Timings, Timings], *, record: bool) -> None:
    """One annotator's turn: next, the page, and a submit; record the times unless warming up."""
    next_timings, page_timings, submit_timings = timings
    response, elapsed, queries = _timed(client, "GET", f"/datasets/{dataset.slug}/next/")
    if response.status_code != 302:
        raise RuntimeError(f"next answered {response.status_code} (queue empty? use more --solutions)")
    page_url = response.url
    measurements = [(next_timings, elapsed, queries)]
    response, elapsed, queries = _timed(client, "GET", page_url)
    if response.status_code != 200:
        raise RuntimeError(f"the annotation page answered {response.status_code}")
    measurements.append((page_timings, elapsed, queries))
    body = {"earliest_error_step": "2", "rationale": "3 times 5 is 15.", "seconds_spent": "30"}
    response, elapsed, queries = _timed(client, "POST", page_url, body)
    if response.status_code != 302:
        raise RuntimeError(f"submit answered {response.status_code}: {response.content[:300]!r}")
    measurements.append((submit_timings, elapsed, queries))
    if record:
        for timing, (wall, cpu), count in measurements:
            timing.milliseconds.append(wall)
            timing.cpu_milliseconds.append(cpu)
            timing.queries.append(count)


def _queue_plan(dataset: Any) -> str:
    """Return PostgreSQL's EXPLAIN ANALYZE of the locking queue statement for a fresh annotator."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction
    from django.utils import timezone

    from annotations.selectors.queue import queue_statement

    if connection.vendor != "postgresql":
        return ""
    newcomer, _created = get_user_model().objects.get_or_create(username="bench-explain")
    sql, params = queue_statement(
        dataset=dataset, user=newcomer, now=timezone.now(), exclude_ids=(), columns="c.*", lock=True
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN ANALYZE {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _baseline_candidates(*, dataset: Any, user: Any, now: Any) -> Any:
    """Return the queue as it was before this change: an ORM queryset counting each candidate's live claims."""
    from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
    from django.db.models.functions import Coalesce

    from annotations.models import Annotation, Claim, Solution, SolutionStatus

    k = dataset.annotations_per_solution
    mine = Annotation.objects.filter(solution_id=OuterRef("pk"), annotator_id=user.pk)
    claims = Claim.objects.filter(solution_id=OuterRef("pk"), expires_at__gt=now).order_by().values("solution_id")
    live = Coalesce(Subquery(claims.annotate(live=Count("pk")).values("live"), output_field=IntegerField()), Value(0))
    candidates = (
        Solution.objects.filter(dataset=dataset, status=SolutionStatus.OPEN, needs_humans=True, is_gold=False)
        .annotate(held=F("annotation_count") + live)
        .filter(Q(annotation_count__lt=k, held__lt=k) | Q(annotation_count__gte=k, held__lt=dataset.max_annotations))
        .filter(~Exists(mine))
        .order_by("pk")
    )
    return candidates.select_for_update(skip_locked=True, of=("self",)).first()


def _queue_query_milliseconds(dataset: Any, clients: list[Any], repeats: int = 30) -> tuple[float, float]:
    """Return the median ms of finding and locking the queue's next row: as served, and the old baseline.

    Every annotator first takes a claim (so the queue's head holds live claims), then a newcomer asks,
    alternating between the two, each in its own transaction; the times include building the statement.
    """
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from annotations.models import Claim
    from annotations.selectors.queue import queue_candidate_lock

    for client in clients:
        client.get(f"/datasets/{dataset.slug}/next/")
    newcomer, _created = get_user_model().objects.get_or_create(username="bench-queue-newcomer")
    served: list[float] = []
    baseline: list[float] = []
    for _repeat in range(repeats):  # alternating, so both see the same load
        for runs, find in ((served, queue_candidate_lock), (baseline, _baseline_candidates)):
            with transaction.atomic():
                started = time.perf_counter()
                found = find(dataset=dataset, user=newcomer, now=timezone.now())
                runs.append((time.perf_counter() - started) * 1000)
            if found is None:
                raise RuntimeError("the queue is empty: use more --solutions")
    Claim.objects.filter(solution__dataset=dataset).delete()  # leave the dataset as the rounds left it
    return statistics.median(served), statistics.median(baseline)


def run_bench(
    *, solutions: int, requests: int = 300, annotators: int = 20, done_share: float = 0.5, explain: bool = False
) -> BenchResult:
    """Create the data, then time `requests` rounds of next / page / submit (Django set up, database migrated)."""
    from django.db import connection
    from django.test.utils import override_settings

    started = time.perf_counter()
    dataset = create_dataset(solutions, done_share=done_share)
    clients = _annotators(dataset, annotators)
    setup_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # fresh planner statistics, as autovacuum would give a real database
    timings = (Timings("next (claim)"), Timings("annotation page"), Timings("submit"))
    load_before = os.getloadavg()[0]
    with override_settings(DEBUG=False, ALLOWED_HOSTS=["testserver"]):
        for client in clients:  # warm-up: one round per annotator, not counted
            _round(client, dataset, timings, record=False)
        for index in range(requests):
            _round(clients[index % len(clients)], dataset, timings, record=True)
    return BenchResult(
        solutions=solutions,
        annotators=annotators,
        vendor=connection.vendor,
        setup_seconds=setup_seconds,
        load_average=(load_before, os.getloadavg()[0]),
        next=timings[0],
        page=timings[1],
        submit=timings[2],
        queue_plan=_queue_plan(dataset) if explain else "",
        queue_query=_queue_query_milliseconds(dataset, clients),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=300, help="timed rounds of next + page + submit")
    parser.add_argument("--annotators", type=int, default=20)
    parser.add_argument("--done", type=float, default=0.5, help="share of solutions already final (0..1)")
    parser.add_argument("--explain", action="store_true", help="print the queue query's plan (PostgreSQL)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")
    import django

    django.setup()
    from django.test.utils import setup_databases, setup_test_environment, teardown_databases

    setup_test_environment()
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        result = run_bench(
            solutions=args.solutions,
            requests=args.requests,
            annotators=args.annotators,
            done_share=args.done,
            explain=args.explain,
        )
    finally:
        teardown_databases(old_config, verbosity=0)
    print(result.report())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
