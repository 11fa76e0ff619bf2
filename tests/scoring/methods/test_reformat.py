"""The reformat prompt (ProcessBench's template, verbatim) and the one batched judge call that re-splits responses."""

import hashlib

import pytest

from scoring.engines import chat
from scoring.engines.base import ChatPrompt, EngineError, Generation, SamplingParams
from scoring.methods.base import MethodConfigError
from scoring.methods.reformat import (
    REFORMAT_TEMPLATE_PATH,
    ReformatConfig,
    ReformatReply,
    ReformatRequest,
    build_prompt,
    reformat,
    reformat_prompt_text,
)
from tests.scoring.chat_fixtures import OFFICIAL_REFORMAT_TEMPLATE, chatml_judge, processbench_records
from tests.scoring.methods.fakes import ScriptedGenerationEngine
from tests.scoring.tiny_models import build_tokenizer

GSM8K_0 = processbench_records()[0]
UNPARAGRAPHED = " ".join(GSM8K_0["steps"])  # what a generator writes without paragraph breaks


def gsm8k_request(solution_id: int = 7) -> ReformatRequest:
    return ReformatRequest(solution_id, GSM8K_0["problem"], UNPARAGRAPHED)


def test_the_template_is_processbench_reformat_template_byte_for_byte():
    data = REFORMAT_TEMPLATE_PATH.read_bytes()

    assert data == OFFICIAL_REFORMAT_TEMPLATE.encode("utf-8")
    assert len(data) == 1775
    assert hashlib.sha256(data).hexdigest() == "cd3672540ce6301b40c08f651e5cbd117b2a5f8ef5396f954e0e77f0f0dc077d"


def test_the_user_message_is_the_stripped_template_formatted_with_problem_and_response():
    text = reformat_prompt_text(GSM8K_0["problem"], UNPARAGRAPHED)

    assert text == OFFICIAL_REFORMAT_TEMPLATE.strip().format(problem=GSM8K_0["problem"], response=UNPARAGRAPHED)
    assert text.startswith(
        "I will present you with a solution to a math problem. Unfortunately, the solution lacks proper "
        "paragraphing, making it hard to read."
    )
    assert "* Insert \\n\\n for paragraph breaks within the original solution. Do **NOT** alter any content" in text
    assert (
        "--------------------------------------------------\n\nHere is the math problem, and the solution that "
        "needs to be reformatted:\n\n[Math Problem]\n\nSue lives in a fun neighborhood.  One weekend" in text
    )
    assert text.endswith(
        "[Solution]\n\nTo find out how many more pink plastic flamingos were out than white plastic flamingos at "
        "noon on Sunday, we can break down the problem into steps. First, on Friday, the neighbors start with 18 "
        "pink plastic flamingos. On Saturday, they take back one third"
        + UNPARAGRAPHED.split("On Saturday, they take back one third", 1)[1]
    )
    assert text.endswith("The answer is \\(\\boxed{30}\\).")


def test_braces_in_the_response_are_values_not_fields():
    text = reformat_prompt_text("Find {x}.", "We get $\\frac{1}{2}$ and {response}.")

    assert text.endswith("[Math Problem]\n\nFind {x}.\n\n[Solution]\n\nWe get $\\frac{1}{2}$ and {response}.")


def test_the_prompt_is_one_user_message_with_the_generation_prompt_added():
    prompt = build_prompt(gsm8k_request())

    assert isinstance(prompt, ChatPrompt)
    assert prompt.as_dicts() == [{"role": "user", "content": reformat_prompt_text(GSM8K_0["problem"], UNPARAGRAPHED)}]
    assert prompt.add_generation_prompt is True and prompt.continue_final_message is False
    assert build_prompt(gsm8k_request(), "text") == reformat_prompt_text(GSM8K_0["problem"], UNPARAGRAPHED)


def test_the_prompt_renders_through_qwen_chat_template_as_the_judge_prompt_does():
    tokenizer = build_tokenizer([GSM8K_0["problem"], *GSM8K_0["steps"]])

    rendered = chat.render(tokenizer, build_prompt(gsm8k_request()), "qwen")

    assert rendered == chatml_judge(reformat_prompt_text(GSM8K_0["problem"], UNPARAGRAPHED))
    assert rendered.startswith(
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
        "<|im_start|>user\nI will present you with a solution to a math problem."
    )
    assert rendered.endswith("The answer is \\(\\boxed{30}\\).<|im_end|>\n<|im_start|>assistant\n")


def test_one_batched_greedy_call_for_every_response_in_order():
    engine = ScriptedGenerationEngine(lambda prompt, draw: prompt.rsplit("[Solution]\n\n", 1)[1].upper())
    requests = [ReformatRequest(1, "P1", "first response"), ReformatRequest(2, "P2", "second response")]

    replies = reformat(requests, engine, ReformatConfig(max_tokens=4096, seed=3))

    assert replies == [
        ReformatReply(1, "FIRST RESPONSE", "", 10, 3),
        ReformatReply(2, "SECOND RESPONSE", "", 10, 3),
    ]
    assert len(engine.calls) == 1
    prompts, params = engine.calls[0]
    assert [prompt.messages[0].content for prompt in prompts] == [  # type: ignore[union-attr]
        reformat_prompt_text("P1", "first response"),
        reformat_prompt_text("P2", "second response"),
    ]
    assert params == SamplingParams(n=1, max_tokens=4096, temperature=0.0, seed=3)


def test_default_budget_is_8192_tokens_in_chat():
    config = ReformatConfig()

    assert (config.max_tokens, config.prompt_format) == (8192, "chat")
    assert config.sampling() == SamplingParams(n=1, max_tokens=8192, temperature=0.0)


class CannedEngine(ScriptedGenerationEngine):
    """Returns the given generations, one per prompt, in order."""

    def __init__(self, *generations: Generation):
        super().__init__(lambda prompt, draw: "")
        self.generations = list(generations)

    def generate(self, prompts, params):
        self.calls.append((list(prompts), params))
        return self.generations[: len(prompts)]


def test_a_prompt_the_engine_cannot_serve_or_a_cut_reply_gives_no_text_and_the_reason():
    engine = CannedEngine(
        Generation.failed("prompt is 9000 tokens; the model's context is 4096 tokens", prompt_tokens=9000),
        Generation(
            texts=("First half of the",),
            prompt_tokens=50,
            generated_tokens=20,
            finish_reasons=("length",),
            max_tokens=20,
        ),
        Generation(texts=("fine",), prompt_tokens=50, generated_tokens=2, finish_reasons=("stop",)),
    )
    requests = [ReformatRequest(index, "P", "response") for index in (1, 2, 3)]

    replies = reformat(requests, engine, ReformatConfig())

    assert replies == [
        ReformatReply(
            1, None, "the judge could not take the prompt: prompt is 9000 tokens; the model's context is 4096 tokens"
        ),
        ReformatReply(
            2, None, "the reply was cut at the token budget (20 tokens); raise SCORING_REFORMAT_MAX_TOKENS", 50, 20
        ),
        ReformatReply(3, "fine", "", 50, 2),
    ]


def test_an_engine_returning_the_wrong_number_of_generations_is_an_engine_error():
    engine = CannedEngine(Generation(texts=("only one",)))

    with pytest.raises(EngineError, match="engine returned 1 generations for 2 prompts"):
        reformat([ReformatRequest(1, "P", "a"), ReformatRequest(2, "P", "b")], engine, ReformatConfig())


def test_no_request_means_no_engine_call():
    engine = CannedEngine()

    assert reformat([], engine, ReformatConfig()) == []
    assert engine.calls == []


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"max_tokens": 0}, "max_tokens", "must be a positive integer, not 0"),
        ({"max_tokens": True}, "max_tokens", "must be a positive integer, not True"),
        ({"prompt_format": "xml"}, "prompt_format", "must be 'chat' or 'text', not 'xml'"),
    ],
)
def test_bad_configuration_names_the_setting(kwargs, field, message):
    with pytest.raises(MethodConfigError) as refused:
        ReformatConfig(**kwargs)

    assert (refused.value.field, refused.value.message) == (field, message)
