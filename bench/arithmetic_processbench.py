"""ProcessBench figures of the arithmetic method (SymPy checks of explicit arithmetic; no model).

    python bench/arithmetic_processbench.py [FILE.json ...] [--limit N] [--show K]

Reads ProcessBench subset files (one JSON array each; default: the gsm8k and math copies in
bench/data/processbench/; `--limit N`: N evenly spaced records of each, since the files list their
erroneous records first), runs `scoring.methods.arithmetic.check` on every record and prints, per subset
(named after the file): how many solutions it flagged, its precision when flagging (flagged step == the
labelled earliest error), flags before the labelled error, flags after it, flags on correct solutions,
its silence on correct solutions (share not flagged), abstentions ("no arithmetic found"), and
ProcessBench's acc_error, acc_correct and F1 (an abstention counts as a miss, as a None prediction does in
ProcessBench's run_eval.py). Then the mean F1 over the subsets, the pooled figures, and every flag before
the labelled error or on a correct solution with the flagged step's text (`--show K`: K per subset).
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
from scoring.methods.base import MethodResult, SolutionTask  # noqa: E402

DEFAULT_FILES = (ROOT / "bench/data/processbench/gsm8k.json", ROOT / "bench/data/processbench/math.json")
HEADER = (
    f"{'subset':<10} {'items':>6}  {'err/corr':<9} {'flagged':>7} {'precision':>10} {'before':>7} {'after':>6}"
    f" {'on_correct':>11} {'silent_on_correct':>18} {'abstained':>12} {'acc_error':>11} {'acc_correct':>12}"
    f" {'F1':>6} {'secs':>5}"
)


@dataclass(frozen=True)
class Flag:
    """A flag that contradicts the human label: before the labelled error, or on a correct solution."""

    record_id: str
    label: int
    step: int
    rationale: str
    step_text: str

    def describe(self) -> str:
        """Return the flag, the human label and the flagged step's text."""
        labelled = "all steps correct" if self.label == -1 else f"earliest error at step {self.label + 1}"
        text = "\n      ".join(self.step_text.splitlines())
        return f"  {self.record_id} ({labelled}): {self.rationale}\n    step {self.step + 1}:\n      {text}"


@dataclass(frozen=True)
class SubsetRun:
    """Labels, predictions, statuses and contradicting flags of one subset."""

    name: str
    labels: list[int]
    predictions: list[int | None]
    statuses: list[str]
    metrics: SubsetMetrics
    seconds: float
    contradicting: list[Flag]

    def flags(self) -> dict[str, int]:
        """Return how flagged steps relate to the human labels, and how often the method abstained."""
        pairs = [(y, p) for y, p in zip(self.labels, self.predictions, strict=True) if p is not None and p >= 0]
        return {
            "flagged": len(pairs),
            "exact": sum(1 for y, p in pairs if p == y),
            "before": sum(1 for y, p in pairs if 0 <= p < y),
            "after": sum(1 for y, p in pairs if y >= 0 and p > y),
            "on_correct": sum(1 for y, _ in pairs if y == -1),
            "abstained": self.statuses.count("skipped"),
        }

    @property
    def precision(self) -> float | None:
        """Return the share of flags that name the labelled earliest error (None without flags)."""
        counts = self.flags()
        return counts["exact"] / counts["flagged"] if counts["flagged"] else None

    @property
    def silence_on_correct(self) -> float | None:
        """Return the share of correct solutions (label -1) the method does not flag (None without any)."""
        return 1 - self.flags()["on_correct"] / self.metrics.correct if self.metrics.correct else None


def _contradicting(record: dict, result: MethodResult) -> Flag | None:
    label, step = int(record["label"]), result.label
    if step is None or step < 0 or (label != -1 and step >= label):
        return None
    return Flag(str(record["id"]), label, step, result.rationale, str(record["steps"][step]))


def _sample(records: list[dict], limit: int | None) -> list[dict]:
    """Return `limit` evenly spaced records (all of them without a limit)."""
    if limit is None or limit >= len(records):
        return records
    return [records[index * len(records) // limit] for index in range(max(limit, 0))]


def run_subset(path: Path, limit: int | None = None, config: ArithmeticConfig | None = None) -> SubsetRun:
    """Return the arithmetic method's predictions and figures on one ProcessBench file."""
    records = _sample(json.loads(path.read_text(encoding="utf-8")), limit)
    tasks = [SolutionTask(index, record["problem"], tuple(record["steps"])) for index, record in enumerate(records)]
    started = time.perf_counter()
    results = check(tasks, config or ArithmeticConfig())
    seconds = time.perf_counter() - started
    labels = [int(record["label"]) for record in records]
    predictions = [result.label for result in results]
    contradicting = [
        flag for record, result in zip(records, results, strict=True) if (flag := _contradicting(record, result))
    ]
    return SubsetRun(
        name=path.stem,
        labels=labels,
        predictions=predictions,
        statuses=[result.status for result in results],
        metrics=subset_metrics(labels, predictions),
        seconds=seconds,
        contradicting=contradicting,
    )


def _percent(value: float | None, sign: str = "%") -> str:
    return "n/a" if value is None else f"{100 * value:.1f}{sign}"


def _row(run: SubsetRun) -> str:
    m, f = run.metrics, run.flags()
    abstained = f"{f['abstained']} ({_percent(f['abstained'] / len(run.labels) if run.labels else None)})"
    return (
        f"{run.name:<10} {len(run.labels):>6}  {m.erroneous:>4}/{m.correct:<4} {f['flagged']:>7} "
        f"{_percent(run.precision):>10} {f['before']:>7} {f['after']:>6} {f['on_correct']:>11}"
        f" {_percent(run.silence_on_correct):>18} {abstained:>12} {_percent(m.acc_error):>11}"
        f" {_percent(m.acc_correct):>12} {_percent(m.f1, ''):>6} {run.seconds:5.1f}"
    )


def report(runs: Sequence[SubsetRun], show: int | None = None) -> str:
    """Return the printed table and the flags that contradict the human label."""
    lines = [HEADER, *(_row(run) for run in runs)]
    combined = aggregate({run.name: (run.labels, run.predictions) for run in runs})
    pooled = combined.pooled
    lines.append(f"mean F1 over subsets (ProcessBench average): {_percent(combined.mean_f1, '')}")
    lines.append(
        f"pooled: acc_error {_percent(pooled.acc_error)}, acc_correct {_percent(pooled.acc_correct)},"
        f" F1 {_percent(pooled.f1, '')}"
    )
    for run in runs:
        shown = run.contradicting[:show]
        lines.append(f"{run.name}: {len(run.contradicting)} flags before the labelled error or on a correct solution")
        lines.extend(flag.describe() for flag in shown)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> list[SubsetRun]:
    """Run the benchmark, print the figures and return the per-subset runs."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, default=list(DEFAULT_FILES), help="ProcessBench JSON files")
    parser.add_argument("--limit", type=int, default=None, help="only N evenly spaced records of each file")
    parser.add_argument("--show", type=int, default=None, help="print at most K contradicting flags per subset")
    args = parser.parse_args(argv)
    runs = [run_subset(path, args.limit) for path in args.files]
    print(report(runs, args.show))
    return runs


if __name__ == "__main__":
    main()
