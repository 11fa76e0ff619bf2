"""The vLLM engine against a fake `vllm` module (vLLM cannot be installed on this CPU-only machine).

The fake follows vLLM 0.33.0's documented offline API and records every call, so the tests pin its exact use:
`LLM(...)` arguments, ONE `generate` per batch with one fully specified `SamplingParams` per prompt, prompts sent
as `{"prompt_token_ids": ...}` rendered by the tokenizer vLLM loaded (here the tiny tokenizer with the real
Qwen2.5 chat template), request validation that raises `vllm.exceptions.VLLMValidationError` (a
`VLLMClientError`, not a `ValueError`, as in 0.33), and the pooling runner with
`pooler_config=PoolerConfig(step_tag_id=...)` and `encode(..., pooling_task="token_classify")` for PRMs. What the
fake cannot show is that vLLM itself behaves as documented on a GPU; docs/scoring.md lists that as untested.
"""

import sys
import types
from dataclasses import dataclass, field

import pytest
from transformers import AutoTokenizer

from scoring.engines.base import EngineError, SamplingParams, StepScoringRequest
from scoring.engines.config import EngineSettings
from scoring.engines.vllm_engine import VLLMGenerationEngine, VLLMStepScoringEngine, validation_errors
from scoring.methods import judge, mc
from scoring.methods.base import SolutionTask
from tests.scoring.chat_fixtures import (
    QWEN_MATH_SYSTEM,
    chatml_judge,
    chatml_mc,
    processbench_records,
    run_eval_user_message,
)
from tests.scoring.tiny_models import SEPARATOR, SHEPHERD_SEPARATOR

FAKE_MAX_MODEL_LEN = 4096


class FakeTensor:
    def __init__(self, rows):
        self.rows = rows

    def tolist(self):
        return self.rows


@dataclass
class FakeCompletion:
    text: str
    token_ids: list[int]
    finish_reason: str = "stop"


@dataclass
class FakeRequestOutput:
    prompt_token_ids: list[int]
    outputs: list


@dataclass
class FakePoolingOutput:
    data: FakeTensor


@dataclass
class FakePoolingRequestOutput:
    prompt_token_ids: list[int]
    outputs: FakePoolingOutput


@dataclass
class Calls:
    llm_kwargs: list = field(default_factory=list)
    generate: list = field(default_factory=list)
    encode: list = field(default_factory=list)


class VLLMError(Exception):
    pass


class VLLMClientError(VLLMError):
    pass


class VLLMValidationError(VLLMClientError):
    """As in vLLM 0.33 (`vllm/exceptions.py`): a client error, NOT a ValueError, naming the parameter."""

    def __init__(self, message, *, parameter=None, value=None):
        super().__init__(message)
        self.parameter = parameter
        self.value = value

    def __str__(self):
        extras = [f"{name}={value}" for name, value in (("parameter", self.parameter), ("value", self.value)) if value]
        return f"{super().__str__()} ({', '.join(extras)})" if extras else super().__str__()


def make_fake_vllm(pooled_rows=None, reject=None, with_pooler_config=True):
    """Return (modules, calls): a fake `vllm` package with `vllm.config` and `vllm.exceptions`."""
    calls = Calls()

    class SamplingParamsFake:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    @dataclass
    class PoolerConfig:
        step_tag_id: int | None = None

    class ModelConfig:
        def __init__(self, max_model_len):
            self.max_model_len = max_model_len

    class LLM:
        def __init__(self, **kwargs):
            calls.llm_kwargs.append(kwargs)
            self.tokenizer = AutoTokenizer.from_pretrained(kwargs["model"])
            self.model_config = ModelConfig(kwargs.get("max_model_len") or FAKE_MAX_MODEL_LEN)
            self.pooler_config = kwargs.get("pooler_config")

        def get_tokenizer(self):
            return self.tokenizer

        def _validate(self, prompts):
            for prompt in prompts:
                ids = prompt["prompt_token_ids"]
                if len(ids) > self.model_config.max_model_len:
                    raise VLLMValidationError(f"The decoder prompt (length {len(ids)}) is longer than the maximum")
                if reject and reject(ids):
                    raise VLLMValidationError("a request parameter is invalid", parameter="stop")

        def generate(self, prompts, sampling_params, use_tqdm=True):
            calls.generate.append((list(prompts), [params.kwargs for params in sampling_params], use_tqdm))
            self._validate(prompts)
            return [
                FakeRequestOutput(
                    prompt_token_ids=list(prompt["prompt_token_ids"]),
                    outputs=[
                        FakeCompletion(f"completion {k} \\boxed{{-1}}", [1] * (k + 2), "length" if k else "stop")
                        for k in range(params.kwargs["n"])
                    ],
                )
                for prompt, params in zip(prompts, sampling_params, strict=True)
            ]

        def encode(self, prompts, pooling_params=None, *, use_tqdm=True, pooling_task=None):
            calls.encode.append((list(prompts), pooling_task, use_tqdm))
            self._validate(prompts)
            step_tag = self.pooler_config.step_tag_id
            outputs = []
            for prompt in prompts:
                ids = prompt["prompt_token_ids"]
                rows = pooled_rows(ids, step_tag) if pooled_rows else [[0.25, 0.75]] * ids.count(step_tag)
                outputs.append(FakePoolingRequestOutput(ids, FakePoolingOutput(FakeTensor(rows))))
            return outputs

    module = types.ModuleType("vllm")
    module.__version__ = "0.33.0"
    module.LLM = LLM
    module.SamplingParams = SamplingParamsFake
    config = types.ModuleType("vllm.config")
    if with_pooler_config:
        config.PoolerConfig = PoolerConfig
    exceptions = types.ModuleType("vllm.exceptions")
    exceptions.VLLMError = VLLMError
    exceptions.VLLMClientError = VLLMClientError
    exceptions.VLLMValidationError = VLLMValidationError
    module.config, module.exceptions = config, exceptions
    return {"vllm": module, "vllm.config": config, "vllm.exceptions": exceptions}, calls


def install(monkeypatch, **options):
    modules, calls = make_fake_vllm(**options)
    for name, module in modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    return calls


@pytest.fixture
def fake_vllm(monkeypatch):
    return install(monkeypatch)


def _settings(model, **overrides):
    values = {"kind": "vllm", "model": str(model), "seed": 3, "gpu_memory_utilization": 0.7, "max_model_len": 8192}
    return EngineSettings(**{**values, **overrides})


def record_task(record, solution_id=1) -> SolutionTask:
    return SolutionTask(solution_id, record["problem"], tuple(record["steps"]), "x")


def decoded(tokenizer, prompts) -> list[str]:
    return [tokenizer.decode(prompt["prompt_token_ids"]) for prompt in prompts]


def test_generation_loads_once_and_sends_one_generate_per_batch_of_token_prompts(fake_vllm, tiny_models):
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm))
    params = SamplingParams(n=2, max_tokens=700, temperature=0.7, top_p=0.95, seed=5, stop=("\n\n\n",))

    first = engine.generate(["a b c", "d e"], params)
    engine.generate(["f"], params)

    assert fake_vllm.llm_kwargs == [
        {
            "model": str(tiny_models.causal_lm),
            "enable_prefix_caching": True,
            "seed": 3,
            "gpu_memory_utilization": 0.7,
            "max_model_len": 8192,
        }
    ]
    assert len(fake_vllm.generate) == 2
    prompts, sampling, use_tqdm = fake_vllm.generate[0]
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)
    assert prompts == [{"prompt_token_ids": tokenizer.encode("a b c")}, {"prompt_token_ids": tokenizer.encode("d e")}]
    assert (
        sampling
        == [
            {
                "n": 2,
                "max_tokens": 700,
                "temperature": 0.7,
                "top_p": 0.95,
                "seed": 5,
                "stop": ["\n\n\n"],
                "stop_token_ids": None,
            }
        ]
        * 2
    )
    assert use_tqdm is False
    assert [g.texts for g in first] == [("completion 0 \\boxed{-1}", "completion 1 \\boxed{-1}")] * 2
    assert [g.finish_reasons for g in first] == [("stop", "length")] * 2
    assert [g.prompt_tokens for g in first] == [len(tokenizer.encode("a b c")), len(tokenizer.encode("d e"))]
    assert [g.generated_tokens for g in first] == [2 + 3, 2 + 3]
    assert engine.info.engine == "vllm"


def test_judge_and_mc_prompts_are_rendered_with_vllms_tokenizer_as_exact_chatml(fake_vllm, tiny_models):
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm))
    records = processbench_records()
    template = judge.JudgeConfig().load_template()
    prompts = [judge.build_prompt(record_task(record), template) for record in records]
    prompts.append(mc.build_prompt(record_task(records[0]), 3))

    engine.generate(prompts, SamplingParams(n=1, max_tokens=8192, temperature=0.0, stop=mc.DEFAULT_MC_STOP))

    ((sent, sampling, _),) = fake_vllm.generate
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)
    expected = [chatml_judge(run_eval_user_message(record)) for record in records]
    expected.append(chatml_mc(records[0]["problem"], records[0]["steps"][:3]))
    assert decoded(tokenizer, sent) == expected
    assert [prompt["prompt_token_ids"] for prompt in sent] == [
        tokenizer.encode(text, add_special_tokens=False) for text in expected
    ]
    # budgets: 8192 capped by max_model_len 8192 minus each prompt; the ChatML stops are token ids
    assert [params["max_tokens"] for params in sampling] == [8192 - len(prompt["prompt_token_ids"]) for prompt in sent]
    ids = tokenizer.convert_tokens_to_ids
    assert sampling[0]["stop"] is None
    assert sampling[0]["stop_token_ids"] == [ids("<|im_end|>"), ids("<|endoftext|>"), ids("<|im_start|>")]
    assert QWEN_MATH_SYSTEM in expected[0]


def test_top_k_is_sent_only_when_set(fake_vllm, tiny_models):
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm))

    engine.generate(["x"], SamplingParams(n=8, max_tokens=64, temperature=0.7, top_p=0.8, top_k=20))
    engine.generate(["x"], SamplingParams(n=1, max_tokens=64))

    assert fake_vllm.generate[0][1][0]["top_k"] == 20
    assert "top_k" not in fake_vllm.generate[1][1][0]


def test_without_max_model_len_the_context_comes_from_vllms_model_config(fake_vllm, tiny_models):
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm, max_model_len=None))

    (generation,) = engine.generate(["x"], SamplingParams(n=1, max_tokens=8192))

    assert "max_model_len" not in fake_vllm.llm_kwargs[0]
    assert fake_vllm.generate[0][1][0]["max_tokens"] == FAKE_MAX_MODEL_LEN - 1 == generation.max_tokens


def test_a_batch_of_16_with_one_oversized_solution_fails_that_one_alone(fake_vllm, tiny_models):
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm, max_model_len=600))
    tasks = [SolutionTask(i, f"What is {i} + 1?", (f"{i} + 1 = {i + 1}.", "So it is."), "1") for i in range(16)]
    tasks[4] = SolutionTask(4, "What is " + " + ".join(["1234567"] * 150) + "?", ("It is big.",), "1")
    config = judge.JudgeConfig()

    results = judge.judge(tasks, engine, config)

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)
    oversized = tokenizer.encode(
        chatml_judge(judge.critique_text(tasks[4], config.load_template())), add_special_tokens=False
    )
    assert [r.status for r in results].count("succeeded") == 15
    assert (results[4].status, results[4].error) == (
        "failed",
        f"prompt is {len(oversized)} tokens; the model's context is 600 tokens",
    )
    assert len(fake_vllm.generate) == 1 and len(fake_vllm.generate[0][0]) == 15  # one call, never the long one


def test_vllms_own_validation_error_fails_only_the_rejected_prompt(monkeypatch, tiny_models):
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)
    bad = tokenizer.encode("reject me")
    calls = install(monkeypatch, reject=lambda ids: ids == bad)
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm))

    generations = engine.generate(["fine", "reject me", "also fine"], SamplingParams(n=1, max_tokens=8))

    assert not issubclass(VLLMValidationError, ValueError)
    assert [g.error for g in generations] == [
        "",
        "vLLM rejected the prompt: a request parameter is invalid (parameter=stop)",
        "",
    ]
    assert [len(prompts) for prompts, _, _ in calls.generate] == [3, 1, 1, 1]  # the batch, then one by one


def test_validation_errors_are_looked_up_lazily_in_vllm_exceptions(fake_vllm):
    assert validation_errors() == (VLLMValidationError, VLLMClientError, ValueError)


def test_prm_uses_the_pooling_runner_with_the_separator_as_step_tag(fake_vllm, tiny_models):
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier, gpu_memory_utilization=0.3))

    scores = engine.score_steps([StepScoringRequest("q one", ("s1", "s2")), StepScoringRequest("q two", ("t1",))])

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.token_classifier)
    ((kwargs,),) = [fake_vllm.llm_kwargs]
    assert kwargs.pop("pooler_config").step_tag_id == tokenizer.convert_tokens_to_ids(SEPARATOR)
    assert kwargs == {
        "model": str(tiny_models.token_classifier),
        "runner": "pooling",
        "seed": 3,
        "gpu_memory_utilization": 0.3,
        "max_model_len": 8192,
    }
    ((prompts, task, use_tqdm),) = fake_vllm.encode
    assert (task, use_tqdm) == ("token_classify", False)
    assert decoded(tokenizer, prompts) == [
        f"<|im_start|>system\n{QWEN_MATH_SYSTEM}<|im_end|>\n<|im_start|>user\nq one<|im_end|>\n"
        f"<|im_start|>assistant\ns1{SEPARATOR}s2{SEPARATOR}<|im_end|>\n",
        f"<|im_start|>system\n{QWEN_MATH_SYSTEM}<|im_end|>\n<|im_start|>user\nq two<|im_end|>\n"
        f"<|im_start|>assistant\nt1{SEPARATOR}<|im_end|>\n",
    ]
    assert [s.probabilities for s in scores] == [(0.75, 0.75), (0.75,)]
    assert scores[0].prompt_tokens == len(prompts[0]["prompt_token_ids"])


def test_a_non_default_separator_reaches_the_pooler_and_the_input(fake_vllm, tiny_models):
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier, separator=SHEPHERD_SEPARATOR))

    (scores,) = engine.score_steps([StepScoringRequest("q", ("a", "b", "c"), "text")])

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.token_classifier)
    assert fake_vllm.llm_kwargs[0]["pooler_config"].step_tag_id == tokenizer.convert_tokens_to_ids(SHEPHERD_SEPARATOR)
    assert decoded(tokenizer, fake_vllm.encode[0][0]) == [
        f"q\n\na{SHEPHERD_SEPARATOR}b{SHEPHERD_SEPARATOR}c{SHEPHERD_SEPARATOR}"
    ]
    assert scores.probabilities == (0.75, 0.75, 0.75)


def test_a_vllm_without_pooler_config_refuses_the_prm_at_start_up(monkeypatch, tiny_models):
    calls = install(monkeypatch, with_pooler_config=False)
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier))

    with pytest.raises(EngineError, match=r"the PRM separator '<extra_0>' \(token \d+\) cannot reach its STEP pooler"):
        engine.score_steps([StepScoringRequest("q", ("a",))])
    assert calls.llm_kwargs == []


def test_prm_rows_for_every_token_are_read_at_the_separators_and_logits_are_softmaxed(monkeypatch, tiny_models):
    # An ALL pooler without activation: one row of raw logits per token.
    install(monkeypatch, pooled_rows=lambda ids, tag: [[0.0, 2.0] if t == tag else [5.0, -5.0] for t in ids])
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier))

    (scores,) = engine.score_steps([StepScoringRequest("q", ("a", "b"))])

    assert scores.probabilities == pytest.approx((0.880797, 0.880797), abs=1e-6)


def test_prm_with_a_wrong_number_of_rows_fails_that_input_only(monkeypatch, tiny_models):
    install(monkeypatch, pooled_rows=lambda ids, tag: [[0.5, 0.5]])
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier))

    scores = engine.score_steps([StepScoringRequest("q", ("a", "b", "c")), StepScoringRequest("r", ("d",))])

    assert scores[0].error == "PRM input 0 has 1 separator tokens for 3 steps"
    assert (scores[1].error, scores[1].probabilities) == ("", (0.5,))


def test_an_oversized_prm_input_is_never_sent_and_fails_alone(fake_vllm, tiny_models):
    engine = VLLMStepScoringEngine(_settings(tiny_models.token_classifier, max_model_len=100))
    long_question = "What is " + " + ".join(["1234567"] * 40) + "?"

    scores = engine.score_steps([StepScoringRequest("q", ("a",)), StepScoringRequest(long_question, ("b",))])

    assert scores[0].probabilities == (0.75,)
    assert scores[1].error.startswith("prompt is ") and scores[1].error.endswith(
        " tokens; the model's context is 100 tokens"
    )
    assert len(fake_vllm.encode[0][0]) == 1


def test_missing_vllm_is_an_engine_error_naming_the_requirements_file(monkeypatch, tiny_models):
    monkeypatch.setitem(sys.modules, "vllm", None)
    engine = VLLMGenerationEngine(_settings(tiny_models.causal_lm))

    with pytest.raises(EngineError, match=r"install requirements/gpu\.txt"):
        engine.generate(["x"], SamplingParams())


def test_vllm_is_imported_only_inside_the_engine():
    import subprocess

    code = (
        "import sys, django, os; os.environ['DJANGO_SETTINGS_MODULE']='prmweb.settings.test'; django.setup();"
        "import scoring.engines.factory, scoring.engines.vllm_engine, scoring.services, scoring.tasks;"
        "print('vllm' in sys.modules, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]
