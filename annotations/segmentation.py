"""Split a generated response into steps, keeping each step's character offsets in the response.

Pure Python, no Django: REST ingestion, the file importers and any later storage path (e.g. COPY) call
it before storing. Modes (the registry `SEGMENTATIONS`):

- `paragraphs` (the default, as ProcessBench and Qwen's PRMs split): a step is a run of non-blank lines;
  blank lines (empty or only spaces and tabs) separate steps.
- `lines`: every non-blank line is a step.
- `pattern`: a regular expression (set on the dataset) matches the separators; the text between two
  matches is a step. A zero-width pattern such as `(?=Step \\d+:)` splits before each match.
- `reformat`: an LLM (the judge engine, on the scoring side) re-splits the response into paragraphs after
  ingestion; `realign_paragraphs` takes its reply only when it is the same text modulo whitespace and
  paragraph breaks, and cuts the response itself where the reply has its breaks. Until then a solution has
  no steps; at ingestion, and whenever the reply is refused, its steps are its `paragraphs`.

Every mode then trims each part the same way: blank lines and line breaks around it are removed,
parts with nothing visible are dropped, and spaces or tabs on the step's own first and last line are
kept (59 ProcessBench steps end in a space, and they must come back exactly). So a step is always
`response[start:end]` for its offsets. Offsets count Unicode code points (Python string indices).

Patterns run on the `regex` package with a timeout, and a pattern is checked when it is set: it must
compile, must not match the empty string, and must not backtrack catastrophically on short probe texts.
"""

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import regex

PARAGRAPHS = "paragraphs"
LINES = "lines"
PATTERN = "pattern"
REFORMAT = "reformat"
SEGMENTATIONS = (PARAGRAPHS, LINES, PATTERN, REFORMAT)
SEGMENTATION_LABELS = {
    PARAGRAPHS: "Paragraphs (split at blank lines)",
    LINES: "Lines (every non-blank line)",
    PATTERN: "Pattern (the dataset's segmentation pattern matches the separators)",
    REFORMAT: "Reformat (the judge model re-splits the response into paragraphs; else paragraphs)",
}
DEFAULT_SEGMENTATION = PARAGRAPHS
REFORMAT_FALLBACK = PARAGRAPHS
MAX_EXCERPT_CHARS = 40

MAX_PATTERN_CHARS = 500
PATTERN_TIMEOUT_SECONDS = 1.0
PROBE_TIMEOUT_SECONDS = 0.05
PROBE_REPEAT = 40
MAX_PROBE_CHARS = 12

_BLANK_LINES = re.compile(r"\n(?:[^\S\n]*\n)+")  # a line break, then one or more blank lines
_LINE_BREAK = re.compile(r"\n")
_PROBE_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "s": " ", "d": "7", "w": "a", "W": "!", "S": "a", "D": "a"}
_PROBE_BASE = ("a", "7", " ", "\n", "\t", ".")
_PROBE_ENDS = ("", "\x00", "!")


@dataclass(frozen=True)
class Span:
    """Where one step sits in the response: `response[start:end]`."""

    start: int
    end: int


class SegmentationError(Exception):
    """A response could not be split; `message` says why and `field` names the input at fault.

    `field` is "segmentation" for a mode that cannot be used (unknown, or `pattern` without one) and
    "response" when the pattern ran out of time on this response.
    """

    def __init__(self, message: str, *, field: str = "segmentation"):
        super().__init__(message)
        self.message = message
        self.field = field


def _trimmed(text: str, start: int, end: int) -> Span | None:
    """Return the part text[start:end] without surrounding blank lines and line breaks (None if blank)."""
    part = text[start:end]
    visible = part.lstrip()
    if not visible:
        return None
    leading = len(part) - len(visible)
    last_break = part.rfind("\n", 0, leading)
    first = start + last_break + 1 if last_break >= 0 else start
    body_end = start + len(part.rstrip())
    tail = text[body_end:end]
    breaks = [position for position in (tail.find("\r"), tail.find("\n")) if position >= 0]
    return Span(first, body_end + min(breaks) if breaks else end)


def split_between(text: str, separators: Iterable[tuple[int, int]]) -> list[Span]:
    """Return the trimmed, non-blank parts of text between the separator spans (in order)."""
    spans: list[Span] = []
    position = 0
    for separator_start, separator_end in separators:
        if (span := _trimmed(text, position, separator_start)) is not None:
            spans.append(span)
        position = separator_end
    if (span := _trimmed(text, position, len(text))) is not None:
        spans.append(span)
    return spans


def split_paragraphs(text: str) -> list[Span]:
    """Return the paragraphs of text: runs of non-blank lines, separated by blank lines."""
    return split_between(text, (match.span() for match in _BLANK_LINES.finditer(text)))


def split_lines(text: str) -> list[Span]:
    """Return the non-blank lines of text."""
    return split_between(text, (match.span() for match in _LINE_BREAK.finditer(text)))


def split_pattern(text: str, pattern: "regex.Pattern[str]", *, timeout: float = PATTERN_TIMEOUT_SECONDS) -> list[Span]:
    """Return the parts of text between matches of the pattern; raise TimeoutError past `timeout` seconds."""
    return split_between(text, [match.span() for match in pattern.finditer(text, timeout=timeout)])


def _probe_chars(pattern: str) -> list[str]:
    """Return characters a probe text is built from: the pattern's own, its escapes' and a few common ones."""
    chars: list[str] = []
    escaped = False
    for char in pattern:
        if escaped:
            chars.append(_PROBE_ESCAPES.get(char, char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char.isprintable() and char not in "()[]{}|*+?^$":
            chars.append(char)
    return list(dict.fromkeys([*chars, *_PROBE_BASE]))[:MAX_PROBE_CHARS]


def _probe_texts(pattern: str) -> Iterator[str]:
    """Yield short texts that make a backtracking pattern blow up: runs of one or two characters."""
    chars = _probe_chars(pattern)
    for char in chars:
        for end in _PROBE_ENDS:
            yield char * PROBE_REPEAT + end
    for first in chars:
        for second in chars:
            if first != second:
                yield (first + second) * (PROBE_REPEAT // 2) + "\x00"


def pattern_errors(pattern: Any) -> list[str]:
    """Return what is wrong with a segmentation pattern (empty when it is usable).

    Refused: a non-string, over MAX_PATTERN_CHARS, one that does not compile, one that matches the
    empty string (it would split between every character), and one that runs out of time on a short
    probe text (catastrophic backtracking). Probing is bounded: a few hundred texts of about 40
    characters, each stopped after PROBE_TIMEOUT_SECONDS.
    """
    if not isinstance(pattern, str):
        return ["Must be a string."]
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"Ensure this field has no more than {MAX_PATTERN_CHARS} characters (it has {len(pattern)})."]
    if "\x00" in pattern:
        return ["Must not contain NUL characters."]
    import regex  # loaded with the first pattern, not with the models (start-up, issue #16)

    try:
        compiled = regex.compile(pattern)
    except (regex.error, ValueError, OverflowError) as exc:
        return [f"Not a valid regular expression: {exc}."]
    if compiled.fullmatch("") is not None:
        return [
            "Matches the empty string, so it would split between every character; make it match at least "
            "one character, or use a lookahead such as (?=Step \\d+:)."
        ]
    for probe in _probe_texts(pattern):
        try:
            for _ in compiled.finditer(probe, timeout=PROBE_TIMEOUT_SECONDS):
                pass
        except TimeoutError:
            return [
                f"Backtracks catastrophically: it ran out of time on a {len(probe)}-character test text. "
                "Avoid nested or overlapping repetition such as (a|aa)+ or (\\n|\\n\\n)+."
            ]
    return []


@dataclass
class Segmenter:
    """Split responses for one dataset: its default mode and pattern, with a time limit per response.

    After the pattern runs out of time once, later responses fail at once with the same message, so a
    batch of 1,000 responses costs at most one timeout.
    """

    default_mode: str = DEFAULT_SEGMENTATION
    pattern: str = ""
    timeout: float = PATTERN_TIMEOUT_SECONDS
    _compiled: "regex.Pattern[str] | None" = field(default=None, init=False, repr=False)
    _timed_out: bool = field(default=False, init=False, repr=False)

    def split(self, response: str, mode: str) -> list[Span]:
        """Return the steps of the response under `mode` (one of SEGMENTATIONS); raise SegmentationError.

        `reformat` returns the paragraphs the solution falls back to: its steps come later, from the judge.
        """
        if mode in (PARAGRAPHS, REFORMAT):
            return split_paragraphs(response)
        if mode == LINES:
            return split_lines(response)
        if mode != PATTERN:
            raise SegmentationError(f"Must be one of: {', '.join(SEGMENTATIONS)}.")
        return self._split_by_pattern(response)

    def _split_by_pattern(self, response: str) -> list[Span]:
        if not self.pattern:
            raise SegmentationError(
                "The dataset has no segmentation_pattern; set one on the dataset, or choose paragraphs or lines."
            )
        if self._timed_out:
            raise SegmentationError(self._timeout_message(), field="response")
        if self._compiled is None:
            import regex  # loaded with the first pattern, not with the models (start-up, issue #16)

            self._compiled = regex.compile(self.pattern)
        try:
            return split_pattern(response, self._compiled, timeout=self.timeout)
        except TimeoutError:
            self._timed_out = True
            raise SegmentationError(self._timeout_message(), field="response") from None

    def _timeout_message(self) -> str:
        return (
            f"The dataset's segmentation_pattern ran out of time ({self.timeout:g} s) on this response; "
            "nothing was split. Simplify the pattern, or choose paragraphs or lines."
        )
