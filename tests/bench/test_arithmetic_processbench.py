"""The arithmetic ProcessBench benchmark runs on a few records and prints correct figures."""

import importlib.util
import json
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "arithmetic_processbench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("arithmetic_processbench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_prints_metrics_per_subset_on_handmade_records(tmp_path, capsys):
    records = [
        {"id": "t-0", "problem": "p", "steps": ["3 + 4 = 7", "7 * 2 = 15"], "label": 1},  # caught exactly
        {"id": "t-1", "problem": "p", "steps": ["Read it wrong.", "2 + 2 = 4"], "label": 0},  # logic error: missed
        {"id": "t-2", "problem": "p", "steps": ["5 - 1 = 4", "So 4."], "label": -1},  # correct, left alone
    ]
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(records))

    [run] = _load_bench().main([str(path)])

    assert run.predictions == [1, -1, -1]
    assert (run.metrics.acc_error, run.metrics.acc_correct) == (0.5, 1.0)
    assert run.flags() == {"flagged": 1, "exact": 1, "earlier": 0, "later": 0, "on_correct": 0}
    out = capsys.readouterr().out
    assert "tiny            3    2/1        50.0%       100.0%    66.7         1     1       0     0          0" in out
    assert "mean F1 over subsets (ProcessBench average): 66.7" in out


def test_bench_runs_on_the_shipped_processbench_copies(capsys):
    runs = _load_bench().main(["--limit", "40", "--show", "1"])

    assert [run.name for run in runs] == ["gsm8k", "math"]
    assert all(len(run.labels) == 40 for run in runs)
    # the method never flags a solution the annotators found correct in these records
    assert all(run.flags()["on_correct"] == 0 for run in runs)
    assert runs[0].flags()["exact"] >= 3  # gsm8k-2, gsm8k-5, gsm8k-7, gsm8k-34, gsm8k-36, gsm8k-38
    assert "pooled: acc_error" in capsys.readouterr().out
