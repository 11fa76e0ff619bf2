"""The reference prompts the engines must produce, written out by hand from their public sources.

- `OFFICIAL_CRITIQUE_TEMPLATE`: ProcessBench's `code/templates/critique_template.txt` (see
  `prmweb/core/prompts/SOURCE.md`), a `str.format` template with `\\boxed{{}}`.
- `OFFICIAL_REFORMAT_TEMPLATE`: ProcessBench's `code/templates/reformat_template.txt` (see
  `scoring/prompts/SOURCE.md`), a `str.format` template with `{problem}` and `{response}`.
- `run_eval_messages`: `prepare_input_boxed` of ProcessBench's `code/run_eval.py`, transcribed line by line.
- `chatml_judge` / `chatml_mc`: what Qwen2.5-Math's chat template renders, spelled out as literal ChatML so a
  test compares the engines' output with text, not with another call of the same template.
- Real ProcessBench records: `tests/fixtures/processbench/api_records.json` (see its SOURCE note).
"""

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
QWEN_MATH_SYSTEM = "Please reason step by step, and put your final answer within \\boxed{}."
OFFICIAL_CRITIQUE_TEMPLATE = (
    "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):\n"
    "\n"
    "[Math Problem]\n"
    "\n"
    "{problem}\n"
    "\n"
    "[Solution]\n"
    "\n"
    "{tagged_response}\n"
    "\n"
    "Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a "
    "paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 "
    '(which typically denotes "not found").\n'
    "\n"
    "Please put your final answer (i.e., the index) in \\boxed{{}}.\n"
)

# ProcessBench's code/templates/reformat_template.txt (see scoring/prompts/SOURCE.md), line by line. The `\\n\\n`
# of the first guideline is literal backslashes in the file.
OFFICIAL_REFORMAT_TEMPLATE = (
    "I will present you with a solution to a math problem. Unfortunately, the solution lacks proper paragraphing, "
    "making it hard to read. Your task is to improve readability by reformatting the solution into well-structured "
    "paragraphs. Follow these specific guidelines:\n"
    "\n"
    "* Insert \\n\\n for paragraph breaks within the original solution. Do **NOT** alter any content of the "
    "original solution (the only exception is for itemized lists; see below).\n"
    "\n"
    "  - Each paragraph should represent a distinct, concise reasoning step that logically advances the solution.\n"
    "\n"
    "  - Reasoning steps can include case discussions, formula simplifications, or formula derivations. Each of "
    "these should be treated as an individual reasoning step and paragraphed accordingly.\n"
    "\n"
    "  - If an introductory analysis exists in the original solution, treat it as an initial reasoning step and "
    "place it as the first paragraph.\n"
    "\n"
    "  - Do **NOT** place any mathematical formulas in their own separate paragraphs; instead, include them within "
    "the same paragraph as the preceding text to form a cohesive reasoning step.\n"
    "\n"
    '* For any itemized lists (ordered or unordered), convert them into a written format, such as "First/Second/'
    'Third." This is the **ONLY** content modification allowed.\n'
    "\n"
    "* Avoid making paragraphs too lengthy, as long paragraphs might contain multiple reasoning steps that should be "
    "paragraphed separately.\n"
    "\n"
    "* Disregard the accuracy of the solution content. Do **NOT** alter any of the original solution's content; "
    "focus solely on structuring it into logical, readable paragraphs.\n"
    "\n"
    "* Reply with the reformatted solution directly.\n"
    "\n"
    "--------------------------------------------------\n"
    "\n"
    "Here is the math problem, and the solution that needs to be reformatted:\n"
    "\n"
    "[Math Problem]\n"
    "\n"
    "{problem}\n"
    "\n"
    "[Solution]\n"
    "\n"
    "{response}\n"
)


def processbench_records() -> list[dict[str, Any]]:
    """Return three real ProcessBench records (gsm8k-0, math-2, math-500)."""
    return json.loads((FIXTURES / "processbench" / "api_records.json").read_text(encoding="utf-8"))


def run_eval_messages(template: str, input_d: dict[str, Any]) -> list[dict[str, str]]:
    """Return `prepare_input_boxed(template, input_d)` of ProcessBench's code/run_eval.py (transcribed)."""
    problem = input_d["problem"]
    steps = input_d["steps"]
    tagged_response = ""
    for sdx, step in enumerate(steps):
        tagged_response += f"<paragraph_{sdx}>\n{step}\n</paragraph_{sdx}>\n\n"
    tagged_response = tagged_response.strip()
    prompt = template.format(problem=problem, tagged_response=tagged_response)
    messages = [{"role": "user", "content": prompt}]
    return messages


def run_eval_user_message(record: dict[str, Any]) -> str:
    """Return the one user message run_eval.py sends for a record (TEMPLATE = file.read().strip())."""
    return run_eval_messages(OFFICIAL_CRITIQUE_TEMPLATE.strip(), record)[0]["content"]


def chatml_judge(user_message: str) -> str:
    """Return the judge prompt as Qwen2.5-Math's template renders it with add_generation_prompt=True."""
    return (
        f"<|im_start|>system\n{QWEN_MATH_SYSTEM}<|im_end|>\n"
        f"<|im_start|>user\n{user_message}<|im_end|>\n"
        "<|im_start|>assistant\n"
    )


def chatml_mc(question: str, steps: list[str], system: str = QWEN_MATH_SYSTEM) -> str:
    """Return an MC rollout prompt: the prefix opens the assistant turn and stays open (no <|im_end|>)."""
    prefix = "".join(f"{step.strip()}\n\n" for step in steps)
    return (
        f"<|im_start|>system\n{system}<|im_end|>\n"
        f"<|im_start|>user\n{question.strip()}<|im_end|>\n"
        f"<|im_start|>assistant\n{prefix}"
    )
