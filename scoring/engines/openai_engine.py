"""OpenAI-compatible HTTP engine (`POST {base_url}/completions`): a `vllm serve` judge or any such server.

One request carries a list of prompts with `n` samples each. Per the OpenAI and vLLM completions API, the
response holds len(prompts) * n choices and choice `index` i belongs to prompt i // n (prompt-major).
Timeouts are explicit; connection errors, timeouts, 429 and 5xx are retried with exponential backoff
(honouring Retry-After) and become TransientEngineError after the last try, so the Celery task retries
later; any other 4xx is an EngineError (bad model name, prompt too long) and is not retried.
"""

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from scoring.engines.base import EngineError, EngineInfo, Generation, SamplingParams, TransientEngineError
from scoring.engines.config import EngineSettings

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_SECONDS = 60.0
TRANSIENT_STATUS = frozenset({408, 425, 429})


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


class OpenAICompletionsEngine:
    """Generation over an OpenAI-compatible `/v1/completions` endpoint, with retries and token usage."""

    def __init__(
        self,
        config: EngineSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.config = config
        self.info = EngineInfo(engine="openai", model_name=config.model, extra={"base_url": config.base_url})
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._client = httpx.Client(
            base_url=config.base_url,
            headers=headers,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            transport=transport,
        )
        self._sleep = sleep

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def generate(self, prompts: Sequence[str], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt, sending at most `prompts_per_request` prompts per request."""
        results: list[Generation] = []
        size = max(1, self.config.prompts_per_request)
        for start in range(0, len(prompts), size):
            results.extend(self._complete(list(prompts[start : start + size]), params))
        return results

    def _payload(self, prompts: list[str], params: SamplingParams) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "model": self.config.model,
            "prompt": prompts,
            "n": params.n,
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
        }
        if params.seed is not None:
            payload["seed"] = params.seed
        if params.stop:
            payload["stop"] = list(params.stop)
        return payload

    def _complete(self, prompts: list[str], params: SamplingParams) -> list[Generation]:
        body = self._post_with_retries("/completions", self._payload(prompts, params))
        return self._parse(body, prompts, params.n)

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
                logger.warning("completions request failed (%s); retry %d in %.1fs", exc, attempt + 1, delay)
                self._sleep(min(delay, MAX_RETRY_AFTER_SECONDS))
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_once(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._client.post(path, json=payload)
        except httpx.TimeoutException as exc:
            raise TransientEngineError(f"timed out calling {self.config.base_url}{path}: {exc!r}") from exc
        except httpx.TransportError as exc:
            raise TransientEngineError(f"could not reach {self.config.base_url}{path}: {exc!r}") from exc
        if response.status_code in TRANSIENT_STATUS or response.status_code >= 500:
            raise _RetryAfter(
                f"HTTP {response.status_code} from {self.config.base_url}{path}: {response.text[:300]}",
                retry_after=_retry_after(response),
            )
        if response.status_code >= 400:
            raise EngineError(f"HTTP {response.status_code} from {self.config.base_url}{path}: {response.text[:500]}")
        try:
            body = response.json()
        except ValueError as exc:
            raise EngineError(f"{self.config.base_url}{path} returned invalid JSON: {response.text[:200]!r}") from exc
        if not isinstance(body, dict):
            raise EngineError(f"{self.config.base_url}{path} returned {type(body).__name__}, not a JSON object.")
        return body

    def _parse(self, body: dict[str, Any], prompts: list[str], n: int) -> list[Generation]:
        choices = body.get("choices")
        expected = len(prompts) * n
        if not isinstance(choices, list) or len(choices) != expected:
            count = len(choices) if isinstance(choices, list) else 0
            raise EngineError(f"Expected {expected} choices ({len(prompts)} prompts x n={n}), got {count}.")
        grouped: list[list[str]] = [[] for _ in prompts]
        for position, choice in enumerate(sorted(choices, key=lambda item: int(item.get("index", 0)))):
            index = int(choice.get("index", position))
            if index != position:
                raise EngineError(f"Choice indices are not 0..{expected - 1} (found {index} at {position}).")
            grouped[index // n].append(str(choice.get("text") or ""))
        usage = body.get("usage") or {}
        prompt_tokens = _allocate(int(usage.get("prompt_tokens") or 0), [len(prompt) for prompt in prompts])
        generated = _allocate(
            int(usage.get("completion_tokens") or 0), [sum(len(text) for text in texts) for texts in grouped]
        )
        return [
            Generation(texts=tuple(texts), prompt_tokens=prompt_count, generated_tokens=generated_count)
            for texts, prompt_count, generated_count in zip(grouped, prompt_tokens, generated, strict=True)
        ]


class _RetryAfter(TransientEngineError):
    """A retryable HTTP status, with the server's Retry-After in seconds when it sent one."""

    def __init__(self, message: str, *, retry_after: float | None):
        super().__init__(message)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
