"""Ask the judge engine to re-split responses into paragraphs with ProcessBench's reformat prompt (pure).

Not a suggestion method: this is the engine side of `segmentation: "reformat"` (docs/api.md). The prompt is
ProcessBench's `code/templates/reformat_template.txt`, copied verbatim to `scoring/prompts/` (see its
SOURCE.md): read and stripped as the project's other ProcessBench template, filled with
`str.format(problem=..., response=...)` (the response verbatim), and sent as ONE user message through the
model's chat template with the generation prompt added, as the judge's critique prompt is. All responses
of a batch go in one `generate` call, one greedy sample each. Whether a reply keeps the response's text
is decided by `annotations.segmentation.realign_paragraphs`, not here.
"""

import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from scoring.engines.base import (
    PROMPT_FORMATS,
    ChatMessage,
    ChatPrompt,
    EngineError,
    Generation,
    GenerationEngine,
    Prompt,
    PromptFormat,
    SamplingParams,
)
from scoring.methods.base import MethodConfigError

REFORMAT_TEMPLATE_PATH = Path(__file__).resolve().parent.parent / "prompts" / "processbench_reformat.txt"
PLACEHOLDERS = frozenset({"problem", "response"})
DEFAULT_MAX_TOKENS = 8192


@dataclass(frozen=True)
class ReformatRequest:
    """One response to re-split, with the problem it answers."""

    solution_id: int
    problem: str
    response: str


@dataclass(frozen=True)
class ReformatConfig:
    """How to ask: the token budget of the reply (capped by the engine at the context) and the prompt format."""

    max_tokens: int = DEFAULT_MAX_TOKENS
    prompt_format: PromptFormat = "chat"
    seed: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.max_tokens, bool) or not isinstance(self.max_tokens, int) or self.max_tokens < 1:
            raise MethodConfigError("max_tokens", f"must be a positive integer, not {self.max_tokens!r}")
        if self.prompt_format not in PROMPT_FORMATS:
            raise MethodConfigError("prompt_format", f"must be 'chat' or 'text', not {self.prompt_format!r}")

    def sampling(self) -> SamplingParams:
        """Return the sampling of the one greedy reply per response."""
        return SamplingParams(n=1, max_tokens=self.max_tokens, temperature=0.0, seed=self.seed)


@dataclass(frozen=True)
class ReformatReply:
    """The engine's reply for one response: the reformatted text, or why there is none (`error`)."""

    solution_id: int
    text: str | None
    error: str = ""
    prompt_tokens: int = 0
    generated_tokens: int = 0


@cache
def reformat_template() -> str:
    """Return ProcessBench's reformat template, stripped, after checking its fields are {problem} and {response}."""
    template = REFORMAT_TEMPLATE_PATH.read_text(encoding="utf-8").strip()
    fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    if fields != PLACEHOLDERS:
        raise MethodConfigError("template", f"fields must be {{problem}} and {{response}}, found {sorted(fields)}")
    return template


def reformat_prompt_text(problem: str, response: str) -> str:
    """Return the reformat prompt of one response: `template.format(problem=..., response=...)`."""
    return reformat_template().format(problem=problem, response=response)


def build_prompt(request: ReformatRequest, prompt_format: PromptFormat = "chat") -> Prompt:
    """Return the prompt: ONE user message with the generation prompt added (chat), or the bare text."""
    text = reformat_prompt_text(request.problem, request.response)
    if prompt_format == "text":
        return text
    return ChatPrompt((ChatMessage("user", text),), add_generation_prompt=True)


def _reply(request: ReformatRequest, generation: Generation, max_tokens: int) -> ReformatReply:
    if generation.error:
        return ReformatReply(request.solution_id, None, f"the judge could not take the prompt: {generation.error}")
    text, error = (generation.texts[0], "") if generation.texts else (None, "the judge returned no text")
    if generation.finish_reasons[:1] == ("length",):
        budget = generation.max_tokens or max_tokens
        text, error = (
            None,
            f"the reply was cut at the token budget ({budget} tokens); raise SCORING_REFORMAT_MAX_TOKENS",
        )
    return ReformatReply(request.solution_id, text, error, generation.prompt_tokens, generation.generated_tokens)


def reformat(
    requests: Sequence[ReformatRequest], engine: GenerationEngine, config: ReformatConfig
) -> list[ReformatReply]:
    """Return one reply per request, in order, from ONE batched generate call.

    A response whose prompt the engine cannot serve (longer than the context), or whose reply was cut at
    the token budget, gets no text and the reason; the others are unaffected.
    """
    if not requests:
        return []
    prompts = [build_prompt(request, config.prompt_format) for request in requests]
    generations = engine.generate(prompts, config.sampling())
    if len(generations) != len(prompts):
        raise EngineError(f"engine returned {len(generations)} generations for {len(prompts)} prompts")
    return [
        _reply(request, generation, config.max_tokens)
        for request, generation in zip(requests, generations, strict=True)
    ]
