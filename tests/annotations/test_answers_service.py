"""The final-answer check service and task: stored verdicts, bulk writes, and the run after ingestion."""

import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from annotations.models import Solution
from annotations.services.answers import solutions_check_answers
from annotations.services.ingestion import SolutionInput, solutions_ingest
from annotations.tasks import check_final_answers
from tests.factories import DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = pytest.mark.django_db


def _solution(reference, steps, **fields):
    dataset = DatasetFactory()
    problem = ProblemFactory(dataset=dataset, reference_answer=reference)
    return SolutionFactory(dataset=dataset, problem=problem, steps=steps, **fields)


def test_fills_the_extracted_final_answer_and_the_verdict():
    right = _solution("\\frac{1}{2}", ["Half of one is", "$\\boxed{0.5}$"])
    wrong = _solution("18", ["She sells 16 - 3 - 4 = 9 eggs.", "So she makes 9 * 2 = \\boxed{17} dollars."])
    prose_right = _solution("18", ["She sells 16 - 3 - 4 = 9 eggs.", "So she makes 18 dollars."])

    result = solutions_check_answers(solution_ids=[right.pk, wrong.pk, prose_right.pk])

    assert (result.checked, result.matched, result.without_reference) == (3, 2, 0)
    for solution in (right, wrong, prose_right):
        solution.refresh_from_db()
    assert (right.final_answer, right.answer_check, right.final_answer_correct) == ("0.5", True, True)
    assert (wrong.final_answer, wrong.answer_check, wrong.final_answer_correct) == ("17", False, False)
    assert (prose_right.answer_check, prose_right.final_answer_correct) == (True, True)


@pytest.mark.parametrize(
    "last_step",
    [
        "So she makes 9 * 2 = 17 dollars.",  # wrong, but read out of prose: not "known wrong"
        "Therefore the total is 50 dollars, which is 10 more than 40.",  # right, though the prose ends on 40
    ],
)
def test_a_mismatch_read_out_of_prose_does_not_make_the_answer_known_wrong(last_step):
    """ "Known wrong" keeps a solution from being settled as all correct: only a stated answer may say so."""
    solution = _solution("50" if "50" in last_step else "18", ["First we count.", last_step])

    solutions_check_answers(solution_ids=[solution.pk])

    solution.refresh_from_db()
    assert solution.final_answer == last_step
    assert (solution.answer_check, solution.final_answer_correct) == (False, None)


def test_keeps_the_sources_final_answer_and_verdict():
    solution = _solution("59", ["Total is \\boxed{59}."], final_answer="\\boxed{59}", final_answer_correct=False)

    solutions_check_answers(solution_ids=[solution.pk])

    solution.refresh_from_db()
    assert solution.final_answer == "\\boxed{59}"
    assert solution.answer_check is True
    assert solution.final_answer_correct is False  # the source's verdict wins; the check is stored beside it


def test_compares_the_given_final_answer_rather_than_the_steps():
    solution = _solution("7", ["The steps end with \\boxed{6}."], final_answer="7")

    solutions_check_answers(solution_ids=[solution.pk])

    solution.refresh_from_db()
    assert (solution.final_answer, solution.answer_check) == ("7", True)


def test_leaves_solutions_without_a_reference_answer_alone():
    solution = _solution("", ["So the answer is \\boxed{3}."])

    result = solutions_check_answers(solution_ids=[solution.pk, 999_999])

    assert (result.checked, result.without_reference) == (0, 1)
    solution.refresh_from_db()
    assert (solution.final_answer, solution.answer_check, solution.final_answer_correct) == ("", None, None)


def test_uses_two_queries_whatever_the_number_of_solutions(django_assert_num_queries):
    dataset = DatasetFactory()
    ids = [
        SolutionFactory(
            dataset=dataset,
            problem=ProblemFactory(dataset=dataset, reference_answer=str(n)),
            steps=[f"The answer is \\boxed{{{n}}}."],
        ).pk
        for n in range(30)
    ]
    # one SELECT and one bulk UPDATE, inside the chunk's SAVEPOINT ... RELEASE (the test runs in a transaction)
    with django_assert_num_queries(4):
        result = solutions_check_answers(solution_ids=ids)
    assert result.matched == 30
    assert Solution.objects.filter(answer_check=True, final_answer_correct=True).count() == 30


def test_task_is_idempotent():
    solution = _solution("1600", ["The total is 1,600 dollars.", "\\boxed{1,600}"])

    assert check_final_answers(solution_ids=[solution.pk]) == 1
    first = Solution.objects.values("final_answer", "answer_check", "final_answer_correct").get(pk=solution.pk)
    assert check_final_answers(solution_ids=[solution.pk]) == 1
    second = Solution.objects.values("final_answer", "answer_check", "final_answer_correct").get(pk=solution.pk)

    assert first == second == {"final_answer": "1,600", "answer_check": True, "final_answer_correct": True}


def test_runs_in_a_worker_thread(transactional_db):
    solution = _solution("\\dfrac{1}{9}", ["So the probability is $\\boxed{\\frac19}$."])
    errors: list[BaseException] = []

    def run() -> None:
        try:
            check_final_answers(solution_ids=[solution.pk])
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout=60)

    assert errors == []
    solution.refresh_from_db()
    assert solution.answer_check is True


def test_ingestion_runs_the_check_after_commit(django_capture_on_commit_callbacks):
    dataset = DatasetFactory()
    items = [
        SolutionInput(problem="What is 6 * 7?", steps=["6 * 7 = 42.", "\\boxed{42}"], reference_answer="42"),
        SolutionInput(problem="What is 6 + 7?", steps=["6 + 7 = 12."], reference_answer="13", external_id="b"),
        SolutionInput(problem="Name a prime.", steps=["2 is prime."]),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        solutions_ingest(dataset=dataset, items=items)

    stored = {
        s.problem.text: (s.final_answer, s.answer_check, s.final_answer_correct)
        for s in Solution.objects.select_related("problem")
    }
    assert stored == {
        "What is 6 * 7?": ("42", True, True),
        "What is 6 + 7?": ("6 + 7 = 12.", False, None),  # unboxed: a mismatch is not "known wrong"
        "Name a prime.": ("", None, None),
    }


def test_the_check_reads_the_last_box_of_a_response(django_capture_on_commit_callbacks):
    dataset = DatasetFactory()
    response = "Janet sells 9 eggs.\n\nAt $2 each she makes $\\boxed{\n\n18}$ dollars."
    items = [
        SolutionInput(problem="How much?", response=response, reference_answer="18"),
        SolutionInput(problem="How many?", response="Count them.\n\nThere are 5.", reference_answer="6"),
    ]

    with django_capture_on_commit_callbacks(execute=True):
        solutions_ingest(dataset=dataset, items=items)

    stored = {
        s.problem.text: (s.num_steps, s.final_answer, s.answer_check)
        for s in Solution.objects.select_related("problem")
    }
    assert stored == {"How much?": (3, "18", True), "How many?": (2, "There are 5.", False)}


def test_a_blank_reference_leaves_the_solution_alone_and_its_steps_unread():
    blank, spaces = _solution("", ["\\boxed{3}"]), _solution("   ", ["\\boxed{3}"])
    with CaptureQueriesContext(connection) as captured:
        result = solutions_check_answers(solution_ids=[blank.pk, spaces.pk])
    assert (result.checked, result.matched, result.without_reference) == (0, 0, 2)
    read = next(query["sql"] for query in captured if query["sql"].startswith("SELECT"))
    assert "CASE WHEN" in read  # the steps come back only for a solution whose problem has a reference
    for solution in (blank, spaces):
        solution.refresh_from_db()
        assert (solution.final_answer, solution.answer_check, solution.final_answer_correct) == ("", None, None)
