"""A cheap CPU method: verify the explicit arithmetic claims in each step with exact SymPy rationals.

A claim is a chain `a op b = c (= d ...)` written in plain text or LaTeX (`\\times`, `\\cdot`, `\\div`,
`\\frac{a}{b}`, the Unicode times and division signs, `3 x 4`, thousands commas, `%`, `\\approx`).
The label is the first step with a false claim, else -1; a step scores 1.0 (all its claims hold),
0.0 (one is false) or None (no claim).

Precision over recall: a claim is only checked when both sides are plain arithmetic and at least one
side is an expression. Skipped on purpose: `x = 5` (a variable), `3 = 3 apples` (no operation),
`2 hours = 120 minutes` (units between the numbers), dates and ranges (no `=` between arithmetic),
sides glued to letters or LaTeX (`a_1 + 2 = ...`, `= 12x`), sides after operator words
(`half of 10 + 2 = 7`) or before scale words (`= 12 thousand`), percentages mixed with + or -,
run-on chains (`3 + 4 = 7 - 2 = 5`, meaning "7, then 7 - 2 = 5"), tuples (`(\\frac{3+7}{2}, 7) = (5, 7)`),
mixed numbers (`2\\frac{6}{7}`), sums of different units (`1 hour + 30 minutes`) and unit conversions
(`12 inches * 2 = 2 feet`). Unit words after numbers are kept as units (`495 students * $15/student`).
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

from scoring.methods.arithmetic_expr import Evaluated, evaluate
from scoring.methods.arithmetic_text import OPERATOR_WORDS, SCALE_WORDS, normalize, unit_word_tag
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

_RUN = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+|⟨/?[a-z]+(?: [a-z]+)?⟩|[-+*/^()%=≈# \t])+")
_RELATION = re.compile(r"(=|≈)")
_GLUE = set("\\_{}[]|!'^")
_CONTEXT = 80  # characters around a run that decide whether its end sides are whole
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[ \t]*$")
_WORD_AFTER = re.compile(r"[ \t]*([A-Za-z]+)")
_UNARY_START = re.compile(r"[A-Za-z0-9)\]}|][ \t]*$")
_COMMAND_OR_VARIABLE_BEFORE = re.compile(r"(?:\\[A-Za-z]+|(?<![A-Za-z])[A-Za-z]|[)\]}|])[ \t]*$")
_COMMAND_AFTER = re.compile(r"[ \t]*\\[A-Za-z]")


@dataclass(frozen=True)
class ArithmeticConfig:
    """Tolerances of the arithmetic check (relative errors, as fractions)."""

    rounded_operand_tolerance: float = 0.01
    approx_tolerance: float = 0.05
    max_side_length: int = 200

    def __post_init__(self) -> None:
        for name in ("rounded_operand_tolerance", "approx_tolerance"):
            if not 0 <= getattr(self, name) < 1:
                raise MethodConfigError(name, "must be in [0, 1)")
        if self.max_side_length < 1:
            raise MethodConfigError("max_side_length", "must be at least 1")


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
        return f"{shown} is false ({expression.text} = {format_value(expression.value)})"


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


def _balance(part: str) -> str:
    part = part.strip()
    while part.endswith(")") and part.count(")") > part.count("("):
        part = part[:-1].rstrip()
    while part.startswith("(") and part.count("(") > part.count(")"):
        part = part[1:].lstrip()
    return part


def _drop_first(text: str, start: int, run: str) -> bool:
    """Return whether the first side of a run continues text before it (so it is not a whole side).

    That is the case when it is glued to a word or LaTeX, follows a LaTeX command (`\\log`), a single
    letter (`\\log_x (10^2)`), a closing bracket or an operator word (`half of`), or starts with a binary
    operator (`x - 3 + 5`).
    """
    before = text[max(0, start - _CONTEXT) : start]
    glued = bool(before) and not run[0].isspace() and (before[-1].isalpha() or before[-1] in _GLUE)
    word = _WORD_BEFORE.search(before)
    operator_word = word is not None and word.group(1).lower() in OPERATOR_WORDS
    first = run.lstrip()
    binary_start = first[:1] in ("+", "*", "/", "^", "%") or (
        first[:1] == "-" and _UNARY_START.search(before) is not None
    )
    return glued or operator_word or binary_start or _COMMAND_OR_VARIABLE_BEFORE.search(before) is not None


def _drop_last(text: str, end: int, run: str) -> bool:
    """Return whether the last side of a run continues into text after it (`= 12x`, `= 12 thousand`, `\\cos`)."""
    after = text[end : end + _CONTEXT]
    glued = bool(after) and not run[-1].isspace() and (after[0].isalpha() or after[0] in _GLUE)
    word = _WORD_AFTER.match(after)
    scale_word = word is not None and word.group(1).lower() in SCALE_WORDS
    return glued or scale_word or _COMMAND_AFTER.match(after) is not None


def _sides(text: str, match: re.Match[str]) -> tuple[list[str], list[str]]:
    """Return the sides and relations of a run; a side that is not a whole expression becomes "".

    Unbalanced brackets mark tuples and groups (`(\\frac{3+7}{2}, \\frac{4+10}{2}) = (5, 7)`): a first side
    that closes more than it opens, a last side that opens more than it closes, and an unbalanced middle
    side are dropped; an opening bracket before the first side or a closing one after the last is trimmed.
    """
    run = match.group(0)
    pieces = _RELATION.split(run.strip())
    sides, relations = [p.strip() for p in pieces[0::2]], pieces[1::2]
    last = len(sides) - 1
    for index, side in enumerate(sides):
        opened, closed = side.count("("), side.count(")")
        unbalanced = opened != closed if 0 < index < last else False
        if (index == 0 and closed > opened) or (index == last and opened > closed) or unbalanced:
            sides[index] = ""
        else:
            sides[index] = _balance(side)
    if _drop_first(text, match.start(), run):
        sides[0] = ""
    if _drop_last(text, match.end(), run):
        sides[-1] = ""
    return sides, relations


def _run_on(left: Evaluated, right: Evaluated) -> bool:
    """Return whether `right` restarts from `left`'s value (`3 + 4 = 7 - 2`): a chain of steps, not equality."""
    return not right.is_literal and right.leading_number is not None and right.leading_number == left.value


def _unit_conversion(left_units: frozenset[str], right_units: frozenset[str] | set[str]) -> bool:
    """Return whether the sides carry different units (`12 inches * 2 = 2 feet`): a conversion, not equality."""
    return bool(left_units and right_units) and not (left_units <= right_units or right_units <= left_units)


def find_claims(step: str, config: ArithmeticConfig | None = None) -> list[Claim]:
    """Return every checkable arithmetic claim in one step, in reading order."""
    config = config or ArithmeticConfig()
    text = normalize(step)
    claims: list[Claim] = []
    for match in _RUN.finditer(text):
        if "=" not in match.group(0) and "≈" not in match.group(0):
            continue
        sides, relations = _sides(text, match)
        values = [evaluate(side, config.max_side_length) if side else None for side in sides]
        word_after = _WORD_AFTER.match(text, match.end())
        trailing_unit = unit_word_tag(word_after.group(1)) if word_after else None
        for index, relation in enumerate(relations):
            left, right = values[index], values[index + 1]
            if left is None or right is None or (left.is_literal and right.is_literal) or _run_on(left, right):
                continue
            right_units = right.units | ({trailing_unit} if trailing_unit and index + 1 == len(relations) else set())
            if _unit_conversion(left.units, right_units):
                continue
            claims.append(Claim(left, relation, right, _holds(left, relation, right, config)))
    return claims


def check_task(task: SolutionTask, config: ArithmeticConfig) -> MethodResult:
    """Return the arithmetic suggestion for one solution."""
    scores: list[float | None] = []
    false_claims: list[str] = []
    label = -1
    claim_count = 0
    for index, step in enumerate(task.steps):
        claims = find_claims(step, config)
        claim_count += len(claims)
        wrong = [claim for claim in claims if not claim.holds]
        scores.append(None if not claims else (0.0 if wrong else 1.0))
        false_claims.extend(f"Step {index + 1}: {claim.describe()}" for claim in wrong)
        if wrong and label == -1:
            label = index
    checked = sum(score is not None for score in scores)
    if label >= 0:
        rationale = false_claims[0] + "."
    else:
        rationale = f"All {claim_count} arithmetic claims in {checked} of {len(task.steps)} steps hold."
    return MethodResult(
        solution_id=task.solution_id,
        status="succeeded",
        label=label,
        step_scores=tuple(scores),
        rationale=rationale,
        details={"claims": claim_count, "checked_steps": checked, "false_claims": false_claims[:20]},
    )


def check(tasks: Sequence[SolutionTask], config: ArithmeticConfig | None = None) -> list[MethodResult]:
    """Return one arithmetic suggestion per task, in order; solutions without steps are skipped."""
    config = config or ArithmeticConfig()
    return [
        check_task(task, config)
        if task.steps
        else MethodResult(solution_id=task.solution_id, status="skipped", error="solution has no steps")
        for task in tasks
    ]
