"""Let a list follow a line of text directly, as people write it (and as CommonMark renders it). No Django.

Python-Markdown starts a list only after a blank line, so "Given:\\n- a\\n- b" became one paragraph with
literal dashes. CommonMark (spec 0.31, "Lists") lets a bullet list interrupt a paragraph, and an ordered
list too when it starts at 1; `separate_lists` inserts the blank line Python-Markdown needs in exactly
those places, outside fenced code.
"""

import re

_ITEM_RE = re.compile(r"^ {0,3}(?:[-*+]|\d{1,9}\.)[ \t]+\S")
_INTERRUPTS_PARAGRAPH_RE = re.compile(r"^ {0,3}(?:[-*+]|1\.)[ \t]+\S")
_FENCE_RE = re.compile(r"^ {0,3}(?:```|~~~)")


def separate_lists(text: str) -> str:
    """Return `text` with a blank line before each list that directly follows a line of text."""
    if "\n" not in text:
        return text
    out: list[str] = []
    in_list = in_fence = False
    previous_blank = True
    for line in text.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        elif not in_fence:
            blank = not line.strip()
            if blank:
                in_list = False
            elif _ITEM_RE.match(line) and not in_list:
                if previous_blank:
                    in_list = True
                elif _INTERRUPTS_PARAGRAPH_RE.match(line):
                    out.append("")
                    in_list = True
            previous_blank = blank
        out.append(line)
    return "\n".join(out)
