"""Parse slips of the arithmetic method (issue 10, point 8), each on real step text where the data has one.

Every case names what the earlier parser read (a false claim) and what it reads now. Real steps come from
the ProcessBench copies in bench/data/processbench/ (see its SOURCE.md) and from a few PRM800K steps in
tests/fixtures/prm800k/arithmetic_steps.json (see that folder's SOURCE.md).
"""

import json
from functools import cache
from pathlib import Path

import pytest

from scoring.methods.arithmetic import check, find_claims
from scoring.methods.base import SolutionTask

ROOT = Path(__file__).resolve().parents[3]
PROCESSBENCH = ROOT / "bench" / "data" / "processbench"
PRM800K_STEPS = ROOT / "tests" / "fixtures" / "prm800k" / "arithmetic_steps.json"


@cache
def _records() -> dict[str, dict]:
    subsets = (json.loads((PROCESSBENCH / f"{name}.json").read_text()) for name in ("gsm8k", "math"))
    return {record["id"]: record for subset in subsets for record in subset}


def real_step(record_id: str, index: int) -> str:
    return _records()[record_id]["steps"][index]


def described(step: str) -> list[str]:
    return [claim.describe() for claim in find_claims(step)]


@pytest.mark.parametrize(
    ("step", "claims"),
    [
        # digits inside \text{}: was "2 = 3 + 4 is false"
        ("$\\text{Area 2} = 3 + 4 = 7$", ["3 + 4 = 7 holds"]),
        ("\\[ \\text{Total on day 3} = 2 \\times 5 = 10 \\]", ["2 * 5 = 10 holds"]),
        # a side cut at `[`: was "7 * 2 = 2 is false"
        ("$7 \\cdot 2 = 2 \\left[ 3 + 4 \\right]$", []),
        # implicit multiplication after a space: was "32 * 32 = 32 is false", "10 = (1/4) is false"
        ("$32 \\cdot 32 = 32 r^5$, so $r^5 = 32$.", []),
        ("$10 = \\frac14 d(d-3)$", []),
        # the root glyph: was "16 + 2 = 6 is false"
        ("√16 + 2 = 6", []),
        # a Markdown bullet read as a minus sign: was "- 3 * 4 = 12 is false (- 3 * 4 = -12)"
        ("Totals:\n- 3 \\times 4 = 12 apples\n- 12 + 5 = 17 apples", ["3 * 4 = 12 holds", "12 + 5 = 17 holds"]),
        # a `\(` delimiter splitting an expression: was "- 15 * 2 = 15 is false (- 15 * 2 = -30)"
        ("So \\(45\\) \\(- 15 \\cdot 2 = 15\\).", []),
        ("So $45$ $- 15 \\cdot 2 = 15$.", []),
        ("The value is \\(4^2\\) - 2 \\cdot 3 = 10.", []),  # was already left alone; kept as a guard
        # equations the text tests and rejects, and questions: were "2+1 = 1 is false" and so on
        ("2+1=1 (False)", []),
        ("For x = 1: 2 + 1 = 1, which does not work.", []),
        ("Is $3 + 4 = 8$? No.", []),
        ("Then 2 + 2 = 5, a contradiction.", []),
        # congruences written with `=`: was "(4^2)^2 = (-1)^2 is false"
        ("$4^4 = (4^2)^2 = (-1)^2 = 1 \\pmod{17}$", []),
        ("$2^5 = 32 = 2 (\\text{mod } 5)$", []),
        # a quotient with its remainder is checked exactly: was "355 / 6 = 58 is false (... ≈ 59.166667)"
        ("$$355\\div 6=58\\;\\mathrm{R}\\;5.$$", ["355 / 6 = 58 R 5 is false (355 / 6 = 59 R 1)"]),
        ("$20 \\div 6 = 3\\, R\\, 2$", ["20 / 6 = 3 R 2 holds"]),
        ("17 / 5 = 3 remainder 1", ["17 / 5 = 3 R 1 is false (17 / 5 = 3 R 2)"]),
        ("7 / 2 = 3 remainder 2", []),  # a remainder as large as the divisor: no quotient to check
        ("3 + 4 = 2 R 1", []),  # no divisor, so no quotient to check
    ],
)
def test_parse_slips_are_gone(step, claims):
    assert described(step) == claims


@pytest.mark.parametrize(
    ("record_id", "index", "claims"),
    [
        # `9 choose 3` and `(4 - 1)` after `choose`: was "(4 - 1) = 9 is false"
        ("math-60", 0, []),
        ("math-60", 1, ["84 - 21 = 63 holds"]),
        # a congruence chain before `\pmod{17}`: was "(4^2)^2 = (-1)^2 is false ((4^2)^2 = 256)"
        ("math-484", 4, []),
        # `0 = \frac{4}{9} u^4 - ...`: was "0 = (4/9) holds", a claim the step never makes
        ("math-105", 6, []),
        # `8 * 9 * 10 = 720 is not true`: the text rejects the equation it tests
        ("math-369", 1, ["16 * 17 * 18 = 4896 holds"]),
        # quotients with remainders: real slips caught at the labelled step, and correct ones
        ("math-54", 0, ["355 / 6 = 58 R 5 is false (355 / 6 = 59 R 1)"]),
        ("math-245", 3, ["770 / 333 = 2 R 58 is false (770 / 333 = 2 R 104)"]),
        ("math-849", 4, ["20 / 6 = 3 R 2 holds"]),
        # a number after `+` inside \text{} stays a number
        ("gsm8k-137", 1, ["10 + 14 = 24 holds"]),
        # the root glyph: only the claims without it are read
        ("math-617", 2, []),
        # inequality chains: each equation of `44^2 = 1936 < 2008 < 45^2 = 2025` is read alone
        ("math-354", 2, ["44^2 = 1936 holds", "45^2 = 2025 holds"]),
        ("math-534", 1, ["15 * 3 = 45 holds"]),
        ("math-684", 1, ["200000 + 20000 + 2000 = 222000 holds"]),
    ],
)
def test_real_steps_are_read_as_written(record_id, index, claims):
    assert described(real_step(record_id, index)) == claims


def test_prm800k_steps_rejected_equation_and_real_slips_the_labellers_rated_good():
    rows = {row["row"]: row for row in json.loads(PRM800K_STEPS.read_text())}

    assert all(row["rating"] == 1 for row in rows.values())
    assert described(rows[312]["next_response"]) == []  # "And $1=3+4$ is clearly not true."
    assert described(rows[1384]["next_response"]) == ["7(23) + 5 = 164 is false (7(23) + 5 = 166)"]
    assert described(rows[2730]["next_response"]) == ["650*90 = 585000 is false (650*90 = 58500)"]


def test_on_the_whole_processbench_copies_every_flag_before_the_label_is_a_reviewed_real_slip():
    records = list(_records().values())
    tasks = [SolutionTask(index, record["problem"], tuple(record["steps"])) for index, record in enumerate(records)]

    results = check(tasks)

    flags = [(record, result.label) for record, result in zip(records, results, strict=True) if result.label]
    early = {(record["id"], step) for record, step in flags if step >= 0 and 0 <= step < record["label"]}
    on_correct = [record["id"] for record, step in flags if step >= 0 and record["label"] == -1]
    correct = sum(record["label"] == -1 for record in records)
    # math-106 steps 11 and math-164 step 5 write false expressions (reviewed by hand, see docs/benchmarks.md)
    assert early == {("math-106", 10), ("math-164", 4)}
    assert on_correct == []
    assert 1 - len(on_correct) / correct >= 0.995
    assert sum(result.status == "skipped" for result in results) == 454
