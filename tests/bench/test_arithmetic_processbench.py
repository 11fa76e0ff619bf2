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


RECORDS = [
    {"id": "t-0", "problem": "p", "steps": ["3 + 4 = 7", "7 * 2 = 15"], "label": 1},  # caught exactly
    {"id": "t-1", "problem": "p", "steps": ["Read it wrong.", "2 + 2 = 4"], "label": 0},  # logic error: missed
    {"id": "t-2", "problem": "p", "steps": ["5 - 1 = 4", "So 4."], "label": -1},  # correct, left alone
    {"id": "t-3", "problem": "p", "steps": ["2 * 3 = 7 here.", "Then 7 + 1 = 8.", "Wrong: x = 9."], "label": 2},
    {"id": "t-4", "problem": "p", "steps": ["No numbers at all.", "Done."], "label": -1},  # abstains
    {"id": "t-5", "problem": "p", "steps": ["Count them.", "1 + 1 = 3"], "label": -1},  # false alarm
    {"id": "t-6", "problem": "p", "steps": ["Bad idea.", "Set x = 4.", "4 * 4 = 17"], "label": 0},  # after
]


def test_bench_prints_every_figure_per_subset_on_handmade_records(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(RECORDS))

    [run] = _load_bench().main([str(path)])

    assert run.predictions == [1, -1, -1, 0, None, 1, 2]
    assert run.statuses == ["succeeded", "succeeded", "succeeded", "succeeded", "skipped", "succeeded", "succeeded"]
    assert run.flags() == {"flagged": 4, "exact": 1, "before": 1, "after": 1, "on_correct": 1, "abstained": 1}
    assert (run.precision, run.silence_on_correct) == (0.25, 1 - 1 / 3)
    assert (run.metrics.acc_error, run.metrics.acc_correct) == (0.25, 1 / 3)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "subset", "items", "err/corr", "flagged", "precision", "before", "after", "on_correct",
        "silent_on_correct", "abstained", "acc_error", "acc_correct", "F1", "secs",
    ]  # fmt: skip
    assert lines[1].split()[:-1] == [
        "tiny", "7", "4/3", "4", "25.0%", "1", "1", "1", "66.7%", "1", "(14.3%)", "25.0%", "33.3%", "28.6",
    ]  # fmt: skip
    assert lines[2] == "mean F1 over subsets (ProcessBench average): 28.6"
    assert lines[3] == "pooled: acc_error 25.0%, acc_correct 33.3%, F1 28.6"
    assert lines[4] == "tiny: 2 flags before the labelled error or on a correct solution"
    assert lines[5] == (
        "  t-3 (earliest error at step 3): First arithmetic slip at step 1; an earlier step may hold another"
        " kind of error. 2 * 3 = 7 is false (2 * 3 = 6)."
    )
    assert lines[6:8] == ["    step 1:", "      2 * 3 = 7 here."]
    assert lines[8].startswith("  t-5 (all steps correct): First arithmetic slip at step 2;")
    assert lines[9:] == ["    step 2:", "      1 + 1 = 3"]


def test_show_limits_the_listed_flags(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    path.write_text(json.dumps(RECORDS))

    _load_bench().main([str(path), "--show", "1"])

    out = capsys.readouterr().out
    assert "  t-3 (earliest error at step 3)" in out and "t-5" not in out


def test_bench_runs_small_on_the_shipped_processbench_copies(capsys):
    runs = _load_bench().main(["--limit", "60"])

    assert [run.name for run in runs] == ["gsm8k", "math"]
    # evenly spaced records: both erroneous and correct solutions, although the files list errors first
    assert [(run.metrics.erroneous, run.metrics.correct) for run in runs] == [(31, 29), (37, 23)]
    assert [run.flags()["on_correct"] for run in runs] == [0, 0]
    assert [run.silence_on_correct for run in runs] == [1.0, 1.0]
    assert [run.contradicting for run in runs] == [[], []]
    assert runs[0].flags()["exact"] >= 1
    out = capsys.readouterr().out
    assert "gsm8k: 0 flags before the labelled error or on a correct solution" in out
