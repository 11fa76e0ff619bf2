"""ProcessBench's critique protocol (pure): the prompt with its tagged paragraphs, and the verdict of a critique.

One source for the LLM judge (`scoring`) and the critique export (`annotations`). The template file is
ProcessBench's `code/templates/critique_template.txt` copied verbatim (see `prompts/SOURCE.md`): a
`str.format` template with the fields `{problem}` and `{tagged_response}` (its literal braces doubled),
filled as `code/run_eval.py` does; braces in a problem's text are values, left as they are.
"""

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from prmweb.core.answers import extract_boxed

CRITIQUE_TEMPLATE_PATH = Path(__file__).resolve().parent / "prompts" / "processbench_critique.txt"
_INTEGER = re.compile(r"^[+-]?\d+$")


def tag_steps(steps: Sequence[str]) -> str:
    """Return the steps as `<paragraph_i>` blocks separated by blank lines, indexed from 0 (run_eval.py)."""
    tagged = "".join(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>\n\n" for i, step in enumerate(steps))
    return tagged.strip()


@cache
def critique_template() -> str:
    """Return ProcessBench's critique template as its evaluation code reads it (`.read().strip()`: `{{}}` kept)."""
    return CRITIQUE_TEMPLATE_PATH.read_text(encoding="utf-8").strip()


def critique_prompt(problem: str, steps: Sequence[str], template: str | None = None) -> str:
    """Return the critique prompt of one solution, as ProcessBench's `prepare_input_boxed` builds it."""
    return (template or critique_template()).format(problem=problem, tagged_response=tag_steps(steps))


def parse_verdict(text: str, num_steps: int) -> int | None:
    """Return the integer in the last `\\boxed{}` of a critique, or None when it is not a valid label.

    Valid labels are -1 and 0..num_steps-1; text such as "2.5", "paragraph 3" or an out-of-range index
    is unparseable (None) and is never mapped to a nearby label.
    """
    boxed = extract_boxed(text)
    if boxed is None:
        return None
    value = boxed.strip().strip("$").strip()
    if not _INTEGER.match(value):
        return None
    verdict = int(value)
    return verdict if -1 <= verdict < num_steps else None
