"""Export throughput and memory: rows/s and peak RSS at several sizes (memory must stay flat).

    python bench/export_bench.py --rows 10000,100000 [--format trl] [--file-format jsonl] [--keep]
    python bench/export_bench.py --rows 10000,100000 --format critique --critique-source both
    python bench/export_bench.py --rows 10000 --format all

For each size it bulk-creates a dataset `bench-export-<rows>` of that many labelled solutions (8 steps
each, four solutions per problem, a FinalLabel each with a people's explanation and error type; with
`--critique-source judge|both` also one judge suggestion each whose ~2.3 kB critique agrees with the
label), creates an export row and runs it in a fresh
Python process (`--child EXPORT_ID`), so that each size's peak RSS (`VmHWM`) is its own. The child
also samples its RSS every 1000 rows. Prints rows/s, the child's RSS after Django setup, its peak
during the export and the growth between them. `--format all` seeds each size once (with judge
critiques) and runs every format, the critic ones with `--critique-source both`.

No `ANALYZE` runs after seeding: on PostgreSQL the planner sees the tables as a bulk import leaves them
(with autovacuum off or behind, without statistics), which is where a statistics-dependent plan stalls.
Uses whatever DATABASE_URL points to (migrated); deletes the bench datasets and the export folders at
the end unless --keep. Needs only the base install (memory is read from /proc, else `resource`).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEPS_PER_SOLUTION = 8
SOLUTIONS_PER_PROBLEM = 4
BULK_BATCH = 5000
GENERATORS = ("Qwen2-7B-Instruct", "Meta-Llama-3-70B-Instruct", "Qwen2.5-Math-72B-Instruct")
SOURCES = ("unanimous", "majority", "review", "imported")
CRITIQUE_PARAGRAPH = (
    "Paragraph {index} substitutes the values and simplifies; the arithmetic checks out and the step follows "
    "from the previous one, so it is correct. "
)
STEP_TEXT = (
    "We substitute the values into the expression and simplify: \\(3x + 2 = 17\\) gives \\(3x = 15\\), "
    "so \\(x = 5\\). Checking, \\(3 \\cdot 5 + 2 = 17\\), which matches the equation in the problem."
)


@dataclass(frozen=True)
class ExportFigures:
    rows: int
    seconds: float
    rss_after_setup_mb: float
    peak_rss_mb: float
    rss_samples_mb: tuple[float, ...]
    files_bytes: int
    export: str = ""  # format (and critique source) when several run

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        samples = self.rss_samples_mb or (0.0,)
        return (
            f"{self.export:<22}{self.rows:>8} rows  {self.seconds:7.2f} s  {self.rows_per_second:9.0f} rows/s  "
            f"RSS after setup {self.rss_after_setup_mb:6.1f} MB  peak {self.peak_rss_mb:6.1f} MB  "
            f"(+{self.peak_rss_mb - self.rss_after_setup_mb:5.1f} MB; "
            f"sampled {min(samples):.1f}-{max(samples):.1f} MB)  "
            f"files {self.files_bytes / 1e6:7.1f} MB"
        )


def _proc_status_mb(field: str) -> float | None:
    """Return a memory field of /proc/self/status (Linux) in MB, or None where there is no /proc."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024  # kB
    return None


def _rss_mb() -> float:
    """Return this process's resident memory now (VmRSS; without /proc, the peak so far)."""
    current = _proc_status_mb("VmRSS")
    return current if current is not None else _peak_rss_mb()


def _peak_rss_mb() -> float:
    """Return this process's peak RSS: VmHWM on Linux (ru_maxrss would include the parent's, inherited at fork)."""
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux and BSD report KiB


def _slug(rows: int) -> str:
    return f"bench-export-{rows}"


def _batches(total: int) -> Iterator[range]:
    for start in range(0, total, BULK_BATCH):
        yield range(start, min(start + BULK_BATCH, total))


def _final_label(solution: Any) -> Any:
    from annotations.models import FinalLabel

    label = solution.imported_label if solution.imported_label is not None else -1
    return FinalLabel(
        solution=solution,
        label=label,
        step_count=solution.num_steps,
        source=SOURCES[solution.pk % len(SOURCES)],
        agreement=1.0,
        explanation=f"Step {label + 1} drops the 2 when it moves it across: 3x = 17 - 2 = 15, not 17 + 2.",
        error_type="calculation" if label >= 0 else None,
        explanation_source="human",
    )


def _judge_suggestion(solution: Any, label: int) -> Any:
    from annotations.models import Suggestion

    critique = "".join(CRITIQUE_PARAGRAPH.format(index=index % STEPS_PER_SOLUTION) for index in range(16))
    return Suggestion(
        solution=solution,
        method="judge",
        status="succeeded",
        label=label,
        step_count=solution.num_steps,
        rationale=f"{critique}\n\nThe earliest error is in paragraph {label}.\n\n\\boxed{{{label}}}",
    )


def seed_dataset(rows: int, *, judge: bool = False) -> Any:
    """Create (replacing any earlier one) a dataset of `rows` labelled solutions with bulk_create; return it.

    With `judge`, each solution also gets a succeeded judge suggestion that agrees with its label.
    """
    from django.db import transaction

    from annotations.models import Dataset, FinalLabel, Problem, Solution, Suggestion

    Dataset.objects.filter(slug=_slug(rows)).delete()
    dataset = Dataset.objects.create(name=f"Export bench {rows}", slug=_slug(rows))
    problem_count = -(-rows // SOLUTIONS_PER_PROBLEM)
    with transaction.atomic():
        problem_ids: list[int] = []
        for batch in _batches(problem_count):
            created = Problem.objects.bulk_create(
                [
                    Problem(dataset=dataset, text=f"Problem {i}: solve \\(3x + 2 = 17\\).", content_hash=f"p{i:062d}")
                    for i in batch
                ]
            )
            problem_ids.extend(problem.pk for problem in created)
        for batch in _batches(rows):
            solutions = Solution.objects.bulk_create(
                [_solution(dataset, problem_ids[i // SOLUTIONS_PER_PROBLEM], i) for i in batch]
            )
            finals = FinalLabel.objects.bulk_create([_final_label(solution) for solution in solutions])
            if judge:
                Suggestion.objects.bulk_create([_judge_suggestion(final.solution, final.label) for final in finals])
    # No ANALYZE: exports must not depend on planner statistics, which a fresh bulk import lacks.
    return dataset


def _label(index: int) -> int:
    return -1 if index % 3 == 0 else index % STEPS_PER_SOLUTION


def _solution(dataset: Any, problem_id: int, index: int) -> Any:
    from annotations.models import Solution

    label = _label(index)
    return Solution(
        dataset=dataset,
        problem_id=problem_id,
        external_id=f"bench-{index}",
        content_hash=f"s{index:062d}",
        steps=[f"Step {step + 1} of solution {index}. {STEP_TEXT}" for step in range(STEPS_PER_SOLUTION)],
        num_steps=STEPS_PER_SOLUTION,
        generator=GENERATORS[index % len(GENERATORS)],
        subset="bench",
        final_answer_correct=label == -1,
        imported_label=label,
    )


def run_export_measured(export_id: int) -> ExportFigures:
    """Run one export in this process and measure it (Django set up)."""
    from annotations.services.exports import export_run

    rss_after_setup = _peak_rss_mb()
    samples: list[float] = []
    started = time.perf_counter()
    export = export_run(export_id=export_id, on_progress=lambda done, total: samples.append(_rss_mb()))
    seconds = time.perf_counter() - started
    if export.status != "succeeded":
        raise RuntimeError(f"export {export_id} failed: {export.error}")
    return ExportFigures(
        rows=sum(export.row_counts.values()),
        seconds=seconds,
        rss_after_setup_mb=rss_after_setup,
        peak_rss_mb=_peak_rss_mb(),
        rss_samples_mb=tuple(round(sample, 1) for sample in samples),
        files_bytes=sum(entry["bytes"] for entry in export.files),
    )


def _measure_in_child(export_id: int) -> ExportFigures:
    completed = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", str(export_id)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if completed.returncode != 0:
        raise RuntimeError(f"export child failed:\n{completed.stderr[-3000:]}")
    values = json.loads(completed.stdout.strip().splitlines()[-1])
    values["rss_samples_mb"] = tuple(values["rss_samples_mb"])
    return ExportFigures(**values)


def run_bench(
    sizes: list[int],
    *,
    export_format: str = "trl",
    file_format: str = "jsonl",
    keep: bool = False,
    child: bool = True,
    critique_source: str | None = None,
) -> list[tuple[float, ExportFigures]]:
    """Seed and export each size; return (seconds to seed, figures) per size and format (Django set up).

    `export_format="all"` runs every format on each seeded size. `child=False` runs the export in this
    process (for tests, where the test database is not visible to another process); its peak RSS is
    then this process's, not the export's own.
    """
    from annotations.models import Dataset
    from annotations.services.exports import export_create

    plan = export_plan(export_format, critique_source)
    results = []
    out_root = Path(tempfile.mkdtemp(prefix="export-bench-"))
    try:
        for rows in sizes:
            started = time.perf_counter()
            dataset = seed_dataset(rows, judge=any(source in ("judge", "both") for _, source in plan))
            seeded = time.perf_counter() - started
            for name, source in plan:
                export = export_create(
                    dataset=dataset,
                    created_by=None,
                    export_format=name,
                    file_format=file_format,
                    output_dir=out_root / f"{rows}-{name}",
                    enqueue=False,
                    critique_source=source,
                )
                figures = _measure_in_child(export.pk) if child else run_export_measured(export.pk)
                label = name if source is None else f"{name} ({source})"
                results.append((seeded, replace(figures, export=label if len(plan) > 1 else "")))
    finally:
        if not keep:
            Dataset.objects.filter(slug__in=[_slug(rows) for rows in sizes]).delete()
            shutil.rmtree(out_root, ignore_errors=True)
    return results


def export_plan(export_format: str, critique_source: str | None) -> list[tuple[str, str | None]]:
    """Return the (format, critique source) pairs to run: one, or every format for "all"."""
    if export_format != "all":
        return [(export_format, critique_source)]
    from annotations.exporters import FORMATTERS

    return [(name, (critique_source or "both") if item.critique_sources else None) for name, item in FORMATTERS.items()]


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prmweb.settings.base")
    import django

    django.setup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="10000,100000", help="comma-separated sizes")
    parser.add_argument("--format", default="trl", dest="export_format", help="a format, or all")
    parser.add_argument("--file-format", default="jsonl")
    parser.add_argument("--critique-source", choices=["human", "judge", "both"], help="critique and step_feedback")
    parser.add_argument("--keep", action="store_true", help="keep the bench datasets and export folders")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)  # internal: run one export, print JSON
    args = parser.parse_args(argv)
    _setup_django()
    if args.child is not None:
        figures = run_export_measured(args.child)
        print(json.dumps(asdict(figures)))
        return 0
    from django.db import connection

    sizes = [int(size) for size in args.rows.split(",")]
    source = f", critique source {args.critique_source}" if args.critique_source else ""
    print(f"export bench: format {args.export_format}{source}, {args.file_format}, database {connection.vendor}")
    print("no ANALYZE after seeding: the planner sees the tables as the bulk import left them")
    results = run_bench(
        sizes,
        export_format=args.export_format,
        file_format=args.file_format,
        keep=args.keep,
        critique_source=args.critique_source,
    )
    for seeded, figures in results:
        print(f"{figures.line()}  (seeded in {seeded:.1f} s)")
    if len(sizes) > 1 and args.export_format != "all":
        small, large = results[0][1], results[-1][1]
        growth = (large.peak_rss_mb - large.rss_after_setup_mb) - (small.peak_rss_mb - small.rss_after_setup_mb)
        print(f"peak RSS growth from {small.rows} to {large.rows} rows: {growth:+.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
