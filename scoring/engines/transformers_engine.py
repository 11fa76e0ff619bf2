"""transformers engine: batched sampling and PRM step scoring on CPU or a small GPU (and in tests).

The model is loaded on first use and kept for the life of the worker process. Generation pads on the
left, samples `n` sequences per prompt in one `generate` call per batch, and counts prompt and generated
tokens. PRM scoring accepts two checkpoint layouts:

- a token classifier with two labels (`*ForTokenClassification`, e.g. `Qwen2ForTokenClassification`);
- a Qwen2.5-Math-PRM checkpoint (`Qwen2ForProcessRewardModel`: a Qwen2 backbone and a two-layer score
  head). It is loaded natively by the `Qwen2ForProcessRewardModel` class below, not through `trust_remote_code`,
  whose modeling file breaks on transformers >= 4.54.
"""

import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
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

PROCESS_REWARD_ARCHITECTURE = "Qwen2ForProcessRewardModel"


def _torch() -> Any:
    import torch  # model workers only: the web app and CPU workers never import torch

    return torch


def _require_model_stack() -> None:
    """Raise EngineError when torch or transformers is missing (the web image has neither)."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:
        raise EngineError(
            f"The transformers engine needs torch and transformers ({exc}); install requirements/models.txt."
        ) from exc


def _limit_threads(threads: int) -> None:
    """Cap torch's CPU threads (0 keeps torch's default); oversubscribed cores make CPU inference crawl."""
    if threads > 0:
        _torch().set_num_threads(threads)


def _device(requested: str) -> str:
    if requested != "auto":
        return requested
    return "cuda" if _torch().cuda.is_available() else "cpu"


def _dtype(requested: str) -> Any:
    if requested == "auto":
        return "auto"
    value = getattr(_torch(), requested, None)
    if value is None:
        raise EngineError(f"SCORING_DTYPE {requested!r} is not a torch dtype (e.g. float32, bfloat16, auto).")
    return value


def _check_model_dir(path: str) -> Path:
    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise EngineError(f"Model folder {path!r} has no config.json (models are loaded from local folders).")
    return folder


def _architectures(folder: Path) -> list[str]:
    return list(json.loads((folder / "config.json").read_text(encoding="utf-8")).get("architectures") or [])


def _load_tokenizer(path: str, padding_side: str) -> Any:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(path)
    tokenizer.padding_side = padding_side
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def _chunks(items: Sequence[Any], size: int) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), max(1, size))]


def _context(config: EngineSettings, model: Any) -> int | None:
    """Return the model's context: SCORING_VLLM_MAX_MODEL_LEN when set, else the checkpoint's positions."""
    return config.max_model_len or getattr(model.config, "max_position_embeddings", None)


class TransformersGenerationEngine:
    """Sample completions with `AutoModelForCausalLM.generate`; one call per batch of prompts.

    Chat prompts go through `tokenizer.apply_chat_template` (see `scoring.engines.chat`); every prompt is
    measured before generation, and one longer than the context fails alone. The token budget of a batch
    is the smallest that its prompts leave in the context (left padding shares one `max_new_tokens`).
    """

    def __init__(self, config: EngineSettings):
        self.config = config
        self.info = EngineInfo(engine="transformers", model_name=config.model, extra={"device": config.device})
        self._model: Any = None
        self._tokenizer: Any = None
        self._device = "cpu"
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the tokenizer and model once (thread-safe); later calls do nothing."""
        with self._lock:
            if self._model is not None:
                return
            _require_model_stack()
            from transformers import AutoModelForCausalLM

            _check_model_dir(self.config.model)
            _limit_threads(self.config.torch_threads)
            self._device = _device(self.config.device)
            logger.info("loading generation model %s on %s", self.config.model, self._device)
            try:
                self._tokenizer = _load_tokenizer(self.config.model, padding_side="left")
                model: Any = AutoModelForCausalLM.from_pretrained(self.config.model, dtype=_dtype(self.config.dtype))
            except (OSError, ValueError) as exc:
                raise EngineError(f"Could not load generation model {self.config.model!r}: {exc}") from exc
            self._model = model.to(self._device).eval()

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt, each with `params.n` texts and its token counts (or an error)."""
        if not prompts:
            return []
        self.load()
        torch = _torch()
        if params.seed is not None:
            torch.manual_seed(params.seed)
        token_ids = [chat.encode(self._tokenizer, prompt, self.config.model) for prompt in prompts]
        fitted, results = chat.fit(token_ids, params.max_tokens, _context(self.config, self._model))
        for batch in _chunks(fitted, self.config.batch_size):
            for item, generation in zip(batch, self._generate_batch(batch, params), strict=True):
                results[item.index] = generation
        return [results[index] for index in range(len(prompts))]

    def _sampling(self, params: SamplingParams, text_stops: list[str], stop_ids: list[int]) -> dict[str, Any]:
        eos = chat.end_of_sequence_ids(self._tokenizer, self._model.generation_config.eos_token_id)
        sampling: dict[str, Any] = {"do_sample": params.temperature > 0, "eos_token_id": sorted({*eos, *stop_ids})}
        if params.temperature > 0:
            # top_k 0 turns off transformers' hidden default of 50, as vLLM samples without top-k unless asked
            sampling.update(temperature=params.temperature, top_p=params.top_p, top_k=params.top_k or 0)
        if text_stops:
            sampling.update(stop_strings=text_stops, tokenizer=self._tokenizer)
        return sampling

    def _generate_batch(self, batch: Sequence[chat.FittedPrompt], params: SamplingParams) -> list[Generation]:
        torch = _torch()
        tokenizer = self._tokenizer
        text_stops, stop_ids = chat.split_stops(tokenizer, params.stop)
        budget = min(item.max_tokens for item in batch)
        encoded = tokenizer.pad({"input_ids": [item.token_ids for item in batch]}, return_tensors="pt")
        encoded = encoded.to(self._device)
        sampling = self._sampling(params, text_stops, stop_ids)
        with torch.inference_mode():
            output = self._model.generate(
                **encoded,
                max_new_tokens=budget,
                num_return_sequences=params.n,
                pad_token_id=tokenizer.pad_token_id,
                **sampling,
            )
        new_tokens = output[:, encoded["input_ids"].shape[1] :].tolist()
        end_ids = set(sampling["eos_token_id"])
        return [
            self._generation(item, new_tokens[index * params.n : (index + 1) * params.n], budget, end_ids, text_stops)
            for index, item in enumerate(batch)
        ]

    def _generation(
        self, item: chat.FittedPrompt, rows: Sequence[Sequence[int]], budget: int, end_ids: set[int], stops: list[str]
    ) -> Generation:
        texts: list[str] = []
        reasons: list[str] = []
        generated = 0
        for row in rows:
            length, ended = self._generated_length(row, end_ids)
            text, stopped = chat.truncate_at_stop(self._tokenizer.decode(row, skip_special_tokens=True), stops)
            texts.append(text)
            reasons.append("stop" if ended or stopped or length < budget else "length")
            generated += length
        return Generation(
            texts=tuple(texts),
            prompt_tokens=len(item.token_ids),
            generated_tokens=generated,
            finish_reasons=tuple(reasons),
            max_tokens=budget,
        )

    def _generated_length(self, row: Sequence[int], end_ids: set[int]) -> tuple[int, bool]:
        """Return the tokens up to and including the first end token (the rest is padding), and if one ended it."""
        for position, token in enumerate(row):
            if token in end_ids:
                return position + 1, True
        pad = self._tokenizer.pad_token_id
        return (sum(1 for token in row if token != pad) if pad not in end_ids else len(row)), False


def _process_reward_class() -> Any:
    """Return the native Qwen2.5-Math-PRM model class (defined lazily: transformers is imported late)."""
    from torch import nn
    from transformers.models.qwen2.modeling_qwen2 import Qwen2Model, Qwen2PreTrainedModel

    class Qwen2ForProcessRewardModel(Qwen2PreTrainedModel):
        """Qwen2 backbone plus the two-layer score head of Qwen2.5-Math-PRM (weights `model.*`, `score.*`)."""

        def __init__(self, config: Any):
            config.num_labels = 2
            super().__init__(config)
            self.num_labels = 2
            self.model = Qwen2Model(config)
            self.score = nn.Sequential(
                nn.Linear(config.hidden_size, config.hidden_size),
                nn.ReLU(),
                nn.Linear(config.hidden_size, self.num_labels),
            )
            self.post_init()

        def forward(self, input_ids: Any = None, attention_mask: Any = None, **kwargs: Any) -> Any:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).last_hidden_state
            return self.score(hidden)

    return Qwen2ForProcessRewardModel


class TransformersStepScoringEngine:
    """Score steps with a PRM: softmax of the two-label head, positive class, at each separator token."""

    def __init__(self, config: EngineSettings):
        self.config = config
        self.info = EngineInfo(engine="transformers", model_name=config.model, extra={"separator": config.separator})
        self._model: Any = None
        self._tokenizer: Any = None
        self._separator_id = -1
        self._device = "cpu"
        self.layout = ""
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the tokenizer and the PRM once, choosing the layout from config.json's architectures."""
        with self._lock:
            if self._model is not None:
                return
            _require_model_stack()
            folder = _check_model_dir(self.config.model)
            _limit_threads(self.config.torch_threads)
            self._device = _device(self.config.device)
            try:
                self._tokenizer = _load_tokenizer(self.config.model, padding_side="right")
                self._separator_id = separator_token_id(self._tokenizer, self.config.separator)
                model = self._load_model(folder)
            except (OSError, ValueError) as exc:
                raise EngineError(f"Could not load PRM {self.config.model!r}: {exc}") from exc
            self._model = model.to(self._device).eval()

    def _load_model(self, folder: Path) -> Any:
        dtype = _dtype(self.config.dtype)
        if PROCESS_REWARD_ARCHITECTURE in _architectures(folder):
            self.layout = "qwen2_process_reward"
            model_class = _process_reward_class()
        else:
            from transformers import AutoModelForTokenClassification

            self.layout = "token_classification"
            model_class = AutoModelForTokenClassification
        model, loading = model_class.from_pretrained(str(folder), dtype=dtype, output_loading_info=True)
        missing = sorted(key for key in loading.get("missing_keys", ()) if not key.startswith("lm_head"))
        if missing:
            raise EngineError(
                f"PRM {self.config.model!r} lacks weights for {', '.join(missing[:4])}: "
                "it is neither a two-label token classifier nor a Qwen2.5-Math-PRM checkpoint."
            )
        if model.config.num_labels != 2:
            raise EngineError(f"PRM {self.config.model!r} has {model.config.num_labels} labels; expected 2.")
        return model

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        """Return one StepScores per request, in order, with one probability per step (or an error).

        Each input is measured first: one longer than the context fails alone, naming its length.
        """
        if not requests:
            return []
        self.load()
        context = _context(self.config, self._model)
        results: dict[int, StepScores] = {}
        inputs: list[tuple[int, list[int]]] = []
        for index, request in enumerate(requests):
            ids = prm_token_ids(request, self.config.separator, self._tokenizer, self.config.model)
            if context is not None and len(ids) > context:
                results[index] = StepScores((), prompt_tokens=len(ids), error=too_long_message(len(ids), context))
            else:
                inputs.append((index, ids))
        for batch in _chunks(inputs, self.config.batch_size):
            for (index, _), scores in zip(batch, self._score_batch(batch, requests), strict=True):
                results[index] = scores
        return [results[index] for index in range(len(requests))]

    def _score_batch(
        self, batch: Sequence[tuple[int, list[int]]], requests: Sequence[StepScoringRequest]
    ) -> list[StepScores]:
        torch = _torch()
        encoded = self._tokenizer.pad({"input_ids": [ids for _, ids in batch]}, return_tensors="pt").to(self._device)
        with torch.inference_mode():
            output = self._model(input_ids=encoded["input_ids"], attention_mask=encoded["attention_mask"])
        logits = output if isinstance(output, torch.Tensor) else output.logits
        positive = torch.softmax(logits.float(), dim=-1)[..., 1].tolist()
        results = []
        for row, (index, ids) in enumerate(batch):
            positions = positions_of(ids, self._separator_id)
            error = separator_count_error(len(positions), requests[index], index)
            probabilities = () if error else tuple(float(positive[row][position]) for position in positions)
            results.append(StepScores(probabilities=probabilities, prompt_tokens=len(ids), error=error))
        return results
