"""ProcessBench metrics of the arithmetic method (SymPy checks of explicit arithmetic; no model).

    python bench/arithmetic_processbench.py [FILE.json ...] [--limit N] [--show K]

Reads ProcessBench subset files (one JSON array each; default: the gsm8k and math copies in
bench/data/processbench/), runs `scoring.methods.arithmetic.check` on every record and prints, per
subset (named after the file), acc_error, acc_correct and F1, how many solutions were flagged, and how
flags relate to the human label (exact, earlier than the label, later than it, on an all-correct
solution), then the unweighted mean F1 of the subsets and the pooled figures. `--show K` prints the
rationale of K flags that are earlier than the label or on correct solutions (false alarms).
"""

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from prmweb.core.metrics import SubsetMetrics, aggregate, subset_metrics  # noqa: E402
from scoring.methods.arithmetic import ArithmeticConfig, check  # noqa: E402
from scoring.methods.base import SolutionTask  # noqa: E402

DEFAULT_FILES = (ROOT / "bench/data/processbench/gsm8k.json", ROOT / "bench/data/processbench/math.json")


@dataclass(frozen=True)
class SubsetRun:
    """Labels, predictions and flag breakdown of one subset."""

    name: str
    labels: list[int]
    predictions: list[int | None]
    metrics: SubsetMetrics
    seconds: float
    false_alarms: list[str]

    def flags(self) -> dict[str, int]:
        """Return how flagged steps relate to the human labels."""
        pairs = [(y, p) for y, p in zip(self.labels, self.predictions, strict=True) if p is not None and p >= 0]
        return {
            "flagged": len(pairs),
            "exact": sum(1 for y, p in pairs if p == y),
            "earlier": sum(1 for y, p in pairs if 0 <= p < y),
            "later": sum(1 for y, p in pairs if y >= 0 and p > y),
            "on_correct": sum(1 for y, _ in pairs if y == -1),
        }


def run_subset(path: Path, limit: int | None = None, config: ArithmeticConfig | None = None) -> SubsetRun:
    """Return the arithmetic method's predictions and metrics on one ProcessBench file."""
    records = json.loads(path.read_text(encoding="utf-8"))[:limit]
    tasks = [SolutionTask(index, record["problem"], tuple(record["steps"])) for index, record in enumerate(records)]
    started = time.perf_counter()
    results = check(tasks, config or ArithmeticConfig())
    seconds = time.perf_counter() - started
    labels = [int(record["label"]) for record in records]
    predictions = [result.label for result in results]
    false_alarms = [
        f"{record['id']} (label {label}): {result.rationale}"
        for record, label, result in zip(records, labels, results, strict=True)
        if result.label is not None and result.label >= 0 and (label == -1 or result.label < label)
    ]
    return SubsetRun(path.stem, labels, predictions, subset_metrics(labels, predictions), seconds, false_alarms)


def _percent(value: float | None) -> str:
    return "   n/a" if value is None else f"{100 * value:6.1f}"


def report(runs: Sequence[SubsetRun], show: int = 0) -> str:
    """Return the printed table."""
    lines = [
        "subset      items  err/corr   acc_error  acc_correct      F1   flagged exact earlier later on_correct  secs"
    ]
    for run in runs:
        m, f = run.metrics, run.flags()
        lines.append(
            f"{run.name:<10} {len(run.labels):>6}  {m.erroneous:>3}/{m.correct:<4}   {_percent(m.acc_error)}%"
            f"      {_percent(m.acc_correct)}%  {_percent(m.f1)}   {f['flagged']:>7} {f['exact']:>5} {f['earlier']:>7}"
            f" {f['later']:>5} {f['on_correct']:>10}  {run.seconds:4.1f}"
        )
    combined = aggregate({run.name: (run.labels, run.predictions) for run in runs})
    pooled = combined.pooled
    lines.append(f"mean F1 over subsets (ProcessBench average): {_percent(combined.mean_f1).strip()}")
    lines.append(
        f"pooled: acc_error {_percent(pooled.acc_error).strip()}%, acc_correct {_percent(pooled.acc_correct).strip()}%,"
        f" F1 {_percent(pooled.f1).strip()}"
    )
    for run in runs:
        for alarm in run.false_alarms[:show]:
            lines.append(f"  earlier-than-label flag: {alarm[:300]}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[SubsetRun]:
    """Run the benchmark, print the table and return the per-subset runs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES), help="ProcessBench JSON files")
    parser.add_argument("--limit", type=int, default=None, help="only the first N records of each file")
    parser.add_argument("--show", type=int, default=0, help="print K earlier-than-label flags per subset")
    args = parser.parse_args(argv)
    runs = [run_subset(path, args.limit) for path in args.files]
    print(report(runs, args.show))
    return runs


if __name__ == "__main__":
    main()
