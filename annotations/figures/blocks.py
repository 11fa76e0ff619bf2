"""Find `[asy]...[/asy]` blocks in stored text and name each by the sha256 of its source. No Django.

MATH problems draw their figures in Asymptote between `[asy]` and `[/asy]` (about one problem in ten).
The code is never Markdown or LaTeX: it is cut out before either runs, shown as a collapsed code block
("Asymptote diagram source"), and, where a worker rendered it, as a figure above that block.
A block whose `[/asy]` is missing runs to the end of the text.
"""

import base64
import hashlib
import html
import re
from collections.abc import Mapping

ASY_BLOCK_RE = re.compile(r"\[asy\](?P<source>.*?)(?:\[/asy\]|\Z)", re.IGNORECASE | re.DOTALL)
SOURCE_SUMMARY = "Asymptote diagram source"
FIGURE_ALT = "Diagram drawn from the Asymptote source below"
_SOURCE_BLOCK_RE = re.compile(r'<details class="asy-source" data-asy="(?P<digest>[0-9a-f]{64})">')


def asy_digest(source: str) -> str:
    """Return the sha256 hex digest that names an Asymptote source (surrounding blank space ignored)."""
    return hashlib.sha256(source.strip().encode("utf-8")).hexdigest()


def asy_sources(text: str) -> list[str]:
    """Return the sources of the `[asy]` blocks in `text`, in order, stripped, empty ones left out."""
    return [match.group("source").strip() for match in ASY_BLOCK_RE.finditer(text) if match.group("source").strip()]


def without_asy(text: str, *, placeholder: str = "[figure]") -> str:
    """Return `text` with each `[asy]` block replaced by `placeholder` (for one-line previews)."""
    return ASY_BLOCK_RE.sub(placeholder, text) if "[asy]" in text.lower() else text


def source_block_html(source: str) -> str:
    """Return the collapsed, labelled code block that shows an Asymptote source (escaped)."""
    return (
        f'<details class="asy-source" data-asy="{asy_digest(source)}"><summary>{SOURCE_SUMMARY}</summary>'
        f"<pre><code>{html.escape(source.strip())}</code></pre></details>"
    )


def figure_html(svg: str) -> str:
    """Return an `<img>` figure for a sanitized SVG (a data: URL: an image never runs scripts)."""
    encoded = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure class="asy-figure"><img src="data:image/svg+xml;base64,{encoded}" alt="{FIGURE_ALT}"></figure>'


def insert_figures(rendered: str, figures: Mapping[str, str]) -> str:
    """Return rendered HTML with each source block that has a figure (by digest) preceded by that figure."""
    if not figures or "asy-source" not in rendered:
        return rendered

    def with_figure(match: re.Match[str]) -> str:
        svg = figures.get(match.group("digest"))
        return figure_html(svg) + match.group(0) if svg else match.group(0)

    return _SOURCE_BLOCK_RE.sub(with_figure, rendered)
