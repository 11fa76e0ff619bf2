"""Final-answer extraction and math-verify comparison (pure logic, no database)."""

import threading
import time

import pytest

from prmweb.core.answers import (
    MAX_ANSWER_CHARS,
    answers_equivalent,
    check_final_answer,
    extract_boxed,
    extract_boxed_in,
    extract_final_answer,
    extract_first_boxed,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is \\boxed{42}.", "42"),
        ("\\boxed{\\frac{1}{2}}", "\\frac{1}{2}"),
        ("first \\boxed{1} then \\boxed{2}", "2"),
        ("\\boxed{\\{1, 2\\}}", "\\{1, 2\\}"),
        ("\\fbox{7}", "7"),
        ("\\boxed {x = \\sqrt{2}}", "x = \\sqrt{2}"),
        ("\\boxed{3} and an unbalanced \\boxed{4", "3"),
        ("\\boxed{\\text{4:30 p.m.}}", "\\text{4:30 p.m.}"),
        ("no box here", None),
        ("\\boxed{5", None),
        ("", None),
    ],
)
def test_extract_boxed(text, expected):
    assert extract_boxed(text) == expected


def test_extract_final_answer_prefers_the_last_boxed_answer_in_any_step():
    steps = ["We get \\boxed{3} at first.", "Checking again gives \\boxed{5}.", "So we are done."]
    assert extract_final_answer(steps) == "5"


def test_extract_final_answer_falls_back_to_the_last_step_stripped():
    assert extract_final_answer(["2 + 2 = 4", "  So Janet has 18 dollars.  "]) == "So Janet has 18 dollars."
    assert extract_final_answer([]) == ""


def test_extract_final_answer_reads_the_response_the_steps_were_split_from():
    response = "So $x$ is\n\n$$\\boxed{\\begin{pmatrix} 1 \\\\\n\n 2 \\end{pmatrix}}$$"
    steps = ["So $x$ is", "$$\\boxed{\\begin{pmatrix} 1 \\\\", " 2 \\end{pmatrix}}$$"]
    assert extract_final_answer(steps) == "2 \\end{pmatrix}}$$"  # the box is cut in two by the split
    assert extract_final_answer(steps, response=response) == "\\begin{pmatrix} 1 \\\\\n\n 2 \\end{pmatrix}"
    assert extract_final_answer(["No box.", "Answer: 7"], response="No box.\n\nAnswer: 7") == "Answer: 7"


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("0.5", "\\frac{1}{2}"),
        ("\\frac{1}{2}", "0.5"),
        ("\\dfrac{1}{9}", "1/9"),
        ("\\frac12", "0.5"),
        ("48", "48^\\circ"),
        ("48^\\circ", "48"),
        ("5", "5\\text{ cm}"),
        ("18 dollars", "18"),
        ("\\$18", "18"),
        ("x=3", "3"),
        ("3", "x = 3"),
        ("1,600", "1600"),
        ("1600", "1,600"),
        ("1,000,000", "1000000"),
        ("4:30 p.m.", "\\text{4:30 p.m.}"),
        ("\\text{4:30 p.m.}", "\\text{4:30 p.m.}"),
        ("\\sqrt{3}/2", "\\frac{\\sqrt3}{2}"),
        ("2\\sqrt{3}", "\\sqrt{12}"),
        ("x^2+2x+1", "(x+1)^2"),
        ("\\{1,2\\}", "\\{2,1\\}"),
        ("$\\frac{1}{2}$", "0.5"),
        ("\\boxed{7}", "7"),
        ("So Janet makes $18 every day.", "18"),
        ("5.00", "5"),
        ("\\15", "15"),
        ("Therefore, the total cost for Angela's installations will be \\$324.", "324"),
        ("8\\sqrt{3}", "8\\sqrt{3} \\text { square inches}"),
        ("\\frac{411}{333}", "\\frac{137}{111}"),
    ],
)
def test_equivalent_answers(candidate, reference):
    assert answers_equivalent(candidate, reference) is True


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("2", "3"),
        ("-2", "2"),
        ("12,5", "125"),
        ("1/2", "0.49"),
        ("(1,2)", "(2,1)"),
        ("\\text{Monday}", "\\text{Tuesday}"),
        ("She has 18 apples and gives 3 away, so 15 are left.", "18"),
        # formulas must not be compared by a fragment (text extraction reads "6\\sqrt{3}" as 6)
        ("6\\sqrt{3}", "6\\sqrt{7}"),
        ("3\\sqrt{2}", "3\\sqrt3"),
        ("2 - 7i", "2 + 7i"),
        ("21a^5 - 7a^4 - 16a^2 - 32a", "21a^5 - 7a^4 - 16a^2 + 32a"),
        ("", "0"),
        ("3", ""),
        ("   ", "3"),
    ],
)
def test_non_equivalent_answers(candidate, reference):
    assert answers_equivalent(candidate, reference) is False


@pytest.mark.parametrize(
    ("candidate", "reference"),
    [
        ("1" * (MAX_ANSWER_CHARS + 1), "1"),
        ("1", "1" * (MAX_ANSWER_CHARS + 1)),
        (None, "1"),
        (3, "3"),
        ("\x00\ud800", "1"),
        ("\\frac{", "}"),
    ],
)
def test_bad_or_oversized_input_is_false_and_never_raises(candidate, reference):
    assert answers_equivalent(candidate, reference) is False


@pytest.mark.parametrize(
    "candidate",
    ["9^{9^{9^{9}}}", "(10^{100})!", "10!!!!", "99999999999999999999^{99999999}", "(x+1)^{1000}", "\\binom{10^9}{5}"],
)
def test_expressions_that_would_take_sympy_minutes_are_answered_quickly(candidate):
    started = time.monotonic()
    assert answers_equivalent(candidate, "3") is False
    assert time.monotonic() - started < 2


def test_identical_huge_expressions_still_match_as_text():
    assert answers_equivalent("9^{9^{9^{9}}}", "9^{9^{9^{9}}}") is True


def test_works_inside_a_thread():
    results: list[object] = []

    def run() -> None:
        try:
            results.append(answers_equivalent("\\dfrac{1}{2}", "0.5"))
            results.append(answers_equivalent("x=3", "4"))
        except Exception as exc:  # the assertion below reports it
            results.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=30)
    assert results == [True, False]


def test_check_final_answer_returns_the_extracted_answer_and_the_verdict():
    steps = ["Half of 36 is 18.", "So the answer is $\\boxed{\\dfrac{36}{2}}$."]
    assert check_final_answer(steps, "18") == ("\\dfrac{36}{2}", True)
    assert check_final_answer(["The total is 17."], "18") == ("The total is 17.", False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("so \\boxed{13}.", "13"),
        ("\\boxed{13}\n\nProblem: what is 2 + 5? \\boxed{7}", "13"),  # a run-on into a new problem
        ("\\boxed{\\frac{1}{2}} and later \\boxed{3}", "\\frac{1}{2}"),
        ("an unbalanced \\boxed{4 then \\boxed{5}", "5"),
        ("Next, 18 - 5 = 13. Then we multiply 13 by", None),  # prose is never an answer
        ("", None),
    ],
)
def test_extract_first_boxed_takes_the_first_balanced_box(text, expected):
    assert extract_first_boxed(text) == expected


def test_extract_boxed_in_steps_is_the_last_stated_answer_or_none():
    assert extract_boxed_in(["x = 2", "so \\boxed{2}", "check: 2 + 0 = 2"]) == "2"
    assert extract_boxed_in(["\\boxed{1}", "\\boxed{3}"]) == "3"
    assert extract_boxed_in(["no answer yet"]) is None
    assert extract_boxed_in([]) is None
