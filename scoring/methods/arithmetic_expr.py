"""Evaluate one side of an equation exactly with SymPy rationals.

`evaluate` parses plain arithmetic (`+ - * / ^ ( ) %`, unit tags from `arithmetic_text.normalize`) with a
small recursive-descent parser (never `eval` or `sympify`) into an exact `sympy.Rational`, or returns None
when the text is not plain arithmetic.
"""

import re
from dataclasses import dataclass

import sympy

MAX_EXPONENT = 64
_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d+)?|\.\d+)|(?P<op>[-+*/^()%])|(?P<unit>⟨/?[a-z]+(?: [a-z]+)?⟩))")
_UNIT_TAG = re.compile(r"\s*⟨[^⟩]*⟩")
_LITERAL = re.compile(r"^(?P<minus>-?)\s*(?P<num>\d+(?:\.(?P<decimals>\d+))?|\.(?P<bare>\d+))\s*(?P<percent>%?)$")


class ExpressionError(ValueError):
    """The text is not plain arithmetic (or is too large to evaluate safely)."""


@dataclass(frozen=True)
class Evaluated:
    """One side of an equation: its exact value and what it looks like.

    `literal_unit` is set for a bare number (such as `3.25` or `40%`): one unit of its last shown digit,
    in value terms (0.01 for `3.25`, 0.0001 for `3.25%`). `rounded_operands` is True when an expression
    uses a number with two or more decimals (likely rounded, such as 0.33 or 3.14).
    """

    value: sympy.Rational
    text: str
    literal_unit: sympy.Rational | None
    percent: bool
    rounded_operands: bool
    leading_number: sympy.Rational | None
    units: frozenset[str] = frozenset()
    divisor: int | None = None  # set on a quotient written with its remainder (`58 R 5` of `355 / 6`)

    @property
    def is_literal(self) -> bool:
        return self.literal_unit is not None


class _Parser:
    """Recursive descent over + - * / ^ ( ) % with implicit multiplication before '('."""

    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0
        self.operators = 0
        self.rounded = False
        self.units: list[str] = []

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end")
        self.position += 1
        return token

    def parse(self) -> sympy.Rational:
        value = self.sum()
        if self.peek() is not None:
            raise ExpressionError(f"unexpected {self.peek()!r}")
        return value

    def sum(self) -> sympy.Rational:
        """Parse a sum; operands carrying different units (`1 hour + 30 minutes`) are not plain arithmetic."""
        start = len(self.units)
        value = self.product()
        operand_units = {frozenset(self.units[start:])}
        while self.peek() in ("+", "-"):
            operator = self.take()
            self.operators += 1
            start = len(self.units)
            right = self.product()
            operand_units.add(frozenset(self.units[start:]))
            value = value + right if operator == "+" else value - right
        if len(operand_units - {frozenset()}) > 1:
            raise ExpressionError("operands with different units")
        return value

    def product(self) -> sympy.Rational:
        value = self.unary()
        while self.peek() in ("*", "/", "("):
            operator = self.take() if self.peek() != "(" else "*"
            self.operators += 1
            right = self.unary()
            if operator == "/" and right == 0:
                raise ExpressionError("division by zero")
            value = value * right if operator == "*" else value / right
        return value

    def unary(self) -> sympy.Rational:
        if self.peek() in ("-", "+"):
            sign = -1 if self.take() == "-" else 1
            return sign * self.unary()
        return self.power()

    def power(self) -> sympy.Rational:
        base = self.atom()
        if self.peek() != "^":
            return base
        self.take()
        self.operators += 1
        exponent = self.unary()
        if not exponent.is_integer or abs(exponent) > MAX_EXPONENT or (base == 0 and exponent < 0):
            raise ExpressionError("unsupported exponent")
        return sympy.Rational(base**exponent)

    def atom(self) -> sympy.Rational:
        token = self.take()
        if token == "(":
            value = self.sum()
            if self.take() != ")":
                raise ExpressionError("unbalanced parentheses")
        elif token[0].isdigit() or token[0] == ".":
            value = sympy.Rational(token)
            self.rounded = self.rounded or ("." in token and len(token.split(".")[1]) >= 2)
        else:
            raise ExpressionError(f"unexpected {token!r}")
        while self.peek() == "%":
            self.take()
            value = value / 100
        while (following := self.peek()) is not None and following.startswith("⟨"):
            self.units.append(self.take())
        return value


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None:
            raise ExpressionError(f"unexpected character {stripped[position]!r}")
        tokens.append(match.group("num") or match.group("op") or match.group("unit"))
        position = match.end()
    return tokens


def _literal_unit(text: str) -> sympy.Rational | None:
    match = _LITERAL.match(_UNIT_TAG.sub("", text).strip())
    if match is None:
        return None
    decimals = len(match.group("decimals") or match.group("bare") or "")
    unit = sympy.Rational(1, 10**decimals)
    return unit / 100 if match.group("percent") else unit


def _leading_number(tokens: list[str]) -> sympy.Rational | None:
    if tokens and tokens[0][0].isdigit() and len(tokens) > 1 and tokens[1] in "+-*/":
        return sympy.Rational(tokens[0])
    return None


def evaluate(text: str, max_length: int = 200) -> Evaluated | None:
    """Return one equation side evaluated exactly, or None when it is not plain arithmetic.

    A percentage mixed with addition or subtraction (`50 + 10%`) is ambiguous in prose and returns None.
    """
    text = text.strip()
    if not text or len(text) > max_length:
        return None
    if "%" in text and re.search(r"(?<=[\d)%\s])[-+]", text):
        return None
    try:
        parser = _Parser(text)
        value = parser.parse()
    except (ExpressionError, ValueError, ZeroDivisionError, TypeError):
        return None
    unit = _literal_unit(text)
    if unit is None and parser.operators == 0:
        return None
    return Evaluated(
        value=value,
        text=" ".join(_UNIT_TAG.sub("", text).split()),
        literal_unit=unit,
        percent=unit is not None and _UNIT_TAG.sub("", text).endswith("%"),
        rounded_operands=parser.rounded and unit is None,
        leading_number=_leading_number(parser.tokens),
        units=frozenset(parser.units),
    )


_DIVISOR = re.compile(r"/\s*(\d+)$")


def quotient_text(value: sympy.Rational, divisor: int) -> str | None:
    """Return `q R r` for a value whose multiple by `divisor` is a whole number (`355/6`, 6 -> `59 R 1`)."""
    dividend = value * divisor
    if not dividend.is_integer or dividend < 0:
        return None
    quotient, remainder = divmod(int(dividend), divisor)
    return f"{quotient} R {remainder}"


def with_remainder(division: Evaluated, quotient: Evaluated, remainder: int) -> Evaluated | None:
    """Return the quotient `q R r` of `a / b` as the exact value q + r/b, or None when it is no such quotient.

    The value is compared exactly (no rounding allowance), so `355 / 6 = 58 R 5` is false and `20 / 6 = 3 R 2`
    holds; the division must end in an integer divisor above the remainder.
    """
    divisor = _DIVISOR.search(division.text)
    if divisor is None or quotient.literal_unit != 1 or quotient.percent or remainder >= int(divisor.group(1)):
        return None
    return Evaluated(
        value=quotient.value + sympy.Rational(remainder, int(divisor.group(1))),
        text=f"{quotient.text} R {remainder}",
        literal_unit=None,
        percent=False,
        rounded_operands=False,
        leading_number=None,
        divisor=int(divisor.group(1)),
    )
