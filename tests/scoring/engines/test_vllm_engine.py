"""The vLLM engine against a fake `vllm` module (vLLM cannot be installed on this CPU-only machine).

The fake records every call so the tests pin the exact use of vLLM 0.33.0's documented offline API:
`LLM(...)` arguments, ONE `generate` per batch with a fully specified `SamplingParams`, and the pooling
runner with `encode(..., pooling_task="token_classify")` for PRMs. What the fake cannot show is that
vLLM itself behaves as documented on a GPU; README lists that as untested here.
"""

import sys
import types
from dataclasses import dataclass, field

import pytest

from scoring.engines.base import EngineError, SamplingParams, StepScoringRequest
from scoring.engines.config import EngineSettings
from scoring.engines.vllm_engine import VLLMGenerationEngine, VLLMStepScoringEngine
from tests.scoring.tiny_models import SEPARATOR


class FakeTensor:
    def __init__(self, rows):
        self.rows = rows

    def tolist(self):
        return self.rows


@dataclass
class FakeCompletion:
    text: str
    token_ids: list[int]


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


class FakeTokenizer:
    """Whitespace tokenizer: one id per word, the separator has id 99; no chat template."""

    chat_template = None
    unk_token_id = 0
    unk_token = "<unk>"

    def convert_tokens_to_ids(self, token):
        return 99 if token == SEPARATOR else 0

    def ids(self, text):
        return [99 if word == SEPARATOR else 5 for word in text.replace(SEPARATOR, f" {SEPARATOR} ").split()]


@dataclass
class Calls:
    llm_kwargs: list = field(default_factory=list)
    generate: list = field(default_factory=list)
    encode: list = field(default_factory=list)


def make_fake_vllm(pooled_rows=None):
    calls = Calls()
    tokenizer = FakeTokenizer()

    class SamplingParamsFake:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class LLM:
        def __init__(self, **kwargs):
            calls.llm_kwargs.append(kwargs)

        def get_tokenizer(self):
            return tokenizer

        def generate(self, prompts, sampling_params, use_tqdm=True):
            calls.generate.append((list(prompts), sampling_params.kwargs, use_tqdm))
            n = sampling_params.kwargs["n"]
            return [
                FakeRequestOutput(
                    prompt_token_ids=list(range(len(prompt.split()))),
                    outputs=[FakeCompletion(f"{prompt}|{k}", [1] * (k + 2)) for k in range(n)],
                )
                for prompt in prompts
            ]

        def encode(self, prompts, pooling_params=None, *, use_tqdm=True, pooling_task=None):
            calls.encode.append((list(prompts), pooling_task, use_tqdm))
            outputs = []
            for prompt in prompts:
                ids = tokenizer.ids(prompt)
                steps = ids.count(99)
                rows = pooled_rows(ids) if pooled_rows else [[0.25, 0.75]] * steps
                outputs.append(
                    FakePoolingRequestOutput(prompt_token_ids=ids, outputs=FakePoolingOutput(FakeTensor(rows)))
                )
            return outputs

    module = types.ModuleType("vllm")
    module.__version__ = "0.33.0"
    module.LLM = LLM
    module.SamplingParams = SamplingParamsFake
    return module, calls


@pytest.fixture
def fake_vllm(monkeypatch):
    module, calls = make_fake_vllm()
    monkeypatch.setitem(sys.modules, "vllm", module)
    return calls


def _settings(**overrides):
    values = {
        "kind": "vllm",
        "model": "/models/policy",
        "seed": 3,
        "gpu_memory_utilization": 0.7,
        "max_model_len": 8192,
    }
    return EngineSettings(**{**values, **overrides})


def test_generation_loads_once_with_prefix_caching_and_sends_one_generate_per_batch(fake_vllm):
    engine = VLLMGenerationEngine(_settings())
    params = SamplingParams(n=2, max_tokens=700, temperature=0.7, top_p=0.95, seed=5, stop=("\n\n\n",))

    first = engine.generate(["a b c", "d e"], params)
    engine.generate(["f"], params)

    assert fake_vllm.llm_kwargs == [
        {
            "model": "/models/policy",
            "enable_prefix_caching": True,
            "seed": 3,
            "gpu_memory_utilization": 0.7,
            "max_model_len": 8192,
        }
    ]
    assert len(fake_vllm.generate) == 2
    prompts, sampling, use_tqdm = fake_vllm.generate[0]
    assert prompts == ["a b c", "d e"]
    assert sampling == {"n": 2, "max_tokens": 700, "temperature": 0.7, "top_p": 0.95, "seed": 5, "stop": ["\n\n\n"]}
    assert use_tqdm is False
    assert [g.texts for g in first] == [("a b c|0", "a b c|1"), ("d e|0", "d e|1")]
    assert [g.prompt_tokens for g in first] == [3, 2]
    assert [g.generated_tokens for g in first] == [2 + 3, 2 + 3]
    assert engine.info.engine == "vllm"


def test_generation_without_max_model_len_or_stop_leaves_them_to_vllm(fake_vllm):
    engine = VLLMGenerationEngine(_settings(max_model_len=None))

    engine.generate(["x"], SamplingParams(n=1, max_tokens=64))

    assert "max_model_len" not in fake_vllm.llm_kwargs[0]
    assert fake_vllm.generate[0][1]["stop"] is None
    assert fake_vllm.generate[0][1]["max_tokens"] == 64


def test_prm_uses_the_pooling_runner_and_token_classify(fake_vllm):
    engine = VLLMStepScoringEngine(_settings(model="/models/prm", gpu_memory_utilization=0.3))

    scores = engine.score_steps([StepScoringRequest("q one", ("s1", "s2")), StepScoringRequest("q two", ("t1",))])

    assert fake_vllm.llm_kwargs == [
        {"model": "/models/prm", "runner": "pooling", "seed": 3, "gpu_memory_utilization": 0.3, "max_model_len": 8192}
    ]
    ((prompts, task, use_tqdm),) = fake_vllm.encode
    assert task == "token_classify"
    assert use_tqdm is False
    assert prompts == [f"q one\n\ns1{SEPARATOR}s2{SEPARATOR}", f"q two\n\nt1{SEPARATOR}"]
    assert [s.probabilities for s in scores] == [(0.75, 0.75), (0.75,)]
    assert scores[0].prompt_tokens == 6


def test_prm_rows_for_every_token_are_read_at_the_separators_and_logits_are_softmaxed(monkeypatch):
    # An ALL pooler without activation: one row of raw logits per token.
    module, _ = make_fake_vllm(pooled_rows=lambda ids: [[0.0, 2.0] if t == 99 else [5.0, -5.0] for t in ids])
    monkeypatch.setitem(sys.modules, "vllm", module)
    engine = VLLMStepScoringEngine(_settings())

    (scores,) = engine.score_steps([StepScoringRequest("q", ("a", "b"))])

    assert scores.probabilities == pytest.approx((0.880797, 0.880797), abs=1e-6)


def test_prm_with_a_wrong_number_of_rows_is_an_engine_error(monkeypatch):
    module, _ = make_fake_vllm(pooled_rows=lambda ids: [[0.5, 0.5]])
    monkeypatch.setitem(sys.modules, "vllm", module)
    engine = VLLMStepScoringEngine(_settings())

    with pytest.raises(EngineError, match="PRM input 0 has 1 separator tokens for 3 steps"):
        engine.score_steps([StepScoringRequest("q", ("a", "b", "c"))])


def test_missing_vllm_is_an_engine_error_naming_the_requirements_file(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    engine = VLLMGenerationEngine(_settings())

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
