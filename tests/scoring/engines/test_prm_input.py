"""The Qwen2.5-Math-PRM input: steps joined and ended by the separator, chat or an explicitly chosen text format."""

import pytest

from scoring.engines.base import ChatMessage, ChatPrompt, EngineError, StepScoringRequest
from scoring.engines.prm_input import format_prm_input, prm_token_ids
from tests.scoring.tiny_models import SEPARATOR, build_tokenizer


def test_prm_input_joins_and_ends_steps_with_the_separator():
    turns = format_prm_input("What is 1 + 1?", ["1 + 1 = 2.", "The answer is 2."])

    assert turns.system == "Please reason step by step, and put your final answer within \\boxed{}."
    assert turns.user == "What is 1 + 1?"
    assert turns.assistant == "1 + 1 = 2.<extra_0>The answer is 2.<extra_0>"
    assert turns.as_prompt() == ChatPrompt(
        (
            ChatMessage("system", turns.system),
            ChatMessage("user", "What is 1 + 1?"),
            ChatMessage("assistant", turns.assistant),
        ),
        add_generation_prompt=False,
    )


def test_a_separator_inside_the_question_or_a_step_is_removed_so_counts_match():
    turns = format_prm_input("q<extra_0>?", ["a<extra_0>b", "c"], separator="<extra_0>")

    assert turns.user == "q ?"
    assert turns.assistant == "ab<extra_0>c<extra_0>"


def test_chat_format_renders_the_qwen_template_and_text_format_is_plain():
    tokenizer = build_tokenizer(["What is 1 + 1?", "1 + 1 = 2."])
    chat_ids = prm_token_ids(StepScoringRequest("What is 1 + 1?", ("1 + 1 = 2.",)), SEPARATOR, tokenizer, "prm")
    text_ids = prm_token_ids(StepScoringRequest("What is 1 + 1?", ("1 + 1 = 2.",), "text"), SEPARATOR, tokenizer, "prm")

    assert tokenizer.decode(chat_ids) == (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
        f"<|im_start|>user\nWhat is 1 + 1?<|im_end|>\n<|im_start|>assistant\n1 + 1 = 2.{SEPARATOR}<|im_end|>\n"
    )
    assert tokenizer.decode(text_ids) == f"What is 1 + 1?\n\n1 + 1 = 2.{SEPARATOR}"


def test_a_prm_tokenizer_without_a_chat_template_refuses_the_chat_format():
    tokenizer = build_tokenizer(["plain"])
    tokenizer.chat_template = None

    with pytest.raises(EngineError, match=r"^Model 'prm' has no chat template"):
        prm_token_ids(StepScoringRequest("q", ("a",)), SEPARATOR, tokenizer, "prm")
    assert tokenizer.decode(prm_token_ids(StepScoringRequest("q", ("a",), "text"), SEPARATOR, tokenizer, "prm")) == (
        f"q\n\na{SEPARATOR}"
    )
