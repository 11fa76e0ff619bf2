"""OpenAI-compatible HTTP engine: a `vllm serve` fleet or any compatible server, in chat or completions mode.

- `chat` (the default, `SCORING_<ROLE>_OPENAI_API=chat`): `POST {base_url}/chat/completions`, one
  conversation per request with `n` samples, requests sent concurrently (`SCORING_OPENAI_CONCURRENCY`).
  The server renders the conversation with the model's chat template. A judge prompt uses the server's
  defaults (a generation prompt added), so any chat-only endpoint can serve as judge; an MC prefix sends
  vLLM's extra parameters `add_generation_prompt: false, continue_final_message: true`.
- `completions`: `POST {base_url}/completions` with a list of plain-text prompts (base models); per the
  OpenAI and vLLM API the response holds len(prompts) * n choices and choice `index` i belongs to prompt
  i // n.

Before generating, each prompt is measured with vLLM's `POST /tokenize` (the same rendering flags;
answers `count` and `max_model_len`): a prompt that does not fit fails alone, naming its length and the
limit, and `max_tokens` is capped at the context it leaves (vLLM refuses prompt + max_tokens above it).
A server without `/tokenize` (404) is not measured; its own 400 for a prompt then fails that prompt only
(a rejected multi-prompt completions request is split until the bad prompt stands alone).
Timeouts are explicit; connection errors, timeouts, 408/425/429 and 5xx are retried with exponential
backoff (honouring Retry-After) and become TransientEngineError after the last try; 400/413/422 reject
one prompt; any other 4xx (bad model name, bad key) is an EngineError for the batch.
"""

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx

from scoring.engines.base import (
    ChatPrompt,
    EngineError,
    EngineInfo,
    Generation,
    Prompt,
    SamplingParams,
    TransientEngineError,
    too_long_message,
)
from scoring.engines.config import EngineSettings

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 60.0
TRANSIENT_STATUS = frozenset({408, 425, 429})
PROMPT_REJECTED_STATUS = frozenset({400, 413, 422})
NO_ENDPOINT_STATUS = frozenset({404, 405, 501})
_T = TypeVar("_T")
_R = TypeVar("_R")


def _allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split an integer total in proportion to weights (largest remainder), so the parts add up exactly."""
    if not weights:
        return []
    weight_sum = sum(weights)
    if weight_sum <= 0:
        weights, weight_sum = [1] * len(weights), len(weights)
    shares = [total * weight / weight_sum for weight in weights]
    parts = [int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda index: shares[index] - parts[index], reverse=True)
    for index in by_remainder[: total - sum(parts)]:
        parts[index] += 1
    return parts


class _RetryAfter(TransientEngineError):
    """A retryable HTTP status, with the server's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


class _Rejected(EngineError):
    """The server refused the prompt(s) of one request (400/413/422): a per-prompt failure."""

    def __init__(self, message: str, *, status: int):
        super().__init__(message)
        self.status = status


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
        message = body.get("error", {}).get("message") if isinstance(body.get("error"), dict) else body.get("message")
        return str(message or response.text)[:500]
    except (ValueError, AttributeError):
        return response.text[:500]


class OpenAIEngine:
    """Generation over an OpenAI-compatible server (chat or completions), with retries and token usage."""

    def __init__(
        self,
        config: EngineSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.info = EngineInfo(
            engine="openai", model_name=config.model, extra={"base_url": config.base_url, "api": config.api}
        )
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            base_url=config.base_url,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            transport=transport,
        )
        base = config.base_url.rstrip("/")
        self._tokenize_url = (base[: -len("/v1")] if base.endswith("/v1") else base) + "/tokenize"
        self._can_tokenize = True
        self._sleep = sleep

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt (or an error for a prompt the server cannot take)."""
        self._check_kinds(prompts)
        results: dict[int, Generation] = {}
        budgets: dict[int, int] = {}
        measured_all = [self._measure(prompts[0])] if prompts else []  # the first learns whether /tokenize exists
        measured_all += self._concurrently(self._measure, list(prompts[1:]))
        for index, measured in enumerate(measured_all):
            if isinstance(measured, Generation):
                results[index] = measured
            else:
                budgets[index] = params.max_tokens if measured is None else min(params.max_tokens, measured)
        if self.config.api == "chat":
            jobs = [(index, prompts[index], budget) for index, budget in budgets.items()]
            for (index, _, _), generation in zip(jobs, self._concurrently(self._chat_job(params), jobs), strict=True):
                results[index] = generation
        else:
            results.update(self._completions(prompts, budgets, params))
        return [results[index] for index in range(len(prompts))]

    def _check_kinds(self, prompts: Sequence[Prompt]) -> None:
        chat_mode = self.config.api == "chat"
        if any(isinstance(prompt, ChatPrompt) != chat_mode for prompt in prompts):
            kind = "plain-text" if chat_mode else "chat"
            raise EngineError(
                f"The openai engine in {self.config.api} mode cannot send {kind} prompts: set the role's "
                "SCORING_<ROLE>_OPENAI_API to 'chat' for chat prompts or 'completions' for plain text "
                "(and the method's prompt format to match)."
            )

    def _concurrently(self, function: Callable[[_T], _R], items: list[_T]) -> list[_R]:
        """Return [function(item) ...] in order, at most `concurrency` requests in flight."""
        workers = min(max(1, self.config.concurrency), len(items))
        if workers <= 1:
            return [function(item) for item in items]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="openai-engine") as pool:
            return list(pool.map(function, items))

    # Measuring -------------------------------------------------------------------------------------

    def _measure(self, prompt: Prompt) -> int | Generation | None:
        """Return the token budget the context leaves for this prompt, None when unknown, or its failure."""
        if not self._can_tokenize:
            return None
        body: dict[str, Any] = {"model": self.config.model}
        if isinstance(prompt, ChatPrompt):
            body.update(_chat_flags(prompt, always=True), messages=prompt.as_dicts())
        else:
            body["prompt"] = prompt
        try:
            answer = self._post_with_retries(self._tokenize_url, body)
        except _Rejected as rejected:
            if rejected.status in NO_ENDPOINT_STATUS:
                return None
            return Generation.failed(f"the server could not tokenize the prompt: {rejected}")
        count, context = int(answer.get("count") or 0), answer.get("max_model_len")
        if not context:
            return None
        if count >= int(context):
            return Generation.failed(too_long_message(count, int(context)), prompt_tokens=count)
        return int(context) - count

    # Chat mode --------------------------------------------------------------------------------------

    def _chat_job(self, params: SamplingParams) -> Callable[[tuple[int, Prompt, int]], Generation]:
        def run(job: tuple[int, Prompt, int]) -> Generation:
            _, prompt, budget = job
            if not isinstance(prompt, ChatPrompt):
                raise EngineError("chat mode sends chat prompts only; set the role's OPENAI_API to completions")
            payload = {
                **self._sampling(params, budget),
                "messages": prompt.as_dicts(),
                **_chat_flags(prompt, always=False),
            }
            try:
                body = self._post_with_retries("/chat/completions", payload)
            except _Rejected as rejected:
                return Generation.failed(f"the server rejected the prompt: {rejected}")
            return self._parse_chat(body, params.n, budget)

        return run

    def _parse_chat(self, body: dict[str, Any], n: int, budget: int) -> Generation:
        choices = body.get("choices")
        if not isinstance(choices, list) or len(choices) != n:
            count = len(choices) if isinstance(choices, list) else 0
            raise EngineError(f"Expected {n} choices (one conversation x n={n}), got {count}.")
        ordered = sorted(choices, key=lambda item: int(item.get("index", 0)))
        usage = body.get("usage") or {}
        return Generation(
            texts=tuple(str((choice.get("message") or {}).get("content") or "") for choice in ordered),
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            generated_tokens=int(usage.get("completion_tokens") or 0),
            finish_reasons=tuple(str(choice.get("finish_reason") or "stop") for choice in ordered),
            max_tokens=budget,
        )

    # Completions mode -------------------------------------------------------------------------------

    def _completions(
        self, prompts: Sequence[Prompt], budgets: dict[int, int], params: SamplingParams
    ) -> dict[int, Generation]:
        """Send the prompts of each budget in requests of at most `prompts_per_request` prompts."""
        results: dict[int, Generation] = {}
        size = max(1, self.config.prompts_per_request)
        for budget in sorted(set(budgets.values()), reverse=True):
            indices = [index for index, value in budgets.items() if value == budget]
            for start in range(0, len(indices), size):
                chunk = indices[start : start + size]
                generations = self._complete([str(prompts[index]) for index in chunk], params, budget)
                results.update(zip(chunk, generations, strict=True))
        return results

    def _complete(self, prompts: list[str], params: SamplingParams, budget: int) -> list[Generation]:
        """Return the generations of one request; a rejected request is split until the bad prompt is alone."""
        try:
            body = self._post_with_retries("/completions", {**self._sampling(params, budget), "prompt": prompts})
        except _Rejected as rejected:
            if len(prompts) == 1:
                return [Generation.failed(f"the server rejected the prompt: {rejected}")]
            half = len(prompts) // 2
            return self._complete(prompts[:half], params, budget) + self._complete(prompts[half:], params, budget)
        return self._parse_completions(body, prompts, params.n, budget)

    def _parse_completions(self, body: dict[str, Any], prompts: list[str], n: int, budget: int) -> list[Generation]:
        choices = body.get("choices")
        expected = len(prompts) * n
        if not isinstance(choices, list) or len(choices) != expected:
            count = len(choices) if isinstance(choices, list) else 0
            raise EngineError(f"Expected {expected} choices ({len(prompts)} prompts x n={n}), got {count}.")
        grouped: list[list[dict[str, Any]]] = [[] for _ in prompts]
        for position, choice in enumerate(sorted(choices, key=lambda item: int(item.get("index", 0)))):
            index = int(choice.get("index", position))
            if index != position:
                raise EngineError(f"Choice indices are not 0..{expected - 1} (found {index} at {position}).")
            grouped[index // n].append(choice)
        texts = [[str(choice.get("text") or "") for choice in group] for group in grouped]
        usage = body.get("usage") or {}
        prompt_tokens = _allocate(int(usage.get("prompt_tokens") or 0), [len(prompt) for prompt in prompts])
        generated = _allocate(int(usage.get("completion_tokens") or 0), [sum(map(len, group)) for group in texts])
        return [
            Generation(
                texts=tuple(group_texts),
                prompt_tokens=prompt_count,
                generated_tokens=generated_count,
                finish_reasons=tuple(str(choice.get("finish_reason") or "stop") for choice in group),
                max_tokens=budget,
            )
            for group, group_texts, prompt_count, generated_count in zip(
                grouped, texts, prompt_tokens, generated, strict=True
            )
        ]

    # HTTP -------------------------------------------------------------------------------------------

    def _sampling(self, params: SamplingParams, budget: int) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.config.model,
            "n": params.n,
            "max_tokens": budget,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.stop:
            payload["stop"] = list(params.stop)
        if params.top_k is not None:
            payload["top_k"] = params.top_k  # a vLLM extra parameter: sent only when configured
        return payload

    def _post_with_retries(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        attempts = self.config.max_retries + 1
        for attempt in range(attempts):
            try:
                return self._post_once(path, payload)
            except TransientEngineError as exc:
                if attempt == attempts - 1:
                    raise TransientEngineError(f"{exc} (gave up after {attempts} attempts)") from exc
                delay = exc.retry_after if isinstance(exc, _RetryAfter) else None
                delay = delay if delay is not None else self.config.retry_backoff_seconds * 2**attempt
                logger.warning("request to %s failed (%s); retry %d in %.1fs", path, exc, attempt + 1, delay)
                self._sleep(min(delay, MAX_RETRY_AFTER_SECONDS))
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_once(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        where = path if path.startswith("http") else f"{self.config.base_url}{path}"
        try:
            response = self._client.post(path, json=payload)
        except httpx.TimeoutException as exc:
            raise TransientEngineError(f"timed out calling {where}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientEngineError(f"could not reach {where}: {exc!r}") from exc
        status = response.status_code
        if path == self._tokenize_url and status in NO_ENDPOINT_STATUS:
            if self._can_tokenize:
                logger.warning("%s: HTTP %d, prompts are not measured before generation", where, status)
            self._can_tokenize = False
            raise _Rejected(f"HTTP {status}: no tokenize endpoint", status=status)
        if status in TRANSIENT_STATUS or status >= 500:
            raise _RetryAfter(f"HTTP {status} from {where}: {response.text[:300]}", retry_after=_retry_after(response))
        if status in PROMPT_REJECTED_STATUS:
            raise _Rejected(f"HTTP {status}: {_server_message(response)}", status=status)
        if status >= 400:
            raise EngineError(f"HTTP {status} from {where}: {response.text[:500]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise EngineError(f"{where} returned invalid JSON: {response.text[:200]!r}") from exc
        if not isinstance(body, dict):
            raise EngineError(f"{where} returned {type(body).__name__}, not a JSON object.")
        return body


def _chat_flags(prompt: ChatPrompt, *, always: bool) -> dict[str, bool]:
    """Return vLLM's rendering flags; only when they differ from the server defaults unless `always`."""
    if always or prompt.continue_final_message or not prompt.add_generation_prompt:
        return {
            "add_generation_prompt": prompt.add_generation_prompt,
            "continue_final_message": prompt.continue_final_message,
        }
    return {}
