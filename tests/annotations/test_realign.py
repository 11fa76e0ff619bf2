"""Taking an LLM's re-split of a response (pure): the same text modulo whitespace and breaks, cut from the response."""

import json
from pathlib import Path

import pytest

from annotations.realign import realign_paragraphs, text_difference
from annotations.segmentation import SegmentationError, Span

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "processbench"


def _records() -> list[dict]:
    records = json.loads((FIXTURES / "gsm8k.json").read_text(encoding="utf-8"))
    return records + json.loads((FIXTURES / "math_sample.json").read_text(encoding="utf-8"))


def _texts(text: str, spans: list[Span]) -> list[str]:
    return [text[span.start : span.end] for span in spans]


def test_processbench_solutions_written_as_one_paragraph_come_back_as_their_steps():
    records = _records()
    for record in records:
        response = " ".join(record["steps"])  # a generator that never broke paragraphs
        reply = "\n\n".join(step.strip() for step in record["steps"])  # a judge that re-split it as ProcessBench did

        spans = realign_paragraphs(response, reply)

        assert _texts(response, spans) == [step.strip() for step in record["steps"]], record["id"]
    assert len(records) == 450


def test_the_steps_keep_the_response_own_line_breaks_whatever_the_reply_does_with_them():
    response = "We add:\n  12 + 30 = 42.\nSo the answer\nis \\boxed{42}."
    reply = "We add: 12 + 30 = 42.\n\nSo the answer is \\boxed{42}."

    spans = realign_paragraphs(response, reply)

    assert spans == [Span(0, 23), Span(24, 52)]
    assert _texts(response, spans) == ["We add:\n  12 + 30 = 42.", "So the answer\nis \\boxed{42}."]


def test_a_reply_that_only_moves_whitespace_is_taken_even_with_a_break_inside_a_word():
    response = "Compute 12+30=42. Done."
    reply = "  Compute 12+\n\n30=42.\n\n\n\nDone.\n"

    assert _texts(response, realign_paragraphs(response, reply)) == ["Compute 12+", "30=42.", "Done."]


def test_a_reply_without_breaks_gives_one_step_and_leading_blank_lines_are_trimmed_as_in_every_mode():
    response = "\n\n  First line.\nSecond line.  \n\n"

    assert _texts(response, realign_paragraphs(response, "First line. Second line.")) == [
        "  First line.\nSecond line.  "
    ]


def test_whitespace_of_any_kind_is_whitespace_but_nothing_else_is():
    response = "a\u00a0b\tc\u2003d"  # no-break space, tab, em space

    assert _texts(response, realign_paragraphs(response, "a b\n\nc d")) == ["a\u00a0b", "c\u2003d"]
    assert text_difference("a\u200bb", "ab") == (
        "The reply changes the text at character 1 of the response: '\\u200bb' became 'b'."
    )


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (
            "We add 12 and 30.\n\n12 + 30 = 24.\n\nSo the answer is \\boxed{42}.",
            "The reply changes the text at character 28 of the response: '42. So the answer is \\\\boxed{42}.' "
            "became '24. So the answer is \\\\boxed{42}.'.",
        ),
        (
            "Here is the reformatted solution:\n\nWe add 12 and 30.\n\n12 + 30 = 42. So the answer is \\boxed{42}.",
            "The reply changes the text at character 0 of the response: 'We add 12 and 30. 12 + 30 = 42. So the "
            "a' became 'Here is the reformatted solution: We add'.",
        ),
        (
            "We add 12 and 30.\n\n12 + 30 = 42.",
            "The reply stops at character 32 of the response; the rest is missing: 'So the answer is \\\\boxed{42}.'.",
        ),
        (
            "We add 12 and 30.\n\n12 + 30 = 42. So the answer is \\boxed{42}.\n\nI hope this helps!",
            "The reply adds text after the end of the response: 'I hope this helps!'.",
        ),
    ],
    ids=["changed", "preamble", "cut", "added"],
)
def test_a_reply_that_changes_the_text_is_refused_saying_where(reply, message):
    response = "We add 12 and 30.\n12 + 30 = 42. So the answer is \\boxed{42}."

    with pytest.raises(SegmentationError) as refused:
        realign_paragraphs(response, reply)

    assert (refused.value.field, refused.value.message) == ("response", message)


def test_an_itemized_list_written_out_as_the_template_allows_is_still_a_change_of_text():
    response = "We check two cases:\n1. x = 1 works.\n2. x = 2 fails."
    reply = "We check two cases: First, x = 1 works.\n\nSecond, x = 2 fails."

    assert text_difference(response, reply) == (
        "The reply changes the text at character 20 of the response: '1. x = 1 works. 2. x = 2 fails.' became "
        "'First, x = 1 works. Second, x = 2 fails.'."
    )
