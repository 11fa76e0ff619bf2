"""Splitting responses into steps (pure): real ProcessBench responses, the three modes, pattern checks."""

import itertools
import json
import subprocess
import sys
from pathlib import Path

import pytest
import regex

from annotations.segmentation import (
    SegmentationError,
    Segmenter,
    Span,
    pattern_errors,
    split_lines,
    split_paragraphs,
    split_pattern,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "processbench"
ROOT = Path(__file__).resolve().parents[2]

CATASTROPHIC = (
    "Backtracks catastrophically: it ran out of time on a {n}-character test text. "
    "Avoid nested or overlapping repetition such as (a|aa)+ or (\\n|\\n\\n)+."
)


def _records() -> list[dict]:
    records = json.loads((FIXTURES / "gsm8k.json").read_text(encoding="utf-8"))
    return records + json.loads((FIXTURES / "math_sample.json").read_text(encoding="utf-8"))


def _texts(text: str, spans: list[Span]) -> list[str]:
    return [text[span.start : span.end] for span in spans]


def test_processbench_steps_joined_by_blank_lines_split_back_exactly():
    records = _records()
    trailing_space_steps = sum(step != step.rstrip() for record in records for step in record["steps"])
    multi_line_steps = sum("\n" in step for record in records for step in record["steps"])
    assert (len(records), trailing_space_steps, multi_line_steps) == (450, 16, 272 + 76)
    for record in records:
        response = "\n\n".join(record["steps"])
        spans = split_paragraphs(response)
        assert _texts(response, spans) == record["steps"], record["id"]
        assert spans[0].start == 0 and spans[-1].end == len(response)
        assert all(right.start - left.end == 2 for left, right in itertools.pairwise(spans))


def test_paragraphs_split_at_blank_lines_and_drop_the_blank_lines_around_them():
    response = "  \n\n  Indented first line  \r\n second line\r\n\r\n \t\n\n\nThird \t"
    spans = split_paragraphs(response)
    assert _texts(response, spans) == ["  Indented first line  \r\n second line", "Third \t"]
    assert spans == [Span(4, 41), Span(50, 57)]


def test_a_response_without_blank_lines_is_one_step_and_a_blank_one_none():
    assert split_paragraphs("One line.\nAnother line.") == [Span(0, 23)]
    assert split_paragraphs(" \n\t\n") == []


def test_lines_make_every_non_blank_line_a_step():
    response = "Step 1: add.\r\n\r\n  Step 2: multiply. \nStep 3: done."
    assert _texts(response, split_lines(response)) == ["Step 1: add.", "  Step 2: multiply. ", "Step 3: done."]


def test_a_pattern_matches_the_separators_and_a_lookahead_splits_before_each_match():
    response = "Step 1: 2 + 2 = 4.\nStep 2: 4 * 3 = 12.\nStep 3: \\boxed{12}"
    spans = split_pattern(response, regex.compile(r"(?=Step \d+:)"))
    assert _texts(response, spans) == ["Step 1: 2 + 2 = 4.", "Step 2: 4 * 3 = 12.", "Step 3: \\boxed{12}"]
    response = "First part.\n---\nSecond part.\n---\n"
    assert _texts(response, split_pattern(response, regex.compile(r"\n-{3,}\n"))) == ["First part.", "Second part."]


@pytest.mark.parametrize(
    "pattern",
    [r"\n\n", r"(?=Step \d+:)", r"\n(?=\d+\.\s)", r"(?m)^#+ ", r"(a+)+$", r"[\s\S]+", "\n" + "-" * 3],
)
def test_usable_patterns_pass_the_checks(pattern):
    assert pattern_errors(pattern) == []


@pytest.mark.parametrize(
    "pattern, message",
    [
        ("(", "Not a valid regular expression: missing ) at position 1."),
        ("[a-", "Not a valid regular expression: unterminated character set at position 3."),
        (
            r"\n*",
            "Matches the empty string, so it would split between every character; make it match at least "
            "one character, or use a lookahead such as (?=Step \\d+:).",
        ),
        (r"(a|aa)+$", CATASTROPHIC.format(n=41)),
        (r"(\n|\n\n)+x", CATASTROPHIC.format(n=40)),
        (["\\n"], "Must be a string."),
        ("x" * 501, "Ensure this field has no more than 500 characters (it has 501)."),
        ("a\x00", "Must not contain NUL characters."),
    ],
)
def test_bad_and_catastrophic_patterns_are_refused_with_the_reason(pattern, message):
    assert pattern_errors(pattern) == [message]


def test_a_pattern_that_runs_out_of_time_fails_that_response_and_every_later_one_at_once():
    segmenter = Segmenter(pattern=r"(a|aa)+$", timeout=0.05)  # a pattern set without the checks
    message = (
        "The dataset's segmentation_pattern ran out of time (0.05 s) on this response; nothing was split. "
        "Simplify the pattern, or choose paragraphs or lines."
    )
    with pytest.raises(SegmentationError) as first:
        segmenter.split("a" * 60 + "!", "pattern")
    assert (first.value.message, first.value.field) == (message, "response")
    with pytest.raises(SegmentationError) as later:
        segmenter.split("b", "pattern")  # harmless text: the pattern is not run again
    assert (later.value.message, later.value.field) == (message, "response")
    assert segmenter.split("a\n\nb", "paragraphs") == [Span(0, 1), Span(3, 4)]


def test_pattern_mode_without_a_pattern_and_unknown_modes_name_segmentation():
    with pytest.raises(SegmentationError) as missing:
        Segmenter().split("a", "pattern")
    assert (missing.value.message, missing.value.field) == (
        "The dataset has no segmentation_pattern; set one on the dataset, or choose paragraphs or lines.",
        "segmentation",
    )
    with pytest.raises(SegmentationError) as unknown:
        Segmenter().split("a", "sentences")
    assert unknown.value.message == "Must be one of: paragraphs, lines, pattern, reformat."


def test_segmentation_imports_without_django():
    code = (
        "import sys; import annotations.segmentation, annotations.services.response_input; "
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('django', 'rest_framework')))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
