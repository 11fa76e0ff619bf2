"""The task path with real Celery worker processes against Redis (not eager mode), on the tiny models.

Each test starts `celery -A prmweb worker -Q gpu,default -P solo -c 1 --prefetch-multiplier=1`
subprocesses on PostgreSQL's test database and Redis db 3 (PRMWEB_TEST_BROKER_URL), ingests solutions
through the ingestion service, and waits for the rows the workers write.
"""

import pytest
import redis

from annotations.models import Solution, Suggestion
from annotations.services.ingestion import SolutionInput, solutions_ingest
from scoring.configuration import method_configuration
from scoring.tasks import sweep_missing_suggestions
from tests.factories import DatasetFactory
from tests.scoring.conftest import tiny_scoring_environment
from tests.scoring.worker_support import BROKER_URL, Worker, publishing_to, redis_available, wait_for

pytestmark = [
    pytest.mark.worker,
    pytest.mark.postgres,
    pytest.mark.skipif(not redis_available(), reason=f"needs Redis at {BROKER_URL}"),
]

STEPS = [
    ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."],
    ["We add 12 and 30.", "12 + 30 = 42.", "So the answer is \\boxed{42}."],
]


@pytest.fixture
def broker(transactional_db):
    redis.Redis.from_url(BROKER_URL).flushdb()
    with publishing_to(BROKER_URL):
        yield BROKER_URL
    redis.Redis.from_url(BROKER_URL).flushdb()


@pytest.fixture
def workers(broker, tiny_scoring, tmp_path):
    started: list[Worker] = []

    def start(**environment: str) -> Worker:
        worker = Worker(tmp_path, {**tiny_scoring_environment(tiny_scoring), **environment})
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()


def _ingest(dataset, reference: str) -> list[int]:
    items = [SolutionInput(problem="What is 12 + 30?", steps=steps, reference_answer=reference) for steps in STEPS]
    return [item.solution_id for item in solutions_ingest(dataset=dataset, items=items).items]


def _finished(method: str, count: int) -> bool:
    return Suggestion.objects.filter(method=method, status__in=("succeeded", "failed", "skipped")).count() >= count


def test_ingestion_makes_a_real_worker_write_mc_judge_prm_and_consensus(workers):
    worker = workers()
    dataset = DatasetFactory(scoring_methods=["mc", "judge", "prm", "arithmetic"])

    first, _ = _ingest(dataset, reference="1")

    queued = set(Suggestion.objects.values_list("method", "status"))
    assert {method for method, _ in queued} <= {"mc", "judge", "prm", "arithmetic"}
    wait_for(
        lambda: all(_finished(m, 2) for m in ("mc", "judge", "prm", "arithmetic", "consensus")), 50, "rows", worker
    )
    rows = {(row.solution_id, row.method): row for row in Suggestion.objects.all()}
    assert len(rows) == 10
    assert all(row.status == "succeeded" for row in rows.values())
    # every rollout answers 1 (right), but the last step's own \boxed{52} decides that prefix: mc says step 2
    assert (rows[first, "mc"].label, rows[first, "judge"].label, rows[first, "arithmetic"].label) == (2, 1, 1)
    assert rows[first, "mc"].config_key == method_configuration("mc").config_key
    assert rows[first, "mc"].rollouts > 0 and rows[first, "mc"].generated_tokens > 0
    assert rows[first, "judge"].engine == "transformers"
    assert len(rows[first, "prm"].step_scores) == 3
    assert rows[first, "consensus"].label is None  # mc says step 2, the judge says step 1
    assert "score_gpu_mc" in worker.log() and "score_arithmetic" in worker.log()


def test_a_worker_killed_mid_task_has_its_task_redelivered_and_one_suggestion_results(workers):
    doomed = workers()  # the default visibility timeout (hours): it never redelivers by itself
    dataset = DatasetFactory(scoring_methods=["judge"])

    solution_ids = _ingest(dataset, reference="1")
    wait_for(lambda: Suggestion.objects.filter(method="judge", status="running").exists(), 45, "running", doomed)
    doomed.kill()  # mid-task: loading the model, before any result is stored

    assert set(Suggestion.objects.values_list("status", flat=True)) == {"running"}
    # The second worker restores unacknowledged tasks older than 3 s, looking every second.
    rescuer = workers(
        CELERY_VISIBILITY_TIMEOUT="3", CELERY_UNACKED_RESTORE_INTERVAL="1", CELERY_UNACKED_RESTORE_THROTTLE="1"
    )
    wait_for(lambda: _finished("judge", 2), 55, "the redelivered task", rescuer)
    rows = Suggestion.objects.filter(method="judge")
    assert sorted(rows.values_list("solution_id", flat=True)) == sorted(solution_ids)  # exactly one each
    assert set(rows.values_list("status", "label")) == {("succeeded", 1)}
    assert "score_gpu_judge" in rescuer.log()


def test_broker_down_at_ingestion_keeps_the_solutions_and_the_sweep_enqueues_them_later(workers):
    dataset = DatasetFactory(scoring_methods=["arithmetic", "mc"])

    with publishing_to("redis://127.0.0.1:1/0"):  # nothing listens there
        solution_ids = _ingest(dataset, reference="42")

    assert Solution.objects.filter(pk__in=solution_ids).count() == 2
    assert not Suggestion.objects.exists()  # the placeholders of the batches that could not be sent are gone
    worker = workers()
    sweep_missing_suggestions.delay()  # what beat sends every SWEEP_INTERVAL_SECONDS
    wait_for(lambda: _finished("arithmetic", 2) and _finished("mc", 2), 50, "the swept suggestions", worker)
    labels = dict(Suggestion.objects.filter(method="arithmetic").values_list("solution_id", "label"))
    assert labels == {solution_ids[0]: 1, solution_ids[1]: -1}
    assert set(Suggestion.objects.filter(method="mc").values_list("label", flat=True)) == {0}  # answers 1, not 42


def test_a_reformat_the_broker_refused_at_ingestion_is_sent_by_the_sweep_and_run_by_the_judge(workers, tiny_scoring):
    dataset = DatasetFactory(scoring_methods=["arithmetic"])
    response = "We add 12 and 30.\n12 + 30 = 52.\nSo the answer is \\boxed{52}."
    item = SolutionInput(problem="What is 12 + 30?", response=response, segmentation="reformat", reference_answer="42")

    with publishing_to("redis://127.0.0.1:1/0"):  # nothing listens there
        (ingested,) = solutions_ingest(dataset=dataset, items=[item]).items

    solution = Solution.objects.get(pk=ingested.solution_id)
    assert (solution.status, solution.reformat_status, solution.reformat_queued_at) == ("waiting", "pending", None)
    worker = workers(SCORING_REFORMAT_MAX_TOKENS="16")
    sweep_missing_suggestions.delay()  # beat's sweep: it sends the reformat to the judge's queue
    wait_for(lambda: _finished("arithmetic", 1), 50, "the reformat, then the suggestion", worker)
    solution.refresh_from_db()
    # The tiny judge answers \boxed{1}, not the response: refused (or cut at 16 tokens), so the paragraphs are used.
    assert (solution.status, solution.segmentation, solution.steps) == ("open", "paragraphs", [response])
    assert solution.reformat_status in ("rejected", "failed") and solution.reformat_fell_back
    assert solution.reformat_error.startswith(("The reply changes the text at character 0", "the reply was cut"))
    assert solution.reformat_model == str(tiny_scoring.causal_lm)
    assert Suggestion.objects.get(solution=solution, method="arithmetic").step_count == 1
    assert "scoring.tasks.reformat_responses" in worker.log()
