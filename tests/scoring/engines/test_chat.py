"""Prompts as the models expect them: ProcessBench's critique template, and Qwen2.5's ChatML through its template.

The tokenizer here carries the real Qwen2.5-Math chat template (tests/fixtures/qwen25_math); the expected
strings are literal ChatML (tests/scoring/chat_fixtures.py), and the judge's user message is compared with
run_eval.py's own construction on real ProcessBench records.
"""

import pytest

from scoring.engines import chat
from scoring.engines.base import ChatMessage, ChatPrompt, EngineError, Generation
from scoring.methods import judge, mc
from scoring.methods.base import SolutionTask
from tests.scoring.chat_fixtures import (
    OFFICIAL_CRITIQUE_TEMPLATE,
    chatml_judge,
    chatml_mc,
    processbench_records,
    run_eval_user_message,
)
from tests.scoring.tiny_models import build_tokenizer


@pytest.fixture(scope="module")
def qwen_tokenizer():
    records = processbench_records()
    return build_tokenizer([record["problem"] for record in records] + [s for r in records for s in r["steps"]])


def task_of(record) -> SolutionTask:
    return SolutionTask(1, record["problem"], tuple(record["steps"]), "x")


def test_our_critique_template_is_the_official_file_byte_for_byte():
    assert judge.DEFAULT_TEMPLATE_PATH.read_bytes() == OFFICIAL_CRITIQUE_TEMPLATE.encode("utf-8")


@pytest.mark.parametrize("record", processbench_records(), ids=lambda record: record["id"])
def test_judge_user_message_is_run_eval_formatting_of_the_official_template(record):
    prompt = judge.build_prompt(task_of(record), judge.JudgeConfig().load_template())

    assert isinstance(prompt, ChatPrompt)
    assert prompt.as_dicts() == [{"role": "user", "content": run_eval_user_message(record)}]
    assert prompt.add_generation_prompt is True and prompt.continue_final_message is False


@pytest.mark.parametrize("record", processbench_records(), ids=lambda record: record["id"])
def test_judge_prompt_renders_as_chatml_with_the_generation_prompt(qwen_tokenizer, record):
    prompt = judge.build_prompt(task_of(record), judge.JudgeConfig().load_template())

    assert chat.render(qwen_tokenizer, prompt, "qwen") == chatml_judge(run_eval_user_message(record))


def test_gsm8k_0_judge_prompt_spelled_out():
    record = processbench_records()[0]
    rendered_user = run_eval_user_message(record)

    assert rendered_user.startswith(
        "The following is a math problem and a solution (split into paragraphs, enclosed with tags and indexed "
        "from 0):\n\n[Math Problem]\n\nSue lives in a fun neighborhood.  One weekend, the neighbors decided"
    )
    assert "\n\n[Solution]\n\n<paragraph_0>\nTo find out how many more pink plastic flamingos" in rendered_user
    assert rendered_user.endswith(
        "</paragraph_3>\n\nYour task is to review and critique the solution paragraph by paragraph. Once you "
        "identify an error in a paragraph, return the index of the paragraph where the earliest error occurs. "
        'Otherwise, return the index of -1 (which typically denotes "not found").\n\nPlease put your final '
        "answer (i.e., the index) in \\boxed{}."
    )


@pytest.mark.parametrize("prefix", [1, 2, 5])
def test_mc_prompt_renders_as_an_open_assistant_turn(qwen_tokenizer, prefix):
    record = processbench_records()[1]  # math-2: LaTeX, backslashes and newlines inside steps

    rendered = chat.render(qwen_tokenizer, mc.build_prompt(task_of(record), prefix), "qwen")

    assert rendered == chatml_mc(record["problem"], record["steps"][:prefix])
    assert not rendered.endswith("<|im_end|>\n")


def test_mc_prompt_with_a_custom_system_prompt(qwen_tokenizer):
    record = processbench_records()[0]
    config = mc.MCConfig(system_prompt="Box the final answer.")

    rendered = chat.render(qwen_tokenizer, mc.build_prompt(task_of(record), 1, config), "qwen")

    assert rendered == chatml_mc(record["problem"], record["steps"][:1], system="Box the final answer.")


def test_plain_text_is_tokenized_as_it_is(qwen_tokenizer):
    text = mc.build_prompt(task_of(processbench_records()[0]), 1, mc.MCConfig(prompt_format="text"))

    assert isinstance(text, str)
    assert chat.render(qwen_tokenizer, text, "qwen") == text
    assert chat.encode(qwen_tokenizer, text, "qwen") == qwen_tokenizer.encode(text)


def test_chat_prompts_are_tokenized_without_extra_special_tokens(qwen_tokenizer):
    prompt = ChatPrompt((ChatMessage("user", "What is 1 + 1?"),))

    ids = chat.encode(qwen_tokenizer, prompt, "qwen")

    assert ids == qwen_tokenizer.encode(chatml_judge("What is 1 + 1?"), add_special_tokens=False)
    assert qwen_tokenizer.decode(ids) == chatml_judge("What is 1 + 1?")


def test_a_model_without_a_chat_template_is_a_configuration_error(qwen_tokenizer):
    bare = build_tokenizer(["plain text only"])
    bare.chat_template = None

    with pytest.raises(EngineError) as raised:
        chat.render(bare, ChatPrompt((ChatMessage("user", "hi"),)), "/models/base")

    assert str(raised.value) == (
        "Model '/models/base' has no chat template, so chat prompts cannot be rendered. For a base model set the "
        "prompt format to text (SCORING_MC_PROMPT_FORMAT, SCORING_JUDGE_PROMPT_FORMAT or SCORING_PRM_PROMPT_FORMAT)."
    )


def test_fit_caps_budgets_at_the_context_and_fails_prompts_that_leave_no_room():
    fitted, failed = chat.fit([[1] * 10, [1] * 100, [1] * 95, [1] * 99], max_tokens=8, context=100)

    assert [(item.index, item.max_tokens) for item in fitted] == [(0, 8), (2, 5), (3, 1)]
    assert failed == {1: Generation.failed("prompt is 100 tokens; the model's context is 100 tokens", 100)}


def test_fit_without_a_known_context_keeps_everything():
    fitted, failed = chat.fit([[1] * 10_000], max_tokens=8192, context=None)

    assert [(item.index, item.max_tokens) for item in fitted] == [(0, 8192)] and failed == {}


def test_stop_strings_that_are_special_tokens_become_token_ids(qwen_tokenizer):
    texts, ids = chat.split_stops(qwen_tokenizer, ("<|im_end|>", "\n\nProblem:", "<|endoftext|>"))

    assert texts == ["\n\nProblem:"]
    assert ids == [
        qwen_tokenizer.convert_tokens_to_ids("<|im_end|>"),
        qwen_tokenizer.convert_tokens_to_ids("<|endoftext|>"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"messages": ()}, "a chat prompt needs at least one message"),
        (
            {"messages": (ChatMessage("user", "q"),), "continue_final_message": True, "add_generation_prompt": False},
            "continue_final_message needs a final assistant message",
        ),
        (
            {"messages": (ChatMessage("assistant", "a"),), "continue_final_message": True},
            "add_generation_prompt and continue_final_message cannot both be set",
        ),
    ],
)
def test_chat_prompt_refuses_contradictory_flags(kwargs, message):
    with pytest.raises(ValueError) as raised:
        ChatPrompt(**kwargs)

    assert str(raised.value) == message
