"""Build a Qwen2.5-Math-PRM style input and read per-step probabilities from per-token outputs.

Steps are joined and ended by the separator token (`<extra_0>`), so there is exactly one separator per
step; the PRM's probability of the positive class at each separator is that step's score. The `chat`
format (the default, as the Qwen2.5-Math-PRM model card does) wraps the turns in the tokenizer's chat
template: system prompt, the question as the user turn, the joined steps as the assistant turn. A
tokenizer without a chat template is a configuration error for it; the `text` format (question, blank
line, joined steps) must be chosen explicitly (`SCORING_PRM_PROMPT_FORMAT=text`).
"""

from collections.abc import Sequence
from typing import Any, NamedTuple

from scoring.engines.base import ChatMessage, ChatPrompt, EngineError, StepScoringRequest
from scoring.engines.chat import encode

QWEN_PRM_SYSTEM_PROMPT = "Please reason step by step, and put your final answer within \\boxed{}."
DEFAULT_SEPARATOR = "<extra_0>"


class PRMInput(NamedTuple):
    """The three chat turns of one PRM input."""

    system: str
    user: str
    assistant: str

    def as_prompt(self) -> ChatPrompt:
        """Return the turns as a complete conversation (no generation prompt: the PRM reads, it does not write)."""
        return ChatPrompt(
            (
                ChatMessage("system", self.system),
                ChatMessage("user", self.user),
                ChatMessage("assistant", self.assistant),
            ),
            add_generation_prompt=False,
        )


def format_prm_input(question: str, steps: Sequence[str], separator: str = DEFAULT_SEPARATOR) -> PRMInput:
    """Return the PRM chat turns: steps joined AND ended by the separator, one separator per step.

    A separator string inside the question or a step's own text is removed, so that the number of
    separators always equals the number of steps.
    """
    cleaned = [step.replace(separator, "") for step in steps]
    return PRMInput(QWEN_PRM_SYSTEM_PROMPT, question.replace(separator, " "), separator.join(cleaned) + separator)


def prm_token_ids(request: StepScoringRequest, separator: str, tokenizer: Any, model: str) -> list[int]:
    """Return the token ids of one request in its format (chat needs the tokenizer's chat template)."""
    turns = format_prm_input(request.question, request.steps, separator)
    if request.prompt_format == "text":
        return encode(tokenizer, f"{turns.user}\n\n{turns.assistant}", model)
    return encode(tokenizer, turns.as_prompt(), model)


def separator_token_id(tokenizer: Any, separator: str) -> int:
    """Return the id of the separator token; raise EngineError when the tokenizer lacks it."""
    token_id = tokenizer.convert_tokens_to_ids(separator)
    unk = getattr(tokenizer, "unk_token_id", None)
    if token_id is None or (unk is not None and token_id == unk and separator != getattr(tokenizer, "unk_token", None)):
        raise EngineError(f"The PRM tokenizer has no separator token {separator!r} (set SCORING_PRM_SEPARATOR).")
    return int(token_id)


def separator_count_error(found: int, request: StepScoringRequest, index: int) -> str:
    """Return the error for an input that did not hold exactly one separator per step, or ""."""
    if found == len(request.steps):
        return ""
    return f"PRM input {index} has {found} separator tokens for {len(request.steps)} steps"


def positions_of(token_ids: Sequence[int], token_id: int) -> list[int]:
    """Return the positions of one token id in a token sequence."""
    return [position for position, value in enumerate(token_ids) if value == token_id]
