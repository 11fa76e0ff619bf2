"""segmentation "reformat" end to end with the scripted judge: accepted, rejected, engine failures, retries, the sweep.

The embedded default runs tasks in-process after the commit (no broker), so ingesting a response with
`segmentation: "reformat"` runs the reformat task, then the suggestions and the final-answer check.
"""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Solution, Suggestion
from annotations.services.claims import claim_next
from annotations.services.ingestion import SolutionInput, solutions_ingest
from scoring import tasks
from scoring.configuration import method_configuration
from scoring.engines.base import EngineInfo, Generation, SamplingParams, TransientEngineError
from scoring.methods.reformat import reformat_prompt_text
from scoring.selectors import solution_ids_to_score
from scoring.services import missing_suggestions_sweep, reformat_sweep, responses_reformat, suggestions_run
from tests.factories import DatasetFactory, MembershipFactory, SolutionFactory, UserFactory
from tests.scoring.methods.fakes import prompt_text

pytestmark = pytest.mark.django_db

PROBLEM = "What is 12 + 30?"
# One paragraph with line breaks, as a generator that never leaves a blank line writes it.
RESPONSE = "We add 12 and 30.\n12 + 30 = 52.\nSo the answer is \\boxed{52}."
SPLIT = "We add 12 and 30.\n\n12 + 30 = 52.\n\nSo the answer is \\boxed{52}."
CHANGED = "We add 12 and 30.\n\n12 + 30 = 42.\n\nSo the answer is \\boxed{52}."
CHANGED_REASON = (
    "The reply changes the text at character 28 of the response: '52. So the answer is \\\\boxed{52}.' became "
    "'42. So the answer is \\\\boxed{52}.'."
)


class Judge:
    """The scripted judge: replies with `replies[response]`; a response in `too_long` cannot be served."""

    info = EngineInfo(engine="scripted", model_name="scripted-judge")

    def __init__(self):
        self.replies: dict[str, str] = {}
        self.too_long: set[str] = set()
        self.error: Exception | None = None
        self.calls: list[tuple[list, SamplingParams]] = []

    def generate(self, prompts, params):
        self.calls.append((list(prompts), params))
        if self.error is not None:
            raise self.error
        return [self._generation(prompt_text(prompt).rsplit("[Solution]\n\n", 1)[1]) for prompt in prompts]

    def _generation(self, response: str) -> Generation:
        if response in self.too_long:
            return Generation.failed("prompt is 9000 tokens; the model's context is 4096 tokens", prompt_tokens=9000)
        return Generation(texts=(self.replies[response],), prompt_tokens=40, generated_tokens=20)


@pytest.fixture
def judge(monkeypatch) -> Judge:
    engine = Judge()

    def get_generation_engine(role):
        assert role == "judge"
        return engine

    monkeypatch.setattr("scoring.services.reformat.get_generation_engine", get_generation_engine)
    return engine


@pytest.fixture
def ingest(django_capture_on_commit_callbacks):
    """Ingest responses with segmentation reformat and run the after-commit hooks, as a committed request would."""

    def run(dataset, *responses, execute=True, reference="42"):
        items = [
            SolutionInput(problem=PROBLEM, response=response, segmentation="reformat", reference_answer=reference)
            for response in responses
        ]
        with django_capture_on_commit_callbacks(execute=execute):
            result = solutions_ingest(dataset=dataset, items=items)
        return [Solution.objects.get(pk=item.solution_id) for item in result.items]

    return run


def test_an_accepted_reply_gives_the_judges_paragraphs_cut_from_the_response_then_suggestions(judge, ingest):
    judge.replies[RESPONSE] = SPLIT
    dataset = DatasetFactory(scoring_methods=["arithmetic"])

    (solution,) = ingest(dataset, RESPONSE)

    solution.refresh_from_db()
    assert solution.steps == ["We add 12 and 30.", "12 + 30 = 52.", "So the answer is \\boxed{52}."]
    assert solution.step_offsets == [[0, 17], [18, 31], [32, 60]]
    assert (solution.num_steps, solution.segmentation, solution.status) == (3, "reformat", "open")
    assert (solution.reformat_status, solution.reformat_error, solution.reformat_model) == (
        "accepted",
        "",
        "scripted-judge",
    )
    assert solution.response == RESPONSE
    (prompts, params) = judge.calls[0]
    assert len(judge.calls) == 1 and (params.n, params.temperature, params.max_tokens) == (1, 0.0, 8192)
    assert [prompt.as_dicts() for prompt in prompts] == [
        [{"role": "user", "content": reformat_prompt_text(PROBLEM, RESPONSE)}]
    ]
    arithmetic = Suggestion.objects.get(solution=solution, method="arithmetic")
    assert (arithmetic.status, arithmetic.label, arithmetic.step_count) == ("succeeded", 1, 3)
    assert (solution.final_answer, solution.answer_check) == ("52", False)


def test_a_reply_that_changes_the_text_falls_back_to_paragraphs_and_is_flagged(judge, ingest):
    response = "We add 12 and 30.\n12 + 30 = 52.\n\nSo the answer is \\boxed{52}."
    judge.replies[response] = CHANGED
    dataset = DatasetFactory(scoring_methods=["arithmetic"])

    (solution,) = ingest(dataset, response)

    solution.refresh_from_db()
    assert solution.steps == ["We add 12 and 30.\n12 + 30 = 52.", "So the answer is \\boxed{52}."]
    assert (solution.num_steps, solution.segmentation, solution.status) == (2, "paragraphs", "open")
    assert (solution.reformat_status, solution.reformat_fell_back) == ("rejected", True)
    assert solution.reformat_error == CHANGED_REASON
    assert Suggestion.objects.get(solution=solution, method="arithmetic").step_count == 2


def test_a_reply_over_the_step_limit_is_refused_and_the_paragraphs_are_used(judge, ingest, settings):
    response = " ".join(f"Step {index}." for index in range(201))
    judge.replies[response] = "\n\n".join(f"Step {index}." for index in range(201))

    (solution,) = ingest(DatasetFactory(), response)

    solution.refresh_from_db()
    assert (solution.reformat_status, solution.num_steps, solution.segmentation) == ("rejected", 1, "paragraphs")
    assert solution.reformat_error == "The reply has 201 paragraphs; a solution has at most 200."


def test_an_unconfigured_judge_fails_every_solution_with_the_reason_and_falls_back(ingest, settings):
    settings.SCORING_ENGINES = {**settings.SCORING_ENGINES, "judge": {"ENGINE": "transformers", "MODEL": ""}}

    first, second = ingest(DatasetFactory(scoring_methods=["arithmetic"]), RESPONSE, RESPONSE + " ")

    for solution in (first, second):
        solution.refresh_from_db()
        assert (solution.status, solution.reformat_status, solution.segmentation) == ("open", "failed", "paragraphs")
        assert solution.steps == [solution.response]
        assert solution.reformat_error == (
            "EngineError: SCORING_JUDGE_MODEL is not set: point it at a local model folder or a served model name."
        )
    assert Suggestion.objects.filter(method="arithmetic").count() == 2


def test_a_prompt_the_judge_cannot_take_fails_that_solution_alone(judge, ingest):
    long_response = RESPONSE + " Long."
    judge.replies[RESPONSE] = SPLIT
    judge.too_long.add(long_response)

    fine, too_long = ingest(DatasetFactory(), RESPONSE, long_response)

    fine.refresh_from_db()
    too_long.refresh_from_db()
    assert len(judge.calls) == 1 and len(judge.calls[0][0]) == 2  # one batched call
    assert (fine.reformat_status, fine.num_steps) == ("accepted", 3)
    assert (too_long.reformat_status, too_long.num_steps, too_long.steps) == ("failed", 1, [long_response])
    assert too_long.reformat_error == (
        "the judge could not take the prompt: prompt is 9000 tokens; the model's context is 4096 tokens"
    )


def test_a_transient_engine_error_leaves_the_solution_waiting_for_the_retry(judge, ingest):
    (solution,) = ingest(DatasetFactory(), RESPONSE, execute=False)
    judge.error = TransientEngineError("could not reach http://judge:8000/v1/chat/completions")

    with pytest.raises(TransientEngineError):
        responses_reformat(solution_ids=[solution.pk])

    solution.refresh_from_db()
    assert (solution.status, solution.reformat_status, solution.num_steps, solution.steps) == (
        "waiting",
        "pending",
        0,
        [],
    )


def test_the_task_retries_a_transient_error_and_after_the_last_retry_falls_back(judge, ingest):
    (solution,) = ingest(DatasetFactory(), RESPONSE, execute=False)
    judge.error = TransientEngineError("could not reach http://judge:8000/v1/chat/completions")

    result = tasks.reformat_responses.apply(kwargs={"solution_ids": [solution.pk]})  # eager: retries run at once

    assert result.get() == {"accepted": 0, "rejected": 0, "failed": 1}
    assert len(judge.calls) == 1 + tasks.SCORING_TASK_OPTIONS["max_retries"]
    solution.refresh_from_db()
    assert (solution.status, solution.reformat_status, solution.segmentation) == ("open", "failed", "paragraphs")
    assert solution.reformat_error == "gave up after retries: could not reach [address hidden]"


def test_the_task_retries_only_transient_engine_errors_on_the_judges_queue():
    task = tasks.reformat_responses
    assert (task.acks_late, task.reject_on_worker_lost) == (True, True)
    assert task.autoretry_for == (TransientEngineError,)
    assert tasks.route_by_method(task.name, (), {}, {}) == {"queue": "gpu"}


def test_a_redelivered_task_leaves_a_settled_solution_alone_and_asks_nobody(judge, ingest):
    judge.replies[RESPONSE] = SPLIT
    (solution,) = ingest(DatasetFactory(), RESPONSE)
    settled = Solution.objects.get(pk=solution.pk)

    again = tasks.reformat_responses.apply(kwargs={"solution_ids": [solution.pk]})

    assert again.get() == {"accepted": 0, "rejected": 0, "failed": 0}
    assert len(judge.calls) == 1
    solution.refresh_from_db()
    assert (solution.steps, solution.reformat_status) == (settled.steps, "accepted")
    assert responses_reformat(solution_ids=[solution.pk, 987654]).as_dict() == {
        "accepted": 0,
        "rejected": 0,
        "failed": 0,
    }


def test_the_queue_skips_a_waiting_solution_until_it_has_its_steps(judge, ingest):
    judge.replies[RESPONSE] = SPLIT
    dataset = DatasetFactory()
    annotator = UserFactory()
    MembershipFactory(dataset=dataset, user=annotator)
    (solution,) = ingest(dataset, RESPONSE, execute=False)

    assert claim_next(dataset=dataset, annotator=annotator) is None

    responses_reformat(solution_ids=[solution.pk])

    claim = claim_next(dataset=dataset, annotator=annotator)
    assert claim is not None and claim.solution_id == solution.pk


def test_the_sweep_sends_a_reformat_the_broker_refused_at_ingestion(
    judge, ingest, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    judge.replies[RESPONSE] = SPLIT
    dataset = DatasetFactory(scoring_methods=["arithmetic"])

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis:6379. Connection refused.")

    with monkeypatch.context() as outage:
        outage.setattr(tasks.reformat_responses, "apply_async", broker_down)
        with caplog.at_level(logging.ERROR, logger="annotations.hooks"):
            (solution,) = ingest(dataset, RESPONSE)

    solution.refresh_from_db()
    assert (solution.status, solution.reformat_status, solution.reformat_queued_at) == ("waiting", "pending", None)
    assert f"could not enqueue reformatting for 1 solutions of dataset {dataset.pk}" in caplog.text
    assert not Suggestion.objects.exists() and judge.calls == []

    with django_capture_on_commit_callbacks(execute=True):
        assert reformat_sweep() == 1

    solution.refresh_from_db()
    assert (solution.status, solution.reformat_status, solution.num_steps) == ("open", "accepted", 3)
    assert Suggestion.objects.get(solution=solution, method="arithmetic").status == "succeeded"
    assert reformat_sweep() == 0


def test_the_sweep_resends_a_stuck_reformat_but_not_one_queued_a_moment_ago(judge, ingest, settings):
    judge.replies[RESPONSE] = SPLIT
    judge.replies[RESPONSE + "!"] = SPLIT + "!"
    stuck, fresh = ingest(DatasetFactory(), RESPONSE, RESPONSE + "!", execute=False)
    long_ago = timezone.now() - timedelta(seconds=settings.SCORING_STUCK_AFTER_SECONDS + 60)
    Solution.objects.filter(pk=stuck.pk).update(reformat_queued_at=long_ago)

    assert tasks.sweep_missing_suggestions() == {"reformat": 1}

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert (stuck.status, stuck.reformat_status) == ("open", "accepted")
    assert (fresh.status, fresh.reformat_status) == ("waiting", "pending")


def test_the_suggestion_sweep_and_scoring_runs_leave_waiting_solutions_alone(judge, ingest):
    dataset = DatasetFactory(scoring_methods=["arithmetic"])
    (waiting,) = ingest(dataset, RESPONSE, execute=False)
    ready = SolutionFactory(dataset=dataset)
    key = method_configuration("arithmetic").config_key

    assert list(solution_ids_to_score(dataset=dataset, method="arithmetic", config_key=key, force=True)) == [ready.pk]
    assert missing_suggestions_sweep() == {"arithmetic": 1}
    assert list(Suggestion.objects.values_list("solution_id", flat=True)) == [ready.pk]
    assert suggestions_run(method="arithmetic", solution_ids=[waiting.pk], config_key=key).solution_ids == []
