"""The one interface every inference engine implements; methods depend on this, never on an engine.

Engines know nothing of methods: they turn batches of prompts into sampled completions, and batches of
(question, steps) into per-step PRM probabilities. Results are small frozen dataclasses.

A prompt is either plain text (sent as it is: base models) or a `ChatPrompt`, an engine-neutral
conversation that every engine renders its own documented way through the model's chat template
(transformers and vLLM: the tokenizer's `apply_chat_template`; the HTTP engine: `/v1/chat/completions`).
A prompt that cannot be served (longer than the model's context) comes back as a `Generation` with an
`error`: one bad prompt never fails the others of its batch.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

ChatRole = Literal["system", "user", "assistant"]
PromptFormat = Literal["chat", "text"]
PROMPT_FORMATS: tuple[str, ...] = ("chat", "text")
CHAT_ROLES: tuple[str, ...] = ("system", "user", "assistant")


@dataclass(frozen=True)
class ChatMessage:
    """One turn of a conversation."""

    role: ChatRole
    content: str


@dataclass(frozen=True)
class ChatPrompt:
    """A conversation to render through the model's chat template (the same flags as transformers and vLLM).

    `add_generation_prompt` opens a new assistant turn after the messages (a judge's question);
    `continue_final_message` leaves the final assistant message open, with no end-of-turn after it, so
    the model continues it (an MC step prefix). The two cannot both be set.
    """

    messages: tuple[ChatMessage, ...]
    add_generation_prompt: bool = True
    continue_final_message: bool = False

    def __post_init__(self) -> None:
        if not self.messages:
            raise ValueError("a chat prompt needs at least one message")
        if any(message.role not in CHAT_ROLES for message in self.messages):
            raise ValueError(f"chat roles must be one of {', '.join(CHAT_ROLES)}")
        if self.add_generation_prompt and self.continue_final_message:
            raise ValueError("add_generation_prompt and continue_final_message cannot both be set")
        if self.continue_final_message and self.messages[-1].role != "assistant":
            raise ValueError("continue_final_message needs a final assistant message")

    def as_dicts(self) -> list[dict[str, str]]:
        """Return the messages as `{"role", "content"}` dicts (the OpenAI and Hugging Face form)."""
        return [{"role": message.role, "content": message.content} for message in self.messages]


Prompt = str | ChatPrompt


@dataclass(frozen=True)
class SamplingParams:
    """Sampling settings for one generate call (vLLM's default max_tokens is 16: always set it).

    `max_tokens` is a ceiling: engines lower it for a prompt to what the model's context leaves
    (context minus prompt tokens). `top_k` None leaves top-k sampling off. `stop` strings end a
    completion (the returned text excludes them); engines also stop at the tokenizer's end-of-sequence.
    """

    n: int = 1
    max_tokens: int = 1024
    temperature: float = 0.7
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    top_k: int | None = None


@dataclass(frozen=True)
class Generation:
    """The completions sampled for one prompt, with token counts for cost accounting.

    `finish_reasons` holds one entry per text: "stop" (end of sequence or a stop string) or "length"
    (cut at the token budget). `max_tokens` is the budget the engine used after capping it by the
    context. A prompt the engine could not serve has no texts and an `error` naming why.
    """

    texts: tuple[str, ...]
    prompt_tokens: int = 0
    generated_tokens: int = 0
    finish_reasons: tuple[str, ...] = ()
    max_tokens: int | None = None
    error: str = ""

    @classmethod
    def failed(cls, error: str, prompt_tokens: int = 0) -> "Generation":
        """Return the result of a prompt that was not generated (e.g. longer than the context)."""
        return cls(texts=(), prompt_tokens=prompt_tokens, error=error)


@dataclass(frozen=True)
class StepScoringRequest:
    """One solution to score with a PRM: the question, its ordered steps and the input format."""

    question: str
    steps: tuple[str, ...]
    prompt_format: PromptFormat = "chat"


@dataclass(frozen=True)
class StepScores:
    """Per-step probability that the step is correct (positive class), one per step; or an error."""

    probabilities: tuple[float, ...]
    prompt_tokens: int = 0
    error: str = ""


def too_long_message(prompt_tokens: int, context: int) -> str:
    """Return the error of a prompt that leaves no room in the model's context."""
    return f"prompt is {prompt_tokens} tokens; the model's context is {context} tokens"


@dataclass(frozen=True)
class EngineInfo:
    """What produced a suggestion: recorded with it."""

    engine: str
    model_name: str
    extra: dict[str, object] = field(default_factory=dict)


class EngineError(Exception):
    """An engine failed permanently (bad configuration, bad model): do not retry."""


class TransientEngineError(EngineError):
    """An engine failed in a way worth retrying (timeout, 429/503, connection reset)."""


@runtime_checkable
class GenerationEngine(Protocol):
    """Samples completions for a batch of prompts in one call."""

    info: EngineInfo

    def generate(self, prompts: Sequence[Prompt], params: SamplingParams) -> list[Generation]:
        """Return one Generation per prompt, in order, each with `params.n` texts (or an error)."""
        ...


@runtime_checkable
class StepScoringEngine(Protocol):
    """Scores every step of a batch of solutions with a process reward model in one call."""

    info: EngineInfo

    def score_steps(self, requests: Sequence[StepScoringRequest]) -> list[StepScores]:
        """Return one StepScores per request, in order, with one probability per step (or an error)."""
        ...
