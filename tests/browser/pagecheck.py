"""Layout and legibility checks run inside a rendered page: horizontal overflow and text contrast.

`overflow(page)` compares `document.documentElement.scrollWidth` with the viewport's width and names the
widest elements that stick out. `contrast_failures(page)` computes, for every visible element with its own
text (SVG text included), the WCAG contrast ratio of its rendered text colour against the background
actually behind it: ancestors' background colours composited over the canvas, gradient stops taken as
alternative backgrounds (the worst one counts), ancestors' opacity fading the text. Disabled controls are
exempt, as WCAG exempts inactive components.
"""

from dataclasses import dataclass
from pathlib import Path

MIN_CONTRAST = 4.5
_SCRIPT = (Path(__file__).parent / "pagecheck.js").read_text()


def _call(page, function: str, *args):
    """Run one function of pagecheck.js in the page and return its result."""
    return page.evaluate(f"(args) => {{ {_SCRIPT}\n return {function}(...args); }}", list(args))


@dataclass(frozen=True)
class Overflow:
    scroll_width: int
    width: int
    culprits: list[str]

    @property
    def overflows(self) -> bool:
        return self.scroll_width > self.width


def overflow(page) -> Overflow:
    """Return how wide the document is against the viewport, with the elements that stick out."""
    found = _call(page, "prmwebOverflow")
    return Overflow(scroll_width=found["scrollWidth"], width=found["width"], culprits=found["culprits"])


def contrast_failures(page, minimum: float = MIN_CONTRAST) -> list[dict]:
    """Return every visible text whose rendered contrast is below `minimum`, with its colours and ratio."""
    return _call(page, "prmwebContrast", minimum)
