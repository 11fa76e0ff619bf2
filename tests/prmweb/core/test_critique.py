"""ProcessBench's critique prompt: the shared template and paragraph tagging give run_eval.py's prompt exactly."""

import json
from pathlib import Path

from prmweb.core.critique import critique_prompt, critique_template, tag_steps

RECORDS = json.loads((Path(__file__).parents[2] / "fixtures/processbench/export_records.json").read_text())

# ProcessBench `code/templates/critique_template.txt` (github.com/QwenLM/ProcessBench, Apache-2.0), as
# its evaluation code reads it: `open(...).read().strip()`, then `str.format` (hence `{{}}`).
OFFICIAL_TEMPLATE = """The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed from 0):

[Math Problem]

{problem}

[Solution]

{tagged_response}

Your task is to review and critique the solution paragraph by paragraph. Once you identify an error in a paragraph, return the index of the paragraph where the earliest error occurs. Otherwise, return the index of -1 (which typically denotes "not found").

Please put your final answer (i.e., the index) in \\boxed{{}}.
"""  # noqa: E501


def official_prompt(record: dict) -> str:
    """Return the prompt of ProcessBench's `prepare_input_boxed` (code/run_eval.py), line for line."""
    tagged_response = ""
    for sdx, step in enumerate(record["steps"]):
        tagged_response += f"<paragraph_{sdx}>\n{step}\n</paragraph_{sdx}>\n\n"
    tagged_response = tagged_response.strip()
    return OFFICIAL_TEMPLATE.strip().format(problem=record["problem"], tagged_response=tagged_response)


def test_prompt_equals_processbench_run_eval_on_every_real_record():
    for record in RECORDS:
        assert critique_prompt(record["problem"], record["steps"]) == official_prompt(record), record["id"]


def test_template_is_the_official_text_verbatim():
    assert critique_template() == OFFICIAL_TEMPLATE.strip()


def test_braces_in_a_problem_stay_as_they_are():
    prompt = critique_prompt("Find {x} if x = 2.", ["x = 2", "So \\boxed{2}."])
    assert "[Math Problem]\n\nFind {x} if x = 2.\n\n[Solution]\n\n" in prompt
    assert tag_steps(["x = 2", "So \\boxed{2}."]) == (
        "<paragraph_0>\nx = 2\n</paragraph_0>\n\n<paragraph_1>\nSo \\boxed{2}.\n</paragraph_1>"
    )
    assert prompt.endswith("Please put your final answer (i.e., the index) in \\boxed{}.")
