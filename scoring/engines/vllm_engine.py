"""vLLM in-process engine for GPU workers, written to vLLM 0.33.0's documented offline API.

`vllm` is imported here only, inside `load()`, so nothing else (web app, CPU workers, tests) needs it.
Generation: `LLM(model=..., enable_prefix_caching=True, seed=..., gpu_memory_utilization=...,
max_model_len=...)` and ONE `llm.generate(prompts, SamplingParams(n, max_tokens, temperature, top_p,
seed, stop))` call per batch (vLLM's own default max_tokens is 16: it is always set here).
PRM scoring uses the pooling runner: `LLM(model=..., runner="pooling")` and
`llm.encode(prompts, pooling_task="token_classify")`, the documented offline API for process reward
models (`Qwen2ForProcessRewardModel` is native in vLLM; its STEP pooler returns one row per `<extra_0>`).
GPU workers must run with `-P solo` and `VLLM_WORKER_MULTIPROC_METHOD=spawn` (CUDA cannot live in forks).
"""

import logging
import math
import threading
from collections.abc import Sequence
from typing import Any

from scoring.engines.base import (
    EngineError,
    EngineInfo,
    Generation,
    SamplingParams,
    StepScores,
    StepScoringRequest,
)
from scoring.engines.config import EngineSettings
from scoring.engines.prm_input import check_separator_count, positions_of, prm_text, separator_token_id

logger = logging.getLogger(__name__)

VLLM_VERSION = "0.33.0"
PRM_POOLING_TASK = "token_classify"


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError as exc:  # the GPU image installs requirements/gpu.txt; nothing else has vLLM
        raise EngineError("vLLM is not installed in this worker (install requirements/gpu.txt).") from exc
    installed = getattr(vllm, "__version__", "")
    if installed and installed != VLLM_VERSION:
        logger.warning("vLLM %s is installed; this engine is written for %s", installed, VLLM_VERSION)
    return vllm


def _engine_kwargs(config: EngineSettings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "seed": config.seed,
        "gpu_memory_utilization": config.gpu_memory_utilization,
    }
    if config.max_model_len:
        kwargs["max_model_len"] = config.max_model_len
    return kwargs


class VLLMGenerationEngine:
    """Sample completions with an in-process `vllm.LLM`, loaded once per worker process."""

    def __init__(self, config: EngineSettings):
        self.config = config
        self.info = EngineInfo(engine="vllm", model_name=config.model, extra={"vllm": VLLM_VERSION})
        self._vllm: Any = None
        self._llm: Any = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Create the `vllm.LLM` once, with prefix caching on (MC rollouts share long prefixes)."""
        with self._lock:
            if self._llm is not None:
                return
            vllm = _import_vllm()
            logger.info("loading vLLM generation model %s", self.config.model)
            try:
                self._llm = vllm.LLM(enable_prefix_caching=True, **_engine_kwargs(self.config))
            except (OSError, ValueError) as exc:
                raise EngineError(f"vLLM could not load {self.config.model!r}: {exc}") from exc
            self._vllm = vllm

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt from a single `llm.generate` call for the whole batch."""
        if not prompts:
            return []
        self.load()
        sampling = self._vllm.SamplingParams(
            n=params.n,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop=list(params.stop) or None,
        )
        try:
            outputs = self._llm.generate(list(prompts), sampling, use_tqdm=False)
        except ValueError as exc:  # vLLM rejects e.g. prompts longer than max_model_len with ValueError
            raise EngineError(f"vLLM rejected the batch: {exc}") from exc
        if len(outputs) != len(prompts):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(prompts)} prompts.")
        return [_generation(output) for output in outputs]


def _generation(output: Any) -> Generation:
    completions = list(output.outputs)
    return Generation(
        texts=tuple(completion.text for completion in completions),
        prompt_tokens=len(output.prompt_token_ids or ()),
        generated_tokens=sum(len(completion.token_ids) for completion in completions),
    )


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
        self._lock = threading.Lock()

    def load(self) -> None:
        """Create the pooling `vllm.LLM` once and look up the separator token."""
        with self._lock:
            if self._llm is not None:
                return
            vllm = _import_vllm()
            logger.info("loading vLLM PRM %s (pooling runner)", self.config.model)
            try:
                llm = vllm.LLM(runner="pooling", **_engine_kwargs(self.config))
            except (OSError, ValueError) as exc:
                raise EngineError(f"vLLM could not load PRM {self.config.model!r}: {exc}") from exc
            self._tokenizer = llm.get_tokenizer()
            self._separator_id = separator_token_id(self._tokenizer, self.config.separator)
            self._llm = llm

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        """Return one StepScores per request from a single `llm.encode` call for the whole batch."""
        if not requests:
            return []
        self.load()
        prompts = [prm_text(request, self.config.separator, self._tokenizer) for request in requests]
        try:
            outputs = self._llm.encode(prompts, pooling_task=PRM_POOLING_TASK, use_tqdm=False)
        except ValueError as exc:
            raise EngineError(f"vLLM rejected the PRM batch: {exc}") from exc
        if len(outputs) != len(requests):
            raise EngineError(f"vLLM returned {len(outputs)} outputs for {len(requests)} PRM inputs.")
        return [
            self._step_scores(output, request, index)
            for index, (output, request) in enumerate(zip(outputs, requests, strict=True))
        ]

    def _step_scores(self, output: Any, request: StepScoringRequest, index: int) -> StepScores:
        rows = _rows(output.outputs.data)
        token_ids = list(output.prompt_token_ids or ())
        if len(rows) != len(request.steps) and len(rows) == len(token_ids) > 0:
            # An ALL pooler (one row per token): keep the rows at the separator positions.
            positions = positions_of(token_ids, self._separator_id)
            check_separator_count(len(positions), request, index)
            rows = [rows[position] for position in positions]
        check_separator_count(len(rows), request, index)
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
