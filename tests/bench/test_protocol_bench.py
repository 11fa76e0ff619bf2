"""The protocol benchmark runs end to end at a tiny size on SQLite (correctness, not timing; no Label Studio)."""

import importlib.util
from pathlib import Path

import pytest

from annotations.exporters import FORMATTERS

BENCH = Path(__file__).resolve().parents[2] / "bench" / "protocol_bench.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("protocol_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_records_are_processbench_records_cycled_with_new_ids_and_problems():
    bench = _load_bench()
    records = bench.processbench_records(1500)

    assert len({record["id"] for record in records}) == 1500
    assert records[0]["id"] == "gsm8k-0-0"
    assert records[1400]["id"] == "gsm8k-0-1"
    assert records[1400]["steps"] == records[0]["steps"]
    assert records[1400]["problem"] == records[0]["problem"] + "\n\n(Copy 1.)"
    assert set(records[0]) == {"id", "generator", "problem", "steps", "final_answer_correct", "label"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--databases", "sqlite,mysql"], "--databases: unknown mysql"),
        (["--label-studio", "http://127.0.0.1:8080"], "--label-studio needs --ls-token"),
        (["--records", "5", "--submits", "6"], "--submits at most --records"),
        (["--baseline", "/nonexistent"], "--baseline: /nonexistent is not a checkout of prmweb (no manage.py)"),
        (["--ports", "9300"], "--ports: '9300' is not FIRST-LAST, e.g. 8600-8699"),
    ],
)
def test_bad_arguments_are_refused_by_name(argv, message, capsys):
    bench = _load_bench()
    with pytest.raises(SystemExit) as exit_info:
        bench.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.slow
def test_the_protocol_runs_against_a_started_gunicorn_on_a_fresh_sqlite_database():
    bench = _load_bench()
    args = bench.parse_args(
        ["--records", "40", "--batch", "15", "--submits", "6", "--nexts", "4", "--pages", "2", "--cold-runs", "1"]
    )

    ours, theirs = bench.run_database("sqlite", args, bench.processbench_records(40))

    assert theirs is None
    counts = {measure: len(values) for measure, values in ours.timings.items()}
    exported = {name for name in FORMATTERS if f"export {name}" in counts}
    assert {measure: count for measure, count in counts.items() if not measure.startswith("export ")} == {
        "manage.py help": 1,
        "server start to first 200": 1,
        "ingest 40 (total)": 1,  # 3 requests of at most 15, summed
        "next item": 4,
        "page load": 2,
        "submit": 6,
    }
    assert exported == {"processbench", "trl", "math_shepherd", "qwen_prm", "annotations"}
    for name in set(FORMATTERS) - exported:  # no explanations by people: the critic formats have no rows
        assert ours.notes[f"export {name}"].startswith("not measured: 40 solution(s) matched, but none gave a row")
    assert ours.notes["stored solutions"] == "40"
    assert ours.notes["export processbench"].startswith("40 rows, ")
    assert ours.notes["export annotations"].startswith("40 rows, ")
    assert 20 < float(ours.notes["idle RSS MiB"]) < 1000
    assert all(value > 0 for values in ours.timings.values() for value in values)

    printed = bench.table("sqlite", ours, theirs)
    assert "| submit | 6 |" in printed
    assert "prmweb: stored solutions: 40" in printed


@pytest.mark.slow
def test_a_baseline_checkout_runs_beside_this_one_round_by_round():
    bench = _load_bench()
    checkout = str(BENCH.parents[1])  # this checkout as its own baseline: both sides run the same code
    argv = ["--records", "12", "--batch", "12", "--submits", "4", "--nexts", "3", "--pages", "1", "--cold-runs", "1"]
    args = bench.parse_args([*argv, "--baseline", checkout, "--ports", "9200-9299"])

    figures = bench.run_baseline_ab("sqlite", args, bench.processbench_records(12))

    for side in ("baseline", "this checkout"):
        counts = {measure: len(values) for measure, values in figures[side].timings.items()}
        assert counts == {
            "manage.py help": 1,
            "server start to first 200": 1,
            "ingest 12 (total)": 1,
            "next item": 3,
            "page load": 1,
            "submit": 4,
        }
    printed = bench.ab_table("sqlite", figures)
    assert "| submit | 4 |" in printed
    assert "| baseline median | baseline p95 | this median | this p95 | median ratio | p95 ratio |" in printed
