"""The periodic sweep re-enqueues final-answer checks that never ran (e.g. the broker was down at ingestion)."""

import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from annotations.models import Solution
from annotations.services.answers import answer_checks_sweep
from annotations.services.ingestion import SolutionInput, solutions_ingest
from tests.factories import DatasetFactory, ProblemFactory, SolutionFactory

pytestmark = pytest.mark.django_db

LATER = datetime.timedelta(hours=1)


def _solution(reference: str, **kwargs):
    problem = ProblemFactory(reference_answer=reference)
    return SolutionFactory(dataset=problem.dataset, problem=problem, **kwargs)


def test_the_sweep_checks_exactly_the_solutions_that_wait_for_a_check():
    waiting = _solution("4")
    checked = _solution("4", answer_check=False, final_answer="5")
    without_reference = _solution("")
    blank_reference = _solution("   ")

    assert answer_checks_sweep(now=timezone.now() + LATER) == 1  # tasks run in-process in tests

    stored = {s.pk: (s.final_answer, s.answer_check) for s in Solution.objects.all()}
    assert stored[waiting.pk] == ("4", True)
    assert stored[checked.pk] == ("5", False)  # left as it was
    assert stored[without_reference.pk] == ("", None)
    assert stored[blank_reference.pk] == ("", None)
    assert answer_checks_sweep(now=timezone.now() + LATER) == 0


def test_solutions_younger_than_the_grace_period_are_left_to_their_own_check(settings):
    settings.ANSWER_CHECK_SWEEP_AFTER_SECONDS = 600
    _solution("4")
    assert answer_checks_sweep(now=timezone.now() + datetime.timedelta(seconds=60)) == 0
    assert answer_checks_sweep(now=timezone.now() + datetime.timedelta(seconds=601)) == 1


def test_checks_lost_while_the_broker_was_down_are_done_by_the_sweep(monkeypatch, django_capture_on_commit_callbacks):
    from annotations import tasks

    def unreachable(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379")

    dataset = DatasetFactory()
    items = [
        SolutionInput(
            problem=f"What is {n} + {n}?", steps=[f"{n} + {n} = {2 * n}."], reference_answer=str(2 * n + n % 2)
        )
        for n in range(6)
    ]
    with monkeypatch.context() as broker_down:
        broker_down.setattr(tasks.check_final_answers, "delay", unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            solutions_ingest(dataset=dataset, items=items)
    assert list(Solution.objects.values_list("answer_check", flat=True)) == [None] * 6  # "300 of 300 stayed null"

    assert answer_checks_sweep(now=timezone.now() + LATER) == 6

    checks = dict(Solution.objects.values_list("problem__text", "answer_check"))
    assert checks == {f"What is {n} + {n}?": n % 2 == 0 for n in range(6)}


def test_the_sweep_command_reports_the_answer_checks(settings):
    settings.ANSWER_CHECK_SWEEP_AFTER_SECONDS = 0
    _solution("4")
    _solution("4")
    out = io.StringIO()
    call_command("sweep_suggestions", stdout=out)
    assert out.getvalue() == "answer checks: 2 solutions enqueued\n"
