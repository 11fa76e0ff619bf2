"""The quick check of a solution input never passes one that the field-by-field checks refuse."""

import itertools
import random
from dataclasses import replace

import pytest

from annotations.solution_input import (
    MAX_PROBLEM_CHARS,
    MAX_SHORT_CHARS,
    MAX_STEP_CHARS,
    MAX_STEPS,
    MAX_SUBSET_CHARS,
    MAX_TEXT_CHARS,
    SolutionInput,
    _item_errors,
    _plainly_valid,
    validate_solution_input,
)

BASE = SolutionInput(
    problem="Solve \\(x^2 = 4\\). Ünïcode: 中文 🙂",
    steps=["Take roots.", "So x = 2 or x = -2 — done."],
    external_id="gsm8k-1",
    generator="Qwen2-7B-Instruct",
    subset="gsm8k",
    reference_answer="2",
    reference_solution="By hand.",
    final_answer="2",
    final_answer_correct=True,
    label=-1,
    metadata={"source": "é", "scores": [0.5, 1]},
)
BAD_TEXT = ["", " ", "\u00a0\u2003\n\t", "a\x00b", "a\ud800b", "\udc00", 7, None, ["a"], b"a"]
TEXT_LIMITS = {
    "problem": MAX_PROBLEM_CHARS,
    "external_id": MAX_SHORT_CHARS,
    "generator": MAX_SHORT_CHARS,
    "subset": MAX_SUBSET_CHARS,
    "reference_answer": MAX_TEXT_CHARS,
    "reference_solution": MAX_TEXT_CHARS,
    "final_answer": MAX_TEXT_CHARS,
}


def _mutations() -> list[dict]:
    changes: list[dict] = []
    for name, limit in TEXT_LIMITS.items():
        changes += [{name: value} for value in BAD_TEXT]
        changes += [{name: "x" * limit}, {name: "x" * (limit + 1)}, {name: "é" * (limit + 1)}]
    steps_values = [
        [],
        ["a"] * MAX_STEPS,
        ["a"] * (MAX_STEPS + 1),
        ["x" * MAX_STEP_CHARS],
        ["x" * (MAX_STEP_CHARS + 1)],
        ("a", "b"),
        "ab",
        None,
        *(["ok", bad] for bad in BAD_TEXT),
    ]
    changes += [{"steps": value} for value in steps_values]
    changes += [{"label": value} for value in (None, -2, -1, 0, 1, 2, True, False, 1.0, "1")]
    changes += [{"final_answer_correct": value} for value in (None, True, False, 1, 0, "true")]
    metadata_values: list[object] = [{}, [], "", 0, None, {"a": float("nan")}, {"a": "\x00"}, {"\ud800": 1}]
    changes += [{"metadata": value} for value in [*metadata_values, {"a": "x" * 20_001}]]
    changes += [{"response": "One.\n\nTwo."}, {"segmentation": "paragraphs"}, {"step_offsets": [(0, 4)]}]
    return changes


MUTATIONS = _mutations()


@pytest.mark.parametrize("change", MUTATIONS, ids=lambda change: repr(change)[:60])
def test_the_quick_check_agrees_with_every_field_check(change):
    item = replace(BASE, **change)
    assert validate_solution_input(item) == _item_errors(item)
    if _plainly_valid(item):
        assert _item_errors(item) == {}


def test_the_quick_check_agrees_on_combinations():
    pick = random.Random(16)
    for first, second in itertools.combinations(MUTATIONS, 2):
        if pick.random() > 0.15:
            continue
        item = replace(BASE, **{**first, **second})
        assert validate_solution_input(item) == _item_errors(item)
        if _plainly_valid(item):
            assert _item_errors(item) == {}


@pytest.mark.parametrize(
    "item",
    [
        BASE,
        replace(BASE, metadata={}, label=None, final_answer_correct=None, external_id="", subset=""),
        replace(BASE, steps=["plain ascii"] * MAX_STEPS, label=MAX_STEPS - 1),
    ],
)
def test_valid_items_take_the_quick_path(item):
    assert _plainly_valid(item)
    assert validate_solution_input(item) == {}
