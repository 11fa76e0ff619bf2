"""vLLM in-process engine for GPU workers, written to vLLM 0.33.0's documented offline API.

`vllm` is imported here only, inside `load()`, so nothing else (web app, CPU workers, tests) needs it.
Generation: `LLM(model=..., enable_prefix_caching=True, seed=..., gpu_memory_utilization=...,
max_model_len=...)` and ONE `llm.generate(prompts, [SamplingParams(...) per prompt])` call per batch
(vLLM's own default max_tokens is 16: it is always set here). Prompts are rendered with the tokenizer vLLM
loaded (`llm.get_tokenizer()`): a chat prompt through `apply_chat_template(..., tokenize=False,
add_generation_prompt=..., continue_final_message=...)` and tokenized without extra special tokens,
exactly as ProcessBench's `run_eval.py` and `LLM.chat` do, then sent as `{"prompt_token_ids": [...]}`.
Every prompt is measured against `max_model_len` first: one that does not fit fails alone, and each
budget is capped at the context left. vLLM 0.33 rejects a bad request with its own `VLLMValidationError`
(a `VLLMClientError`, no longer a `ValueError`); those classes are looked up lazily in
`vllm.exceptions`, and a rejected batch is retried prompt by prompt so that only the bad prompt fails.
PRM scoring uses the pooling runner: `LLM(model=..., runner="pooling", pooler_config=PoolerConfig(
step_tag_id=<separator id>))` and `llm.encode(prompts, pooling_task="token_classify")`, the documented
offline API for process reward models (`Qwen2ForProcessRewardModel` is native in vLLM; its STEP pooler
returns one row per step tag, 151651 = `<extra_0>` unless `step_tag_id` says otherwise).
GPU workers must run with `-P solo` and `VLLM_WORKER_MULTIPROC_METHOD=spawn` (CUDA cannot live in forks).
"""

import importlib
import logging
import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from scoring.engines import chat
from scoring.engines.base import (
    EngineError,
    EngineInfo,
    Generation,
    Prompt,
    SamplingParams,
    StepScores,
    StepScoringRequest,
    too_long_message,
)
from scoring.engines.config import EngineSettings
from scoring.engines.prm_input import positions_of, prm_token_ids, separator_count_error, separator_token_id

logger = logging.getLogger(__name__)

VLLM_VERSION = "0.33.0"
PRM_POOLING_TASK = "token_classify"
VALIDATION_ERROR_NAMES = ("VLLMValidationError", "VLLMClientError")


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:  # the GPU image installs requirements/gpu.txt; nothing else has vLLM
        raise EngineError("vLLM is not installed in this worker (install requirements/gpu.txt).") from exc
    installed = getattr(vllm, "__version__", "")
    if installed and installed != VLLM_VERSION:
        logger.warning("vLLM %s is installed; this engine is written for %s", installed, VLLM_VERSION)
    return vllm


def validation_errors() -> tuple[type[BaseException], ...]:
    """Return vLLM's request-validation exception classes (looked up lazily), plus ValueError for older ones."""
    try:
        module = importlib.import_module("vllm.exceptions")
    except ImportError:
        return (ValueError,)
    found = [getattr(module, name, None) for name in VALIDATION_ERROR_NAMES]
    return (*(cls for cls in found if isinstance(cls, type) and issubclass(cls, BaseException)), ValueError)


def _engine_kwargs(config: EngineSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "seed": config.seed,
        "gpu_memory_utilization": config.gpu_memory_utilization,
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    return kwargs


def _context(llm: Any, config: EngineSettings) -> int | None:
    """Return the context vLLM runs with: `llm.model_config.max_model_len` (what `max_model_len` resolved to)."""
    model_config = getattr(llm, "model_config", None) or getattr(getattr(llm, "llm_engine", None), "model_config", None)
    return getattr(model_config, "max_model_len", None) or config.max_model_len


def run_isolated(call: Callable[[list[Any], list[Any]], list[Any]], inputs: list[Any], params: list[Any]) -> list[Any]:
    """Return `call(inputs, params)`; when vLLM rejects the batch, run each input alone so only bad ones fail.

    A failed input's place holds the exception's message (a str) instead of an output.
    """
    errors = validation_errors()
    try:
        return list(call(inputs, params))
    except errors as exc:
        if len(inputs) == 1:
            return [f"vLLM rejected the prompt: {exc}"]
        logger.warning("vLLM rejected a batch of %d prompts (%s); retrying them one by one", len(inputs), exc)
    return [run_isolated(call, [item], [param])[0] for item, param in zip(inputs, params, strict=True)]


class VLLMGenerationEngine:
    """Sample completions with an in-process `vllm.LLM`, loaded once per worker process."""

    def __init__(self, config: EngineSettings):
        self.config = config
        self.info = EngineInfo(engine="vllm", model_name=config.model, extra={"vllm": VLLM_VERSION})
        self._vllm: Any = None
        self._llm: Any = None
        self._tokenizer: Any = None
        self._context: int | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Create the `vllm.LLM` once, with prefix caching on (MC rollouts share long prefixes)."""
        with self._lock:
            if self._llm is not None:
                return
            vllm = _import_vllm()
            logger.info("loading vLLM generation model %s", self.config.model)
            try:
                llm = vllm.LLM(enable_prefix_caching=True, **_engine_kwargs(self.config))
            except (OSError, ValueError) as exc:
                raise EngineError(f"vLLM could not load {self.config.model!r}: {exc}") from exc
            self._tokenizer = llm.get_tokenizer()
            self._context = _context(llm, self.config)
            self._vllm, self._llm = vllm, llm

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt from a single `llm.generate` call for the whole batch."""
        if not prompts:
            return []
        self.load()
        token_ids = [chat.encode(self._tokenizer, prompt, self.config.model) for prompt in prompts]
        fitted, results = chat.fit(token_ids, params.max_tokens, self._context)
        text_stops, stop_ids = chat.split_stops(self._tokenizer, params.stop)
        inputs = [{"prompt_token_ids": item.token_ids} for item in fitted]
        sampling = [self._sampling(params, item.max_tokens, text_stops, stop_ids) for item in fitted]
        outputs = run_isolated(self._generate, inputs, sampling) if inputs else []
        if len(outputs) != len(inputs):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(inputs)} prompts.")
        for item, output in zip(fitted, outputs, strict=True):
            results[item.index] = (
                Generation.failed(output, len(item.token_ids)) if isinstance(output, str) else _generation(output, item)
            )
        return [results[index] for index in range(len(prompts))]

    def _generate(self, inputs: list[Any], sampling: list[Any]) -> list[Any]:
        return list(self._llm.generate(inputs, sampling, use_tqdm=False))

    def _sampling(self, params: SamplingParams, budget: int, text_stops: list[str], stop_ids: list[int]) -> Any:
        kwargs: dict[str, Any] = {
            "n": params.n,
            "max_tokens": budget,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "seed": params.seed,
            "stop": text_stops or None,
            "stop_token_ids": stop_ids or None,
        }
        if params.top_k is not None:
            kwargs["top_k"] = params.top_k
        return self._vllm.SamplingParams(**kwargs)


def _generation(output: Any, item: chat.FittedPrompt) -> Generation:
    completions = list(output.outputs)
    return Generation(
        texts=tuple(completion.text for completion in completions),
        prompt_tokens=len(output.prompt_token_ids or item.token_ids),
        generated_tokens=sum(len(completion.token_ids) for completion in completions),
        finish_reasons=tuple(str(completion.finish_reason or "stop") for completion in completions),
        max_tokens=item.max_tokens,
    )


def _pooler_config(separator: str, separator_id: int) -> Any:
    """Return `vllm.config.PoolerConfig(step_tag_id=...)`, or refuse when this vLLM cannot take the separator."""
    try:
        from vllm.config import PoolerConfig

        return PoolerConfig(step_tag_id=separator_id)
    except (ImportError, TypeError) as exc:
        raise EngineError(
            f"This vLLM has no PoolerConfig(step_tag_id=...) ({exc}), so the PRM separator {separator!r} "
            f"(token {separator_id}) cannot reach its STEP pooler; install vLLM {VLLM_VERSION}."
        ) from exc


def _hf_tokenizer(model: str) -> Any:
    try:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(model)
    except (ImportError, OSError, ValueError) as exc:
        raise EngineError(f"Could not load the PRM tokenizer of {model!r}: {exc}") from exc


class VLLMStepScoringEngine:
    """Score steps with a PRM through vLLM's pooling runner (`LLM.encode`, pooling task token_classify)."""

    def __init__(self, config: EngineSettings):
        self.config = config
        self.info = EngineInfo(
            engine="vllm", model_name=config.model, extra={"vllm": VLLM_VERSION, "pooling_task": PRM_POOLING_TASK}
        )
        self._llm: Any = None
        self._tokenizer: Any = None
        self._separator_id = -1
        self._context: int | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Look up the separator token, then create the pooling `vllm.LLM` with it as the step tag, once."""
        with self._lock:
            if self._llm is not None:
                return
            vllm = _import_vllm()
            tokenizer = _hf_tokenizer(self.config.model)
            separator_id = separator_token_id(tokenizer, self.config.separator)
            pooler_config = _pooler_config(self.config.separator, separator_id)
            logger.info("loading vLLM PRM %s (pooling runner, step tag %d)", self.config.model, separator_id)
            try:
                llm = vllm.LLM(runner="pooling", pooler_config=pooler_config, **_engine_kwargs(self.config))
            except (OSError, ValueError) as exc:
                raise EngineError(f"vLLM could not load PRM {self.config.model!r}: {exc}") from exc
            self._tokenizer, self._separator_id = tokenizer, separator_id
            self._context = _context(llm, self.config)
            self._llm = llm

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        """Return one StepScores per request from a single `llm.encode` call for the whole batch."""
        if not requests:
            return []
        self.load()
        results: dict[int, StepScores] = {}
        inputs: list[tuple[int, list[int]]] = []
        for index, request in enumerate(requests):
            ids = prm_token_ids(request, self.config.separator, self._tokenizer, self.config.model)
            if self._context is not None and len(ids) > self._context:
                results[index] = StepScores((), prompt_tokens=len(ids), error=too_long_message(len(ids), self._context))
            else:
                inputs.append((index, ids))
        prompts = [{"prompt_token_ids": ids} for _, ids in inputs]
        outputs = run_isolated(self._encode, prompts, [None] * len(prompts)) if prompts else []
        if len(outputs) != len(inputs):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(inputs)} PRM inputs.")
        for (index, ids), output in zip(inputs, outputs, strict=True):
            results[index] = (
                StepScores((), prompt_tokens=len(ids), error=output)
                if isinstance(output, str)
                else self._step_scores(output, requests[index], index, ids)
            )
        return [results[index] for index in range(len(requests))]

    def _encode(self, prompts: list[Any], _: list[Any]) -> list[Any]:
        return list(self._llm.encode(prompts, pooling_task=PRM_POOLING_TASK, use_tqdm=False))

    def _step_scores(self, output: Any, request: StepScoringRequest, index: int, ids: list[int]) -> StepScores:
        rows = _rows(output.outputs.data)
        token_ids = list(output.prompt_token_ids or ids)
        if len(rows) != len(request.steps) and len(rows) == len(token_ids) > 0:
            # An ALL pooler (one row per token): keep the rows at the separator positions.
            rows = [rows[position] for position in positions_of(token_ids, self._separator_id)]
        error = separator_count_error(len(rows), request, index)
        if error:
            return StepScores((), prompt_tokens=len(token_ids), error=error)
        return StepScores(probabilities=tuple(_positive(row) for row in rows), prompt_tokens=len(token_ids))


def _rows(data: Any) -> list[list[float]]:
    """Return pooled output as a list of rows (a tensor [steps, 2], nested lists, or a flat row)."""
    values = data.tolist() if hasattr(data, "tolist") else data
    if values and not isinstance(values[0], list | tuple):
        values = [values]
    return [[float(value) for value in row] for row in values]


def _positive(row: list[float]) -> float:
    """Return the positive-class probability of one two-label row (softmax first if it holds logits)."""
    if len(row) != 2:
        raise EngineError(f"PRM rows must have 2 labels, got {len(row)}: is this a process reward model?")
    if all(0.0 <= value <= 1.0 for value in row) and abs(sum(row) - 1.0) < 1e-3:
        return row[1]
    top = max(row)
    exps = [math.exp(value - top) for value in row]
    return exps[1] / sum(exps)
