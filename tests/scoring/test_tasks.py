"""Celery task wiring: routing to queues, acknowledgement and retry options, giving up after retries."""

import pytest

from annotations.models import Suggestion
from prmweb.celery import app
from prmweb.errors import ApplicationError
from scoring.engines.base import TransientEngineError
from scoring.methods.registry import METHODS
from scoring.tasks import SCORING_TASK_OPTIONS, TASKS_BY_METHOD, task_for_method
from tests.factories import SolutionFactory


@pytest.mark.parametrize("method", sorted(TASKS_BY_METHOD))
def test_model_methods_route_to_gpu_and_cpu_methods_to_default(method):
    task = task_for_method(method)
    routed = app.amqp.router.route({}, task.name)

    expected = METHODS[method].queue
    assert task.name.startswith("scoring.tasks.score_gpu_") == (expected == "gpu")
    assert routed["queue"].name == expected


def test_scoring_tasks_ack_late_reject_on_worker_loss_and_retry_only_transient_engine_errors():
    for task in TASKS_BY_METHOD.values():
        assert task.acks_late is True
        assert task.reject_on_worker_lost is True
        assert task.autoretry_for == (TransientEngineError,)
        assert task.max_retries == SCORING_TASK_OPTIONS["max_retries"] == 5
        assert task.retry_backoff == 5


def test_unknown_method_has_no_task():
    with pytest.raises(ApplicationError, match="No scoring task runs method 'consensus'"):
        task_for_method("consensus")


@pytest.mark.django_db
def test_after_the_last_retry_the_batch_is_stored_as_failed(monkeypatch):
    def unavailable(method, config, tasks):
        raise TransientEngineError("could not reach http://judge:8000/v1/completions")

    monkeypatch.setattr("scoring.services.runner._run_method", unavailable)
    solution = SolutionFactory()

    result = TASKS_BY_METHOD["judge"].apply(kwargs={"solution_ids": [solution.pk], "config_key": "k"}, retries=5)

    assert result.get() == {"succeeded": 0, "failed": 1, "skipped": 0}
    row = Suggestion.objects.get(solution=solution, method="judge")
    assert row.status == "failed"
    assert row.error == "gave up after retries: could not reach [address hidden]"  # shown to users: no address
