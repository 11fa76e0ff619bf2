"""The arithmetic method: claims it checks, claims it must leave alone, labels and rationales."""

import json
import time
from pathlib import Path

import pytest

from scoring.methods.arithmetic import ArithmeticConfig, check, find_claims
from scoring.methods.base import MethodConfigError, SolutionTask

PROCESSBENCH = Path(__file__).resolve().parents[3] / "bench" / "data" / "processbench"


def described(step: str) -> list[str]:
    return [claim.describe() for claim in find_claims(step)]


@pytest.mark.parametrize(
    ("step", "claims"),
    [
        ("So 12 + 6 = 18 apples.", ["12 + 6 = 18 holds"]),
        ("So 12 + 6 = 17 apples.", ["12 + 6 = 17 is false (12 + 6 = 18)"]),
        ("She pays $3 \\times 4 = $12.", ["3 * 4 = 12 holds"]),
        ("\\(3 \\cdot 5 + 2 = 17\\)", ["3 * 5 + 2 = 17 holds"]),
        ("$18 \\div 3 = \\boxed{6}$", ["18 / 3 = 6 holds"]),
        ("\\frac{12}{3} = 5", ["(12/3) = 5 is false ((12/3) = 4)"]),
        ("\\dfrac{3+5}{2} = 4", ["((3+5)/(2)) = 4 holds"]),
        ("1,200 \u00d7 2 = 2,400", ["1200 * 2 = 2400 holds"]),
        ("3 x 4 = 12", ["3 * 4 = 12 holds"]),
        ("2 \u00d7 (3 + 4) = 14 = 2 * 7", ["2 * (3 + 4) = 14 holds", "14 = 2 * 7 holds"]),
        ("3^2 + 4^2 = 5^2", ["3^2 + 4^2 = 5^2 holds"]),
        ("50 * 20% = 10", ["50 * 20% = 10 holds"]),
        ("0.2 * 100 = 20%", ["0.2 * 100 = 20% holds"]),
        ("10 / 3 = 3.33", ["10 / 3 = 3.33 holds"]),
        ("10 / 3 = 3.34", ["10 / 3 = 3.34 is false (10 / 3 = 10/3 ≈ 3.333333)"]),
        ("10 / 3 = 3.4", ["10 / 3 = 3.4 is false (10 / 3 = 10/3 ≈ 3.333333)"]),
        ("7 / 2 = 4 boxes", ["7 / 2 = 4 holds"]),
        ("1.5 + 1.5 = 3.1", ["1.5 + 1.5 = 3.1 is false (1.5 + 1.5 = 3)"]),
        ("0.33 * 600 = 200", ["0.33 * 600 = 200 holds"]),
        ("22/7 \\approx 3.14", ["22/7 ≈ 3.14 holds"]),
        ("5 * 3 = 15. Then 15 - 4 = 10.", ["5 * 3 = 15 holds", "15 - 4 = 10 is false (15 - 4 = 11)"]),
        ("495 students * $15/student = $7455", ["495 * 15 = 7455 is false (495 * 15 = 7425)"]),
        ("7995 (total cookies) - 2595 (rainbow cookies) = 4500", ["7995 - 2595 = 4500 is false (7995 - 2595 = 5400)"]),
        ("5 apples + 3 apples = 9 apples", ["5 + 3 = 9 is false (5 + 3 = 8)"]),
        ("- \\(2^9 = 512\\)", ["2^9 = 512 holds"]),
        ("f(2) = 3 * 2 + 1 = 8", ["3 * 2 + 1 = 8 is false (3 * 2 + 1 = 7)"]),
    ],
)
def test_claims_that_are_checked(step, claims):
    assert described(step) == claims


@pytest.mark.parametrize(
    "step",
    [
        "Let x = 5.",
        "3 = 3 apples",
        "2 hours = 120 minutes",
        "1 hour + 30 minutes = 100 minutes",
        "12 inches * 2 = 2 feet",
        "He left on 2023-05-12 and came back 12/25.",
        "It takes 3-5 days.",
        "At 4:30 = half past four",
        "2x + 3 = 7",
        "x - 3 + 5 = 7",
        "a_1 + 2 = 5",
        "half of 10 + 2 = 7",
        "3 * 4000 = 12 thousand",
        "50 + 10% = 55",
        "3 + 4 = 7 - 2 = 5",
        "2\\frac{6}{7} = 2.857",
        "\\log_x (10^{-2}) = -2 \\log_x 10",
        "36 = 50 - 50 \\cos \\theta",
        "m \\circ 2 = \\frac{1}{2}",
        "M = \\left( \\frac{3+7}{2}, \\frac{4+10}{2} \\right) = (5,7)",
        "C(9, 2) = \\frac{9 \\times 8}{2} = 36",
        "\\[ 21^2 = 441 \\] \\[ (-20)^2 = 400 \\]",
        "Time to heat up to 400 degrees = 20 + 8.",
        "5 / 0 = 7",
        "2^{1000} = 3",
    ],
)
def test_claims_that_are_left_alone_or_hold(step):
    assert [claim for claim in find_claims(step) if not claim.holds] == []


def test_label_is_the_first_step_with_a_false_claim():
    task = SolutionTask(
        solution_id=3,
        question="q",
        steps=("We need the total.", "4 + 5 = 9 pens.", "12 + 6 = 17 and 2 * 3 = 7.", "17 - 1 = 15."),
    )

    [result] = check([task])

    assert result.status == "succeeded"
    assert result.label == 2
    assert result.step_scores == (None, 1.0, 0.0, 0.0)
    assert result.rationale == (
        "First arithmetic slip at step 3; an earlier step may hold another kind of error. "
        "12 + 6 = 17 is false (12 + 6 = 18)."
    )
    assert result.details["false_claims"] == [
        "Step 3: 12 + 6 = 17 is false (12 + 6 = 18)",
        "Step 3: 2 * 3 = 7 is false (2 * 3 = 6)",
        "Step 4: 17 - 1 = 15 is false (17 - 1 = 16)",
    ]
    assert (result.details["claims"], result.details["checked_steps"]) == (4, 3)


def test_no_false_claim_is_no_slip_with_coverage_in_the_rationale():
    task = SolutionTask(solution_id=4, question="q", steps=("Think.", "2 + 2 = 4", "So the answer is 4."))
    two = SolutionTask(solution_id=7, question="q", steps=("2 + 2 = 4 and 3 * 3 = 9.",))

    [result, result_two] = check([task, two])

    assert (result.status, result.label, result.step_scores) == ("succeeded", -1, (None, 1.0, None))
    assert result.rationale == (
        "No arithmetic slip: 1 arithmetic claim in 1 of 3 steps holds; other kinds of error are not checked."
    )
    assert result_two.rationale == (
        "No arithmetic slip: 2 arithmetic claims in 1 of 1 step hold; other kinds of error are not checked."
    )


def test_solution_without_checkable_arithmetic_abstains_without_a_label():
    task = SolutionTask(
        solution_id=8,
        question="q",
        steps=("Let x be the number of apples.", "Then x = 5, so 2x + 3 = 13.", "The answer is 13."),
    )

    [result] = check([task])

    assert (result.status, result.label, result.error) == ("skipped", None, "no arithmetic found")
    assert (result.rationale, result.step_scores) == ("", ())
    assert result.details == {"claims": 0, "checked_steps": 0, "false_claims": []}


def test_solution_without_steps_is_skipped():
    [result] = check([SolutionTask(solution_id=5, question="q", steps=())])

    assert (result.status, result.error, result.label) == ("skipped", "solution has no steps", None)


def test_rounded_operand_tolerance_is_configurable():
    task = SolutionTask(solution_id=6, question="q", steps=("0.33 * 600 = 200",))

    assert check([task])[0].label == -1
    assert check([task], ArithmeticConfig(rounded_operand_tolerance=0.0))[0].label == 0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"approx_tolerance": 1.0}, "approx_tolerance"),
        ({"rounded_operand_tolerance": -0.1}, "rounded_operand_tolerance"),
    ],
)
def test_bad_tolerance_names_the_field(kwargs, field):
    with pytest.raises(MethodConfigError) as raised:
        ArithmeticConfig(**kwargs)

    assert (raised.value.field, raised.value.message) == (field, "must be in [0, 1)")


def test_real_processbench_records():
    records = {r["id"]: r for r in json.loads((PROCESSBENCH / "gsm8k.json").read_text())}
    ids = ["gsm8k-5", "gsm8k-7", "gsm8k-0", "gsm8k-1"]
    tasks = [SolutionTask(i, records[rid]["problem"], tuple(records[rid]["steps"])) for i, rid in enumerate(ids)]

    results = check(tasks)

    # gsm8k-5 and gsm8k-7 hold real arithmetic slips at their labelled step; 0 and 1 are logic errors
    assert [r.label for r in results] == [records["gsm8k-5"]["label"], records["gsm8k-7"]["label"], -1, -1]
    assert results[0].rationale == (
        "First arithmetic slip at step 3; an earlier step may hold another kind of error. "
        "495 * 15 = 7455 is false (495 * 15 = 7425)."
    )
    assert results[1].rationale == (
        "First arithmetic slip at step 2; an earlier step may hold another kind of error. "
        "7995 - 2595 = 4500 is false (7995 - 2595 = 5400)."
    )
    assert results[3].rationale == (
        "No arithmetic slip: 3 arithmetic claims in 1 of 7 steps hold; other kinds of error are not checked."
    )


def test_long_steps_are_checked_in_linear_time():
    step = " and then 12 + 6 = 18 apples, so 5 apples + 3 apples = 8 apples." * 800  # about 53,000 characters

    started = time.perf_counter()
    claims = find_claims(step)

    assert len(claims) == 1600 and all(claim.holds for claim in claims)
    assert time.perf_counter() - started < 5
