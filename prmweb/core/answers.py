"""Final-answer checking: extract a solution's final answer and compare it with a reference answer.

Pure logic, no Django. math-verify's own time limits use ``signal.alarm`` and raise off the main
thread (web threads, Celery thread pools), so they are switched off here and the time is bounded
another way: inputs longer than ``MAX_ANSWER_CHARS`` are refused, and parsed expressions that would
make SymPy compute for a long time (huge powers, factorials, binomials) are compared as text only.
"""

import functools
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # SymPy and math-verify load on the first comparison, not with the URL conf
    import sympy

MAX_ANSWER_CHARS = 1000
MAX_NUMERIC_EXPONENT = 1000
MAX_SYMBOLIC_EXPONENT_TOTAL = 100
MAX_FACTORIAL_ARGUMENT = 1000
MAX_INTEGER_DIGITS = 300

_BOXED_START = re.compile(r"\\(?:boxed|fbox)\s*\{")
_STRAY_BACKSLASH = re.compile(r"(?<!\\)\\(?=\d)")  # "\15" from a mangled "\$15"
_THOUSANDS = re.compile(r"^-?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_TRAILING_TEXT = re.compile(r"\s*\\(?:text|textrm|mbox|mathrm)\s*\{[^{}]*\}\s*$")
_WORD = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")  # a run of letters that is not a LaTeX command
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{[^{}]*\}")
_MATH_WORDS = frozenset({"sin", "cos", "tan", "cot", "sec", "csc", "log", "exp", "min", "max", "mod", "gcd", "lcm"})
_MATH_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))


class _TimeoutDisabledFilter(logging.Filter):
    """Drop math-verify's warning that its timeout is off: it is off on purpose (see the module doc)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Timeout is disabled" not in record.getMessage()


for _name in ("math_verify.parser", "math_verify.grader"):
    logging.getLogger(_name).addFilter(_TimeoutDisabledFilter())


def extract_boxed(text: str) -> str | None:
    """Return the content of the last brace-balanced ``\\boxed{...}`` (or ``\\fbox{...}``), else None.

    Nested braces are matched; escaped braces (``\\{``, ``\\}``) do not count. An unbalanced last box
    is skipped in favour of the previous balanced one.
    """
    if not isinstance(text, str):
        return None
    for match in reversed(list(_BOXED_START.finditer(text))):
        content = _balanced_content(text, match.end())
        if content is not None:
            return content.strip()
    return None


def extract_first_boxed(text: str) -> str | None:
    """Return the content of the FIRST brace-balanced ``\\boxed{...}`` (or ``\\fbox{...}``), else None.

    An MC rollout's answer: a completion that runs on past its answer (a new problem, a second guess)
    is judged by what it boxed first.
    """
    if not isinstance(text, str):
        return None
    for match in _BOXED_START.finditer(text):
        content = _balanced_content(text, match.end())
        if content is not None:
            return content.strip()
    return None


def extract_boxed_in(steps: Sequence[str]) -> str | None:
    """Return the last boxed answer in a sequence of steps (the answer a step prefix already states), else None."""
    for step in reversed(steps):
        boxed = extract_boxed(step)
        if boxed is not None:
            return boxed
    return None


def _balanced_content(text: str, start: int) -> str | None:
    """Return text[start:end] up to the brace closing the one opened just before `start`, else None."""
    depth = 1
    index = start
    while index < len(text):
        char = text[index]
        if char == "\\":
            index += 2
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return text[start:index]
        index += 1
    return None


def extract_final_answer(steps: Sequence[str], *, response: str = "") -> str:
    """Return the solution's last boxed answer, else the last step's text (stripped); "" without steps.

    With the `response` the steps were split from, its last box is taken first: a box that spans a
    paragraph break is whole in the response but cut in two in the steps.
    """
    if response and (boxed := extract_boxed(response)) is not None:
        return boxed
    boxed = extract_boxed_in(steps)
    if boxed is not None:
        return boxed
    return steps[-1].strip() if steps else ""


def has_boxed_answer(steps: Sequence[str], *, response: str = "") -> bool:
    """Return whether the solution states its answer in a box (else the answer is read from the last step's text)."""
    return (bool(response) and extract_boxed(response) is not None) or extract_boxed_in(steps) is not None


def answers_equivalent(candidate: str, reference: str) -> bool:
    """Return True when `candidate` is mathematically the same answer as `reference`.

    Handles LaTeX (``\\frac``, ``\\dfrac``, ``\\sqrt``), units and degrees, ``x=3`` against ``3``,
    thousands separators and ``\\text{...}`` answers. Never raises: bad or over-long input is False.
    Safe in any thread: math-verify's signal-based timeouts are off.
    """
    try:
        return _equivalent(candidate, reference)
    except Exception:  # a checker must never take a request or a worker down
        logging.getLogger(__name__).debug("answer comparison failed", exc_info=True)
        return False


def check_final_answer(steps: Sequence[str], reference_answer: str) -> tuple[str, bool]:
    """Return the solution's extracted final answer and whether it matches the reference answer."""
    final_answer = extract_final_answer(steps)
    return final_answer, answers_equivalent(final_answer, reference_answer)


def _equivalent(candidate: Any, reference: Any) -> bool:
    if not isinstance(candidate, str) or not isinstance(reference, str):
        return False
    if len(candidate) > MAX_ANSWER_CHARS or len(reference) > MAX_ANSWER_CHARS:
        return False
    candidate, reference = _clean(candidate), _clean(reference)
    if not candidate or not reference:
        return False
    if _plain(candidate) == _plain(reference):
        return True
    gold = _parse_bounded(f"${reference}$") or _parse_bounded(reference)
    if not gold:
        return False
    if _verify(gold, _parse_bounded(f"${candidate}$")):
        return True
    # Running text ("So she earns $18 a day.") is not one formula: let math-verify find the answer in it.
    # Only for prose: on a formula, text extraction keeps a fragment ("6\sqrt{3}" -> 6) and would match wrongly.
    return _is_prose(candidate) and _verify(gold, _parse_bounded(candidate.replace("\\$", "$")))


def _clean(answer: str) -> str:
    """Strip whitespace, math delimiters, a surrounding box and thousands separators."""
    answer = answer.strip().replace("\x00", "")
    boxed = extract_boxed(answer)
    if boxed is not None:
        answer = boxed
    for opening, closing in _MATH_DELIMITERS:
        if len(answer) > len(opening) + len(closing) and answer.startswith(opening) and answer.endswith(closing):
            answer = answer[len(opening) : -len(closing)].strip()
            break
    unit_free = _TRAILING_TEXT.sub("", answer)
    if unit_free:  # "8\sqrt{3} \text{ square inches}" -> "8\sqrt{3}"; a lone "\text{4:30 p.m.}" stays
        answer = unit_free
    if _THOUSANDS.match(answer):
        answer = answer.replace(",", "")
    return _STRAY_BACKSLASH.sub("", answer)


def _plain(answer: str) -> str:
    """Return a text form for literal comparison: no text commands, spacing, dollars or final period."""
    answer = _TEXT_COMMAND.sub(r"\1", answer)
    answer = re.sub(r"\\[,;:! ]|\s+|\$", "", answer)
    return answer.rstrip(".").lower()


def _is_prose(answer: str) -> bool:
    """Return whether the answer holds words (not only a formula), e.g. "18 dollars" or a sentence."""
    answer = _ENVIRONMENT.sub("", answer)
    return any(word.lower() not in _MATH_WORDS for word in _WORD.findall(answer))


@functools.cache
def _extraction_config() -> tuple[Any, ...]:
    from math_verify import ExprExtractionConfig, LatexExtractionConfig

    return (LatexExtractionConfig(), ExprExtractionConfig())


def _parse_bounded(text: str) -> list[Any]:
    """Return math-verify's parse of the text; an item too costly for SymPy is kept as its text only."""
    from math_verify import parse

    parsed = parse(text, extraction_config=_extraction_config(), parsing_timeout=None)  # type: ignore[arg-type]
    if parsed and not all(_is_cheap(item) for item in parsed):
        return [str(parsed[-1])]
    return list(parsed)


def _verify(gold: list[Any], target: list[Any]) -> bool:
    from math_verify import verify

    return bool(target) and verify(gold, target, timeout_seconds=None, raise_on_error=False)


def _is_cheap(item: Any) -> bool:
    """Return whether SymPy can compare this parsed item quickly (no huge powers, factorials, numbers)."""
    if isinstance(item, str):
        return True
    import sympy

    combinatorial = (sympy.factorial, sympy.factorial2, sympy.subfactorial, sympy.binomial)
    if not isinstance(item, sympy.Basic | sympy.MatrixBase):
        return False
    symbolic_exponent_total = 0
    for node in sympy.preorder_traversal(item):
        if isinstance(node, sympy.Integer) and len(str(abs(int(node)))) > MAX_INTEGER_DIGITS:
            return False
        if isinstance(node, sympy.Pow):
            cost = _power_cost(node)
            if cost is None:
                return False
            symbolic_exponent_total += cost
            if symbolic_exponent_total > MAX_SYMBOLIC_EXPONENT_TOTAL:
                return False
        if isinstance(node, combinatorial) and not all(_small_or_symbolic(arg) for arg in node.args):
            return False
    return True


def _power_cost(node: "sympy.Pow") -> int | None:
    """Return how much a power adds to symbolic expansion work, or None when it is too costly to evaluate."""
    import sympy

    base, exponent = node.args
    if exponent.free_symbols:
        return 0
    if not isinstance(exponent, sympy.Number):
        return None  # a tower or a computed exponent: 2^{2^{100}} would be evaluated in full
    size = abs(float(exponent))
    if size > MAX_NUMERIC_EXPONENT:
        return None
    return int(size) if base.free_symbols else 0


def _small_or_symbolic(argument: "sympy.Basic") -> bool:
    if argument.free_symbols:
        return True
    import sympy

    return isinstance(argument, sympy.Number) and abs(float(argument)) <= MAX_FACTORIAL_ARGUMENT
