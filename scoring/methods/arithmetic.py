"""A cheap CPU method: verify the explicit arithmetic claims in each step with exact SymPy rationals.

A claim is a chain `a op b = c (= d ...)` written in plain text or LaTeX (`\\times`, `\\cdot`, `\\div`,
`\\frac{a}{b}`, the Unicode times and division signs, `3 x 4`, thousands commas, `%`, `\\approx`), or a
quotient with its remainder (`355 / 6 = 58 R 5`, checked as 6 * 58 + 5 = 355). The label is the first
step with a false claim ("first arithmetic slip at step k": an earlier step may hold another kind of
error), else -1; a solution without any checkable claim is skipped ("no arithmetic found", no label).
A step scores 1.0 (all its claims hold), 0.0 (one is false) or None (no claim).

Precision over recall: a claim is only checked when both sides are plain arithmetic and at least one
side is an expression. Skipped on purpose: `x = 5` (a variable), `3 = 3 apples` (no operation),
`2 hours = 120 minutes` (units between the numbers), dates and ranges (no `=` between arithmetic),
sides glued to letters or LaTeX (`a_1 + 2 = ...`, `= 12x`) or followed by a variable or bracket
(`= 32 r^5`, `= \\frac14 d(d-3)`, `= 2 [3 + 4]`), sides after operator words (`half of 10 + 2 = 7`,
`9 choose 3`) or before scale words (`= 12 thousand`), percentages mixed with + or -, run-on chains
(`3 + 4 = 7 - 2 = 5`, meaning "7, then 7 - 2 = 5"), tuples (`(\\frac{3+7}{2}, 7) = (5, 7)`), mixed
numbers (`2\\frac{6}{7}`), sums of different units (`1 hour + 30 minutes`), unit conversions
(`12 inches * 2 = 2 feet`), and chains the text does not assert: questions, congruences (`\\pmod`) and
equations it rejects (`2+1=1 (False)`); see `arithmetic_sides` and `arithmetic_text`.
Unit words after numbers are kept as units (`495 students * $15/student`).
A shown decimal is accepted when it is the exact value rounded or truncated to the digits shown
(`10 / 3 = 3.33`), a shown integer when it is the value rounded down or up (`7 / 2 = 4` boxes);
expressions using numbers with two or more decimals (likely rounded themselves, `0.33 * 600 = 200`)
get a relative tolerance; `\\approx` claims get a looser one.
"""

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass

import sympy

from scoring.methods.arithmetic_config import ArithmeticConfig
from scoring.methods.arithmetic_expr import Evaluated, evaluate, quotient_text, with_remainder
from scoring.methods.arithmetic_sides import chains
from scoring.methods.arithmetic_text import normalize, unit_word_tag
from scoring.methods.base import MethodResult, SolutionTask

NO_ARITHMETIC = "no arithmetic found"
_WORD_AFTER = re.compile(r"[ \t]*([A-Za-z]+)")


@dataclass(frozen=True)
class Claim:
    """One checked equation `left relation right` and whether it holds."""

    left: Evaluated
    relation: str
    right: Evaluated
    holds: bool

    def describe(self) -> str:
        """Return the claim as text, with the correct value when it is false."""
        shown = f"{self.left.text} {self.relation} {self.right.text}"
        if self.holds:
            return f"{shown} holds"
        expression = self.left if not self.left.is_literal else self.right
        correct = quotient_text(expression.value, self.right.divisor) if self.right.divisor else None
        return f"{shown} is false ({expression.text} = {correct or format_value(expression.value)})"


def format_value(value: sympy.Rational) -> str:
    """Return an exact value as an integer, a terminating decimal, or a fraction with its decimal."""
    if value.q == 1:
        return str(value.p)
    denominator = int(value.q)
    while denominator % 2 == 0:
        denominator //= 2
    while denominator % 5 == 0:
        denominator //= 5
    decimal = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return decimal if denominator == 1 and len(str(value.q)) <= 7 else f"{value.p}/{value.q} ≈ {decimal}"


def _within_shown_digits(value: sympy.Rational, literal: Evaluated) -> bool:
    """Return whether a shown number is the exact value written with the digits it shows.

    A shown integer may be the value rounded down or up (`7 / 2 = 4` boxes); a shown decimal must be the
    value rounded to nearest or truncated at its last digit (`10 / 3 = 3.33`, not `3.4`).
    """
    unit = literal.literal_unit
    if unit is None:
        return False
    scaled = value / unit
    shown = literal.value / unit
    if unit == 1:
        return bool(sympy.floor(scaled) <= shown <= sympy.ceiling(scaled))
    truncated = sympy.sign(scaled) * sympy.floor(abs(scaled))
    return bool(abs(shown - scaled) <= sympy.Rational(1, 2) or shown == truncated)


def _relatively_close(a: sympy.Rational, b: sympy.Rational, tolerance: float) -> bool:
    scale = max(abs(a), abs(b))
    return bool(scale == 0 or abs(a - b) <= sympy.Rational(tolerance) * scale)


def _as_plain_number(side: Evaluated) -> Evaluated:
    """Return a percent literal read as its plain number (`0.2 * 100 = 20%` writes % as a unit)."""
    if not side.percent or side.literal_unit is None:
        return side
    return dataclasses.replace(side, value=side.value * 100, literal_unit=side.literal_unit * 100, percent=False)


def _holds(left: Evaluated, relation: str, right: Evaluated, config: ArithmeticConfig) -> bool:
    """Return whether the claim holds, reading a percent literal either as a fraction or as a unit."""
    variants = {(left, right), (_as_plain_number(left), _as_plain_number(right))}
    return any(_holds_exactly(a, relation, b, config) for a, b in variants)


def _holds_exactly(left: Evaluated, relation: str, right: Evaluated, config: ArithmeticConfig) -> bool:
    if left.value == right.value:
        return True
    if _within_shown_digits(left.value, right) or _within_shown_digits(right.value, left):
        return True
    if relation == "≈":
        return _relatively_close(left.value, right.value, config.approx_tolerance)
    if left.rounded_operands or right.rounded_operands:
        return _relatively_close(left.value, right.value, config.rounded_operand_tolerance)
    return False


def _run_on(left: Evaluated, right: Evaluated) -> bool:
    """Return whether `right` restarts from `left`'s value (`3 + 4 = 7 - 2`): a chain of steps, not equality."""
    return not right.is_literal and right.leading_number is not None and right.leading_number == left.value


def _unit_conversion(left_units: frozenset[str], right_units: frozenset[str] | set[str]) -> bool:
    """Return whether the sides carry different units (`12 inches * 2 = 2 feet`): a conversion, not equality."""
    return bool(left_units and right_units) and not (left_units <= right_units or right_units <= left_units)


def _chain_claims(
    values: list[Evaluated | None], relations: list[str], trailing_unit: str | None, config: ArithmeticConfig
) -> list[Claim]:
    """Return the checkable claims of one chain of evaluated sides (None: not a whole arithmetic side)."""
    claims: list[Claim] = []
    for index, relation in enumerate(relations):
        left, right = values[index], values[index + 1]
        if left is None or right is None or (left.is_literal and right.is_literal) or _run_on(left, right):
            continue
        right_units = right.units | ({trailing_unit} if trailing_unit and index + 1 == len(relations) else set())
        if _unit_conversion(left.units, right_units):
            continue
        claims.append(Claim(left, relation, right, _holds(left, relation, right, config)))
    return claims


def find_claims(step: str, config: ArithmeticConfig | None = None) -> list[Claim]:
    """Return every checkable arithmetic claim in one step, in reading order."""
    config = config or ArithmeticConfig()
    text = normalize(step)
    claims: list[Claim] = []
    for chain in chains(text):
        values = [evaluate(side, config.max_side_length) if side else None for side in chain.sides]
        if chain.remainder is not None and values[-1] is not None and values[-2] is not None:
            values[-1] = with_remainder(values[-2], values[-1], chain.remainder)
        word_after = _WORD_AFTER.match(text, chain.end)
        trailing_unit = unit_word_tag(word_after.group(1)) if word_after else None
        claims.extend(_chain_claims(values, chain.relations, trailing_unit, config))
    return claims


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _slip_rationale(step_index: int, false_claim: str) -> str:
    """Return the rationale of a flag: what it shows, and what it cannot rule out before it."""
    return (
        f"First arithmetic slip at step {step_index + 1}; an earlier step may hold another kind of error. "
        f"{false_claim}."
    )


def check_task(task: SolutionTask, config: ArithmeticConfig) -> MethodResult:
    """Return the arithmetic suggestion for one solution; skipped ("no arithmetic found") without claims."""
    scores: list[float | None] = []
    false_claims: list[str] = []
    first_slip: tuple[int, Claim] | None = None
    claim_count = 0
    for index, step in enumerate(task.steps):
        claims = find_claims(step, config)
        claim_count += len(claims)
        wrong = [claim for claim in claims if not claim.holds]
        scores.append(None if not claims else (0.0 if wrong else 1.0))
        false_claims.extend(f"Step {index + 1}: {claim.describe()}" for claim in wrong)
        if wrong and first_slip is None:
            first_slip = (index, wrong[0])
    checked = sum(score is not None for score in scores)
    details = {"claims": claim_count, "checked_steps": checked, "false_claims": false_claims[:20]}
    if claim_count == 0:
        return MethodResult(solution_id=task.solution_id, status="skipped", error=NO_ARITHMETIC, details=details)
    if first_slip is not None:
        label, rationale = first_slip[0], _slip_rationale(first_slip[0], first_slip[1].describe())
    else:
        verb = "holds" if claim_count == 1 else "hold"
        label, rationale = (
            -1,
            (
                f"No arithmetic slip: {_counted(claim_count, 'arithmetic claim')} in {checked} of "
                f"{_counted(len(task.steps), 'step')} {verb}; other kinds of error are not checked."
            ),
        )
    return MethodResult(
        solution_id=task.solution_id,
        status="succeeded",
        label=label,
        step_scores=tuple(scores),
        rationale=rationale,
        details=details,
    )


def check(tasks: Sequence[SolutionTask], config: ArithmeticConfig | None = None) -> list[MethodResult]:
    """Return one arithmetic suggestion per task, in order; solutions without steps or claims are skipped."""
    config = config or ArithmeticConfig()
    return [
        check_task(task, config)
        if task.steps
        else MethodResult(solution_id=task.solution_id, status="skipped", error="solution has no steps")
        for task in tasks
    ]
