"""ProcessBench's critique prompt (pure): the template and the tagged paragraphs it shows.

One source for the LLM judge (`scoring`) and the critique export (`annotations`). The template file is
ProcessBench's `code/templates/critique_template.txt` (see `prompts/SOURCE.md`); its placeholders
`{problem}` and `{tagged_response}` are replaced as plain text, so braces in problems stay as they are.
"""

import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

CRITIQUE_TEMPLATE_PATH = Path(__file__).resolve().parent / "prompts" / "processbench_critique.txt"
_PLACEHOLDER = re.compile(r"\{(problem|tagged_response)\}")


def tag_steps(steps: Sequence[str]) -> str:
    """Return the steps as `<paragraph_i>` blocks separated by blank lines, indexed from 0."""
    return "\n\n".join(f"<paragraph_{i}>\n{step}\n</paragraph_{i}>" for i, step in enumerate(steps))


@cache
def critique_template() -> str:
    """Return ProcessBench's critique template as its evaluation code reads it (`.read().strip()`)."""
    return CRITIQUE_TEMPLATE_PATH.read_text(encoding="utf-8").strip()


def critique_prompt(problem: str, steps: Sequence[str], template: str | None = None) -> str:
    """Return the critique prompt of one solution, as ProcessBench's `prepare_input_boxed` builds it."""
    values = {"problem": problem, "tagged_response": tag_steps(steps)}
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], template or critique_template())
