"""Build a Qwen2.5-Math-PRM style input and read per-step probabilities from per-token outputs.

Steps are joined and ended by the separator token (`<extra_0>`), so there is exactly one separator per
step; the PRM's probability of the positive class at each separator is that step's score. When the
tokenizer has a chat template (real Qwen checkpoints do) the text is wrapped as the model card does:
system prompt, the question as the user turn, the joined steps as the assistant turn
(`scoring.methods.prm.format_prm_input` builds the turns: one format for every engine).
"""

from collections.abc import Sequence
from typing import Any

from scoring.engines.base import EngineError, StepScoringRequest
from scoring.methods.prm import format_prm_input


def prm_text(request: StepScoringRequest, separator: str, tokenizer: Any | None = None) -> str:
    """Return the text to tokenize for one request (chat-templated when the tokenizer has a template)."""
    turns = format_prm_input(request.question.replace(separator, " "), request.steps, separator)
    if tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return str(tokenizer.apply_chat_template(turns.as_messages(), tokenize=False, add_generation_prompt=False))
    return f"{turns.user}\n\n{turns.assistant}"


def separator_token_id(tokenizer: Any, separator: str) -> int:
    """Return the id of the separator token; raise EngineError when the tokenizer lacks it."""
    token_id = tokenizer.convert_tokens_to_ids(separator)
    unk = getattr(tokenizer, "unk_token_id", None)
    if token_id is None or (unk is not None and token_id == unk and separator != getattr(tokenizer, "unk_token", None)):
        raise EngineError(f"The PRM tokenizer has no separator token {separator!r} (set SCORING_PRM_SEPARATOR).")
    return int(token_id)


def check_separator_count(found: int, request: StepScoringRequest, index: int) -> None:
    """Raise EngineError unless the input held exactly one separator per step (e.g. after truncation)."""
    if found != len(request.steps):
        raise EngineError(
            f"PRM input {index} has {found} separator tokens for {len(request.steps)} steps; "
            "the input may exceed the model's context length."
        )


def positions_of(token_ids: Sequence[int], token_id: int) -> list[int]:
    """Return the positions of one token id in a token sequence."""
    return [position for position, value in enumerate(token_ids) if value == token_id]
