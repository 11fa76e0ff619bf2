"""Find equation chains in normalized text and keep only the sides that are whole arithmetic expressions.

`chains` scans text from `arithmetic_text.normalize` for runs of numbers, operators and `=`/`≈`, and
returns each run's sides and relations; a side that continues into the text around it becomes "". A run
is no claim at all when the text does not assert it: a question (`2 + 1 = 1?`), an equation the text
rejects (`2 + 1 = 1 (False)`, `…, which does not work`) or a congruence (`(4^2)^2 = (-1)^2 = 1 \\pmod{17}`).
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass

from scoring.methods.arithmetic_text import OPERATOR_WORDS, SCALE_WORDS

_RUN = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+|⟨/?[a-z]+(?: [a-z]+)?⟩|[-+*/^()%=≈# \t])+")
_RELATION = re.compile(r"(=|≈)")
_GLUE = set("\\_{}[]|!'^")
_CONTEXT = 80  # characters around a run that decide whether its end sides are whole
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[ \t]*$")
_WORD_AFTER = re.compile(r"[ \t]*([A-Za-z]+)")
_UNARY_START = re.compile(r"[A-Za-z0-9)\]}|][ \t]*$")
_COMMAND_OR_VARIABLE_BEFORE = re.compile(r"(?:\\[A-Za-z]+|(?<![A-Za-z])[A-Za-z]|[)\]}|])[ \t]*$")
# a command, a single-letter variable (`32 r^5`, `\frac14 d(d-3)`) or an opening bracket (`2 [3 + 4]`)
_CONTINUES_AFTER = re.compile(r"[ \t]*(?:\\[A-Za-z]|[A-Za-z](?![A-Za-z])|[\[{])")
# a quotient with its remainder: `58 R 5`, `0\\, \\text{R}\\, 10`, `4\\) remainder \\(133`, `17 with a remainder of 9`
_REMAINDER = re.compile(r"[ \t\n]*(?:R|r|rem|remainder|with a remainder of)[ \t\n:]*(\d+)(?!\.?\d)")
_QUESTION = re.compile(r"[ \t\n]*\?")
_CONGRUENCE = re.compile(r"[ \t\n(]*(?:\\[pb]?mod\b|mod(?:ulo)?\b|\\equiv|≡)")
_REJECTION = re.compile(
    r"[ \t\n,;:(\[\u2013\u2014-]*"
    r"(?:(?:which|this|that|it|but|so|and|is|was|are|clearly|obviously|certainly|definitely|also|still)[ \t]+){0,3}"
    r"(?:false\b|not[ \t]+true\b|wrong\b|incorrect\b|not[ \t]+correct\b|(?:does[ \t]+not|doesn't)[ \t]+(?:work|hold)\b"
    r"|fails\b|impossible\b|a[ \t]+contradiction\b|[✗✘❌])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Chain:
    """One asserted run `a = b (= c ...)`: its sides ("" when not whole), relations and end position.

    `remainder` is set when the last side is a quotient written with its remainder (`355 / 6 = 58 R 5`).
    """

    sides: list[str]
    relations: list[str]
    end: int
    remainder: int | None = None


def _balance(part: str) -> str:
    part = part.strip()
    while part.endswith(")") and part.count(")") > part.count("("):
        part = part[:-1].rstrip()
    while part.startswith("(") and part.count("(") > part.count(")"):
        part = part[1:].lstrip()
    return part


def _drop_first(before: str, run: str) -> bool:
    """Return whether the first side of a run continues the text before it (so it is not a whole side).

    That is the case when it is glued to a word or LaTeX, follows a LaTeX command (`\\log`), a single
    letter (`\\log_x (10^2)`), a bracket (`[3 + 4] 2`), or an operator word (`half of`), or starts with a
    binary operator (`x - 3 + 5`).
    """
    glued = bool(before) and not run[0].isspace() and (before[-1].isalpha() or before[-1] in _GLUE)
    word = _WORD_BEFORE.search(before)
    operator_word = word is not None and word.group(1).lower() in OPERATOR_WORDS
    first = run.lstrip()
    binary_start = first[:1] in ("+", "*", "/", "^", "%") or (
        first[:1] == "-" and _UNARY_START.search(before) is not None
    )
    return glued or operator_word or binary_start or _COMMAND_OR_VARIABLE_BEFORE.search(before) is not None


def _drop_last(after: str, run: str) -> bool:
    """Return whether the last side of a run continues into the text after it.

    `= 12x`, `= 12 thousand`, `= 3 \\sqrt 2`, `= 32 r^5`, `= \\frac14 d(d-3)` and `= 2 [3 + 4]` all do.
    """
    glued = bool(after) and not run[-1].isspace() and (after[0].isalpha() or after[0] in _GLUE)
    word = _WORD_AFTER.match(after)
    scale_word = word is not None and word.group(1).lower() in SCALE_WORDS
    return glued or scale_word or _CONTINUES_AFTER.match(after) is not None


def _asserted(after: str) -> bool:
    """Return whether the text after a run leaves it a claim (not a question, a rejection or a congruence)."""
    return not any(pattern.match(after) for pattern in (_QUESTION, _CONGRUENCE, _REJECTION))


def _sides(text: str, match: re.Match[str], *, whole_last: bool) -> list[str]:
    """Return the sides of a run; a side that is not a whole expression becomes "".

    Unbalanced brackets mark tuples and groups (`(\\frac{3+7}{2}, \\frac{4+10}{2}) = (5, 7)`): a first side
    that closes more than it opens, a last side that opens more than it closes, and an unbalanced middle
    side are dropped; an opening bracket before the first side or a closing one after the last is trimmed.
    `whole_last` keeps the last side whatever follows it (a quotient before its remainder).
    """
    run = match.group(0)
    sides = [piece.strip() for piece in _RELATION.split(run.strip())[0::2]]
    last = len(sides) - 1
    for index, side in enumerate(sides):
        opened, closed = side.count("("), side.count(")")
        unbalanced = opened != closed if 0 < index < last else False
        if (index == 0 and closed > opened) or (index == last and opened > closed) or unbalanced:
            sides[index] = ""
        else:
            sides[index] = _balance(side)
    if _drop_first(text[max(0, match.start() - _CONTEXT) : match.start()], run):
        sides[0] = ""
    if not whole_last and _drop_last(text[match.end() : match.end() + _CONTEXT], run):
        sides[-1] = ""
    return sides


def chains(text: str) -> Iterator[Chain]:
    """Yield every asserted run of normalized text that holds `=` or `≈`."""
    for match in _RUN.finditer(text):
        run = match.group(0)
        if "=" not in run and "≈" not in run:
            continue
        tail = len(run) - len(run.rstrip(" \t("))
        if not _asserted(text[match.end() - tail : match.end() + _CONTEXT]):
            continue
        relations = _RELATION.split(run.strip())[1::2]
        remainder = _REMAINDER.match(text, match.end())
        sides = _sides(text, match, whole_last=remainder is not None)
        yield Chain(sides, relations, match.end(), int(remainder.group(1)) if remainder and sides[-1] else None)
