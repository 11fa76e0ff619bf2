"""Render stored Markdown with LaTeX as safe HTML; the math itself is typeset in the browser by KaTeX.

Stored text (problems, steps, rationales, guidelines) is shown, never executed:
1. Math spans (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`, `\\begin{align}...\\end{align}` and the other
   display environments KaTeX knows, and bare `\\boxed{...}`) are cut out first and replaced by opaque
   placeholders, so Markdown never sees (and never mangles) their underscores, asterisks and backslashes.
2. Markdown renders the rest with raw HTML switched off: `<script>` in a step is shown as text.
3. nh3 sanitizes the HTML against an allowlist (no scripts, no event handlers, only http/https/mailto links).
4. Each math span comes back as HTML-escaped text inside `<span class="math">`, which the page's script
   hands to KaTeX's auto-render (with `trust: false`, so `\\href` stays inert).
Before all this, Asymptote code (`[asy]...[/asy]`) is cut out whole: it is never Markdown nor math, and
comes back as an escaped, collapsed code block (`annotations.figures.blocks`). A list may follow a line of
text without a blank line (`annotations.markdown_lists`, CommonMark's rule).

A display block or environment whose closing delimiter is missing (a solution split into steps in the
middle of a block) runs to the end of the text and gets its closer back. Currency is not math: a `$`
opens inline math only when a non-space follows it, and closes it only when a non-space precedes it
and no digit follows it (pandoc's rule), so "$5 and $10" stays text.
No Django here.
"""

import html
import re
import secrets
import threading
from dataclasses import dataclass
from functools import lru_cache, partial

import markdown
import nh3

from annotations.figures.blocks import ASY_BLOCK_RE, source_block_html
from annotations.markdown_lists import separate_lists

# Display environments KaTeX renders on their own (auto-render keeps the \begin/\end around them).
MATH_ENVIRONMENTS = ("equation", "equation*", "align", "align*", "alignat", "alignat*", "gather", "gather*", "CD")

ALLOWED_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

_ENVIRONMENT_ALTERNATIVES = "|".join(re.escape(name) for name in MATH_ENVIRONMENTS)
_TOKEN_RE = re.compile(r"\\\\|\\\$|\$\$|\$|\\\[|\\\(|\\begin\{(?P<env>" + _ENVIRONMENT_ALTERNATIVES + r")\}|\\boxed\{")
_TAG_RE = re.compile(r"(<[^>]*>)")
_UNESCAPED_DOLLAR_RE = re.compile(r"(?<!\\)\$")
_PLACEHOLDER_RE = re.compile(r"zq([0-9a-f]{12})m([0-9]+)qz")


@dataclass(frozen=True)
class MathSpan:
    """One piece of LaTeX, with its delimiters, cut out of a text before Markdown runs."""

    source: str
    display: bool


class _Extractor:
    """Split a text into Markdown with placeholders and the math spans those placeholders stand for."""

    def __init__(self, text: str, nonce: str) -> None:
        self.text = text
        self.nonce = nonce
        self.spans: list[MathSpan] = []
        self.parts: list[str] = []
        self.pos = 0
        self._no_closer_from: dict[str, int] = {}

    def run(self) -> str:
        while (match := _TOKEN_RE.search(self.text, self.pos)) is not None:
            self.parts.append(self.text[self.pos : match.start()])
            self.pos = self._handle(match)
        self.parts.append(self.text[self.pos :])
        return "".join(self.parts)

    def _handle(self, match: re.Match[str]) -> int:
        token, start = match.group(0), match.start()
        if token == "\\\\":
            self.parts.append(token)
            return match.end()
        if token == "\\$":
            self.parts.append("$")
            return match.end()
        if token == "$$":
            return self._delimited(start, match.end(), "$$", display=True)
        if token == "\\[":
            return self._delimited(start, match.end(), "\\]", display=True)
        if token == "\\(":
            return self._delimited(start, match.end(), "\\)", display=False)
        if match.group("env"):
            return self._delimited(start, match.end(), "\\end{" + match.group("env") + "}", display=True)
        if token == "$":
            return self._inline_dollar(start)
        return self._bare_boxed(start, match.end())

    def _find(self, closer: str, start: int) -> int:
        """Return the position of `closer` at or after `start`, or -1 (remembering misses: O(n) overall)."""
        if self._no_closer_from.get(closer, len(self.text) + 1) <= start:
            return -1
        found = self.text.find(closer, start)
        if found < 0:
            self._no_closer_from[closer] = start
        return found

    def _delimited(self, start: int, content_start: int, closer: str, *, display: bool) -> int:
        close = self._find(closer, content_start)
        if close < 0:
            # Steps split from a longer solution sometimes lose the closing delimiter: the math runs to the end.
            if not self.text[content_start:].strip():
                self.parts.append(self.text[start:content_start])
                return content_start
            self._emit(self.text[start:].rstrip() + closer, display=display)
            return len(self.text)
        if not self.text[content_start:close].strip():
            self.parts.append(self.text[start:content_start])
            return content_start
        end = close + len(closer)
        self._emit(self.text[start:end], display=display)
        return end

    def _inline_dollar(self, start: int) -> int:
        text = self.text
        if start + 1 >= len(text) or text[start + 1].isspace():
            self.parts.append("$")
            return start + 1
        close = start + 1
        while True:
            close = self._find("$", close)
            if close < 0 or text[close - 1] != "\\":
                break
            close += 1
        valid = (
            close > start + 1
            and not text[close - 1].isspace()
            and not (close + 1 < len(text) and text[close + 1].isdigit())
            and "\n\n" not in text[start:close]
        )
        if not valid:
            self.parts.append("$")
            return start + 1
        self._emit(text[start : close + 1], display=False)
        return close + 1

    def _bare_boxed(self, start: int, content_start: int) -> int:
        depth, index = 1, content_start
        while index < len(self.text) and depth:
            char = self.text[index]
            if char == "\\":
                index += 2
                continue
            depth += {"{": 1, "}": -1}.get(char, 0)
            index += 1
        if depth:
            self.parts.append(self.text[start:content_start])
            return content_start
        inner = _UNESCAPED_DOLLAR_RE.sub(r"\\$", self.text[start:index])
        self._emit("\\(" + inner + "\\)", display=False)
        return index

    def _emit(self, source: str, *, display: bool) -> None:
        self.parts.append(f"zq{self.nonce}m{len(self.spans)}qz")
        self.spans.append(MathSpan(source=source, display=display))


def extract_math(text: str, nonce: str) -> tuple[str, list[MathSpan]]:
    """Return `text` with every math span replaced by the placeholder `zq<nonce>m<index>qz`, and the spans."""
    extractor = _Extractor(text, nonce)
    return extractor.run(), extractor.spans


_local = threading.local()


def _markdown() -> markdown.Markdown:
    """Return this thread's Markdown converter (instances are not thread-safe), with raw HTML switched off."""
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = markdown.Markdown(extensions=["nl2br", "sane_lists", "tables", "fenced_code"])
        converter.preprocessors.deregister("html_block")
        converter.inlinePatterns.deregister("html")
        _local.converter = converter
    converter.reset()
    return converter


def sanitize_html(fragment: str) -> str:
    """Return `fragment` cleaned against the allowlist: no scripts, no event handlers, no javascript: links."""
    return nh3.clean(
        fragment,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )


def _math_html(span: MathSpan) -> str:
    css = "math math-display" if span.display else "math"
    return f'<span class="{css}">{html.escape(span.source)}</span>'


def _reinsert(fragment: str, nonce: str, spans: list[MathSpan]) -> str:
    """Put math back: as an escaped `<span class="math">` in text, as escaped source inside a tag."""

    def replace(match: re.Match[str], *, in_tag: bool) -> str:
        if match.group(1) != nonce:
            return match.group(0)
        span = spans[int(match.group(2))]
        return html.escape(span.source) if in_tag else _math_html(span)

    pieces = _TAG_RE.split(fragment)
    for index, piece in enumerate(pieces):
        if "zq" + nonce in piece:
            pieces[index] = _PLACEHOLDER_RE.sub(partial(replace, in_tag=index % 2 == 1), piece)
    return "".join(pieces)


def _cut_out_asy(text: str, nonce: str) -> tuple[str, list[str]]:
    """Return `text` with each `[asy]` block replaced by a paragraph `zq<nonce>a<index>qz`, and the sources."""
    sources: list[str] = []

    def placeholder(match: re.Match[str]) -> str:
        sources.append(match.group("source"))
        return f"\n\nzq{nonce}a{len(sources) - 1}qz\n\n"

    return ASY_BLOCK_RE.sub(placeholder, text), sources


def _put_back_asy(fragment: str, nonce: str, sources: list[str]) -> str:
    for index, source in enumerate(sources):
        marker = f"zq{nonce}a{index}qz"
        block = source_block_html(source) if source.strip() else ""
        fragment = fragment.replace(f"<p>{marker}</p>", block).replace(marker, block)
    return fragment


@lru_cache(maxsize=2048)
def render_markdown(text: str) -> str:
    """Return safe HTML for Markdown `text`, its LaTeX kept verbatim in `<span class="math">` for KaTeX.

    `[asy]` blocks become collapsed code blocks ("Asymptote diagram source"; `annotations.figures.blocks.
    insert_figures` adds rendered figures), never math; a list may follow a line of text directly.
    Pure and deterministic for a given text (cached per process): steps never change after ingestion.
    """
    if not text:
        return ""
    nonce = secrets.token_hex(6)
    without_asy, asy_sources = _cut_out_asy(text, nonce) if "[asy]" in text.lower() else (text, [])
    protected, spans = extract_math(without_asy, nonce)
    rendered = _markdown().convert(separate_lists(protected))
    return _put_back_asy(_reinsert(sanitize_html(rendered), nonce, spans), nonce, asy_sources)


_LATEX_HINT_RE = re.compile(r"[\\^_{}]")
_DELIMITED_RE = re.compile(r"\$|\\\(|\\\[")


def render_answer(text: str) -> str:
    """Return safe HTML for a short answer: bare LaTeX (`\\frac{1}{2}`, `x^2`) becomes inline math, else text.

    Answers are usually stored without delimiters (the content of a `\\boxed{}`); one that carries its
    own delimiters, or none of LaTeX's marks, is rendered like any other text.
    """
    answer = text.strip()
    if not answer:
        return ""
    if _LATEX_HINT_RE.search(answer) and not _DELIMITED_RE.search(answer):
        return _math_html(MathSpan(source="\\(" + answer + "\\)", display=False))
    return render_markdown(answer)
