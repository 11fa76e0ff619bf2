"""Render prompts through a tokenizer's chat template and fit them into the model's context.

Shared by the engines that hold a Hugging Face tokenizer (transformers, vLLM in-process). A `ChatPrompt`
is rendered as ProcessBench's `run_eval.py` and vLLM's `LLM.chat` render one:
`tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=...,
continue_final_message=...)`, then tokenized with `add_special_tokens=False` (the template already holds
the special tokens). Plain text is tokenized as the engines' text path always did (the tokenizer's own
special tokens added). A tokenizer without a chat template cannot render a chat prompt: that is a
configuration error, never a silent fall back to plain text.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from scoring.engines.base import ChatPrompt, EngineError, Generation, Prompt, too_long_message

NO_CHAT_TEMPLATE = (
    "Model {model!r} has no chat template, so chat prompts cannot be rendered. For a base model set the "
    "prompt format to text (SCORING_MC_PROMPT_FORMAT, SCORING_JUDGE_PROMPT_FORMAT or SCORING_PRM_PROMPT_FORMAT)."
)


def has_chat_template(tokenizer: Any) -> bool:
    """Return whether the tokenizer carries a chat template."""
    return bool(getattr(tokenizer, "chat_template", None))


def render(tokenizer: Any, prompt: Prompt, model: str) -> str:
    """Return the text the model reads: plain text as it is, a chat prompt through the chat template."""
    if isinstance(prompt, str):
        return prompt
    if not has_chat_template(tokenizer):
        raise EngineError(NO_CHAT_TEMPLATE.format(model=model))
    return str(
        tokenizer.apply_chat_template(
            prompt.as_dicts(),
            tokenize=False,
            add_generation_prompt=prompt.add_generation_prompt,
            continue_final_message=prompt.continue_final_message,
        )
    )


def encode(tokenizer: Any, prompt: Prompt, model: str) -> list[int]:
    """Return the prompt's token ids (chat: rendered, no extra special tokens; text: the tokenizer's default)."""
    text = render(tokenizer, prompt, model)
    return [int(token) for token in tokenizer.encode(text, add_special_tokens=not isinstance(prompt, ChatPrompt))]


@dataclass(frozen=True)
class FittedPrompt:
    """A prompt that fits the context: its position in the batch, token ids and generation budget."""

    index: int
    token_ids: list[int]
    max_tokens: int


def fit(
    token_ids: Sequence[list[int]], max_tokens: int, context: int | None
) -> tuple[list[FittedPrompt], dict[int, Generation]]:
    """Split prompts into those that fit `context` (budget: min(max_tokens, context - prompt)) and failures.

    A prompt of `context` tokens or more leaves no room for one generated token: it fails alone, with a
    message naming its length and the limit. `context` None (unknown) keeps every prompt and budget.
    """
    fitted: list[FittedPrompt] = []
    failed: dict[int, Generation] = {}
    for index, ids in enumerate(token_ids):
        if context is not None and len(ids) >= context:
            failed[index] = Generation.failed(too_long_message(len(ids), context), prompt_tokens=len(ids))
            continue
        budget = max_tokens if context is None else min(max_tokens, context - len(ids))
        fitted.append(FittedPrompt(index, ids, budget))
    return fitted, failed


def split_stops(tokenizer: Any, stops: Sequence[str]) -> tuple[list[str], list[int]]:
    """Return (text stops, stop token ids): a stop string that is one added/special token becomes its id.

    Engines decode without special tokens, so a stop string such as `<|im_end|>` would never be seen in
    the text; as a token id it ends the completion the moment it is sampled.
    """
    added = dict(tokenizer.get_added_vocab()) if hasattr(tokenizer, "get_added_vocab") else {}
    texts: list[str] = []
    token_ids: list[int] = []
    for stop in stops:
        if stop in added:
            token_ids.append(int(added[stop]))
        else:
            texts.append(stop)
    return texts, token_ids


def end_of_sequence_ids(tokenizer: Any, generation_eos: int | Sequence[int] | None) -> list[int]:
    """Return the model's end-of-sequence ids: its generation config's and the tokenizer's own."""
    ids: list[Any] = list(generation_eos) if isinstance(generation_eos, list | tuple) else [generation_eos]
    ids.append(getattr(tokenizer, "eos_token_id", None))
    return sorted({int(token) for token in ids if token is not None})


def truncate_at_stop(text: str, stops: Sequence[str]) -> tuple[str, bool]:
    """Return the text cut at its first stop string, and whether a stop string was found."""
    cut = min((index for index in (text.find(marker) for marker in stops if marker) if index >= 0), default=-1)
    return (text, False) if cut < 0 else (text[:cut], True)
