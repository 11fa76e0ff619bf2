"""Rewrite math prose to plain arithmetic: LaTeX and Unicode operators, thousands separators, unit words.

`normalize` turns `\\times`, `\\frac{a}{b}`, Unicode signs and thousands commas into `+ - * / ^ ( ) %` and
tags unit words after numbers (`495⟨student⟩ * 15⟨/student⟩`), so that `scoring.methods.arithmetic` can
find equation chains and `scoring.methods.arithmetic_expr` can evaluate their sides.
"""

import re

_FRACTION = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_NUMERIC_FRACTION = re.compile(r"\\[dt]?frac\s*\{\s*(\d+(?:\.\d+)?)\s*\}\s*\{\s*(\d+(?:\.\d+)?)\s*\}")
_SHORT_FRACTION = re.compile(r"\\[dt]?frac\s*(\d)\s*(\d)")
_BRACED_POWER = re.compile(r"\^\s*\{([^{}]*)\}")
_TEXT_COMMAND = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_BOXED = re.compile(r"\\boxed\s*\{([^{}]*)\}")
_NAMED_NUMBER = re.compile(r"(?<=[A-Za-z])([ \t]+)\d+(?:[.,]\d+)*")
# a ` - ` after a closing formula delimiter continues that formula (`\(45\) \(- 15 \cdot 2 = 15\)`)
_MINUS_AFTER_FORMULA = re.compile(r"(?:(?<=\\\))|(?<=\\\])|(?<=\$))([ \t]*(?:\\\(|\\\[|\$)?[ \t]*)(?=[-\u2212][ \t])")
_BULLET = re.compile(r"(?m)^[ \t]*[-*+•][ \t]+")
_ROOT_GLYPH = re.compile(r"[√∛∜]")
_REJECTED_NOTE = re.compile(r"\(\s*(?:false|wrong|incorrect|invalid|not (?:true|correct))\s*\)", re.IGNORECASE)
_MIXED_NUMBER = re.compile(r"(\d)\s*(?=\\[dt]?frac)")
_CURRENCY = re.compile(r"\$(?=\d)")
_TIMES_LETTER = re.compile(r"(?<=[\d)])[ \t]*[xX][ \t]*(?=[\d(])")
_THOUSANDS = (
    re.compile(r"(?<=\d)\{,\}(?=\d{3})"),
    re.compile(r"(?<=\d)\\,(?=\d{3})"),
    re.compile(r"(?<=\d),(?=\d{3}(?!\d))"),
)
_REPLACEMENTS = (
    ("\\times", " * "),
    ("\\cdot", " * "),
    ("\\ast", " * "),
    ("\\div", " / "),
    ("\\approx", " ≈ "),
    ("\\left", ""),
    ("\\right", ""),
    ("\\%", "%"),
    ("\\(", "\n"),
    ("\\)", "\n"),
    ("\\[", "\n"),
    ("\\]", "\n"),
    ("\\,", " "),
    ("\\;", " "),
    ("\\:", " "),
    ("\\!", ""),
    ("\\quad", " "),
    ("**", " "),
    ("$", "\n"),
    ("~", " "),
    ("\u00d7", "*"),
    ("·", "*"),
    ("⋅", "*"),
    ("∙", "*"),
    ("÷", "/"),
    ("\u2212", "-"),
    ("\u00a0", " "),
)


OPERATOR_WORDS = frozenset(
    """of times plus minus by per over divided multiplied less more than twice double triple half quarter
    third thirds fourth fifths squared cubed sqrt root choose mod modulo""".split()  # noqa: SIM905 (a word list)
)
SCALE_WORDS = frozenset(
    """hundred hundreds thousand thousands million millions billion billions dozen dozens percent times
    squared cubed half thirds quarters choose mod modulo""".split()  # noqa: SIM905
)
NOT_UNITS = (
    OPERATOR_WORDS
    | SCALE_WORDS
    | frozenset(
        """and but nor then the that this these those which who what are was were been will would can could
    should has have had for from into with without each every all fewer total not our their his her its
    you they she him them get gets got make makes made left remaining equals equal gives give yields
    leaves leaving now also""".split()  # noqa: SIM905
    )
)
_UNIT_WORDS = re.compile(r"(?<=[\d%])[ \t]+([a-z]{3,}(?:[ \t]+[a-z]{3,})?)(?=[ \t]*([-+*/=≈]))")
_PER_UNIT = re.compile(r"(?<=[\d%⟩])[ \t]*/[ \t]*([a-z]{3,})\b(?![ \t]*[\d(])")
_WORD_NOTE = re.compile(r"(?<=[\d%])[ \t]*\((?=[^()]*[A-Za-z]{3})[A-Za-z ,'-]+\)")


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


def unit_word_tag(word: str) -> str | None:
    """Return the unit tag of one word (`feet` -> `⟨feet⟩`, `apples` -> `⟨apple⟩`), or None for a non-unit."""
    word = word.lower()
    if len(word) < 3 or word in NOT_UNITS:
        return None
    return f"⟨{_singular(word)}⟩"


def _unit_tag(words: str, operator: str, line_tags: list[str]) -> str | None:
    """Return the unit tag for `NUM words` before an operator, or None when the words are no unit.

    Before `=` a word is a unit only when the same unit was already tagged earlier on the line
    (`5 apples + 3 apples = 8`); otherwise it describes the left side (`heat up to 400 degrees = 20 + 8`).
    """
    if any(word in NOT_UNITS for word in words.split()):
        return None
    tag = "⟨" + " ".join(_singular(word) for word in words.split()) + "⟩"
    if operator in "=≈" and tag not in line_tags:
        return None
    return tag


def tag_units(text: str) -> str:
    """Return plain-text arithmetic with unit words after numbers tagged, and word notes removed.

    `495 students * 15/student` becomes `495⟨student⟩ * 15⟨/student⟩` and `7995 (total cookies) - 2595`
    becomes `7995 - 2595`. Only lowercase words of 3+ letters that are followed by an operator are units;
    operator, scale and function words never are.
    """
    text = _WORD_NOTE.sub(" ", text)
    pieces: list[str] = []
    line_tags: list[str] = []
    position = 0
    for match in _UNIT_WORDS.finditer(text):
        gap = text[position : match.start()]
        if "\n" in gap:
            line_tags = []
        tag = _unit_tag(match.group(1), match.group(2), line_tags)
        pieces.extend((gap, tag if tag is not None else match.group(0)))
        if tag is not None:
            line_tags.append(tag)
        position = match.end()
    pieces.append(text[position:])
    return _PER_UNIT.sub(lambda match: f"⟨/{_singular(match.group(1))}⟩", "".join(pieces))


def _text_words(match: re.Match[str]) -> str:
    """Return the words of a `\\text{}` with numbers that follow a word hidden (`Area 2` names; 2 is no value)."""
    return " " + _NAMED_NUMBER.sub(r"\1#", match.group(1)) + " "


def normalize(text: str) -> str:
    """Return the text with LaTeX/Unicode arithmetic rewritten to plain operators and numbers.

    Markdown bullets (`- `, `* ` at a line start) are dropped, not read as minus signs. Math delimiters
    (`\\(`, `\\[`, `$` not before a digit) become line breaks, so that claims in separate formulas never
    merge; `$` before a digit is currency and is dropped. A number written right before `\\frac`
    (`2\\frac{6}{7}`, a mixed number or a product), a number after a word in `\\text{}` (`\\text{Area 2}`)
    and a ` - ` right after a formula (`\\(45\\) \\(- 15 \\cdot 2`, which continues it) are marked `#`, which no
    side may contain. Root glyphs become `\\sqrt`, so that what follows is no whole side; a note that
    rejects what precedes it (`(False)`) becomes `✗`.
    """
    text = _ROOT_GLYPH.sub(r" \\sqrt ", _BULLET.sub("", _REJECTED_NOTE.sub(" ✗ ", text)))
    for pattern in _THOUSANDS:
        text = pattern.sub("", text)
    text = _CURRENCY.sub("", text.replace("\\$", " "))
    text = _MINUS_AFTER_FORMULA.sub(r"\1#", text)
    text = _MIXED_NUMBER.sub(r"\1#", text)
    previous = None
    while previous != text:
        previous = text
        text = _NUMERIC_FRACTION.sub(r"(\1/\2)", text)
        text = _FRACTION.sub(r"((\1)/(\2))", text)
        text = _TEXT_COMMAND.sub(_text_words, text)
        text = _BOXED.sub(r" \1 ", text)
    text = _SHORT_FRACTION.sub(r"(\1/\2)", text)
    text = _BRACED_POWER.sub(r"^(\1)", text)
    for old, new in _REPLACEMENTS:
        text = text.replace(old, new)
    return tag_units(_TIMES_LETTER.sub(" * ", text))
