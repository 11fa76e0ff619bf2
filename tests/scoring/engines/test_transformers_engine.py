"""The transformers engine on tiny Qwen2 checkpoints built by the tests (CPU), with the Qwen2.5 chat template."""

import shutil
import sys

import pytest
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from scoring.engines import chat
from scoring.engines.base import EngineError, SamplingParams, StepScoringRequest
from scoring.engines.transformers_engine import TransformersGenerationEngine, TransformersStepScoringEngine
from scoring.methods import judge, mc
from scoring.methods.base import SolutionTask
from tests.scoring.chat_fixtures import chatml_judge, chatml_mc, processbench_records, run_eval_user_message
from tests.scoring.tiny_models import SEPARATOR, TINY_ANSWER

PROMPTS = ["What is 2 + 3?\n\nStep 1: 2 + 3 = 5.\n\n", "What is 7 + 8?\n\n", "Q"]


def test_generate_returns_n_texts_per_prompt_in_order_with_token_counts(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm, batch_size=2))
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)

    generations = engine.generate(PROMPTS, SamplingParams(n=3, max_tokens=24, temperature=0.7, seed=1))

    assert [len(generation.texts) for generation in generations] == [3, 3, 3]
    assert all(text == TINY_ANSWER for generation in generations for text in generation.texts)
    assert [g.prompt_tokens for g in generations] == [len(tokenizer(p)["input_ids"]) for p in PROMPTS]
    answer_tokens = len(tokenizer(TINY_ANSWER)["input_ids"]) + 1  # the answer and its end-of-sequence token
    assert [g.generated_tokens for g in generations] == [3 * answer_tokens] * 3
    assert engine.info.engine == "transformers"
    assert engine.info.model_name == str(tiny_models.causal_lm)


def test_generate_is_reproducible_with_a_seed_and_respects_max_tokens_and_stop(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm))
    params = SamplingParams(n=2, max_tokens=3, temperature=1.0, seed=7)

    first = engine.generate(PROMPTS[:2], params)
    second = engine.generate(PROMPTS[:2], params)
    stopped = engine.generate(PROMPTS[:1], SamplingParams(n=1, max_tokens=24, temperature=0.0, stop=("boxed",)))

    assert first == second
    assert all(g.generated_tokens == 2 * 3 for g in first)  # capped by max_tokens, no end-of-sequence reached
    assert stopped[0].texts == (" The answer is \\",)


def test_generate_without_prompts_loads_nothing(tiny_engine_settings, tmp_path):
    engine = TransformersGenerationEngine(tiny_engine_settings(tmp_path / "absent"))

    assert engine.generate([], SamplingParams()) == []


def test_missing_model_folder_is_an_engine_error(tiny_engine_settings, tmp_path):
    engine = TransformersGenerationEngine(tiny_engine_settings(tmp_path / "absent"))

    with pytest.raises(EngineError, match=r"has no config\.json"):
        engine.generate(["x"], SamplingParams())


def _reference_probabilities(folder, text):
    """Score one text with the plain transformers API: softmax(logits)[..., 1] at the separators."""
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForTokenClassification.from_pretrained(folder).eval()
    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    with torch.inference_mode():
        probabilities = torch.softmax(model(input_ids=ids).logits, dim=-1)[0, :, 1]
    separator = tokenizer.convert_tokens_to_ids(SEPARATOR)
    return [float(p) for p, token in zip(probabilities, ids[0].tolist(), strict=True) if token == separator]


def test_token_classifier_prm_scores_each_step_at_its_separator(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.token_classifier, batch_size=2))
    requests = [
        StepScoringRequest("What is 2 + 3?", ("2 + 3 = 5.", "So the answer is \\boxed{5}.")),
        StepScoringRequest("What is 7 + 8?", ("7 + 8 = 15.",)),
        StepScoringRequest("Odd", (f"a step that mentions {SEPARATOR} itself", "b", "c")),
    ]

    scores = engine.score_steps(requests)

    assert engine.layout == "token_classification"
    assert [len(s.probabilities) for s in scores] == [2, 1, 3]
    assert all(0.0 <= p <= 1.0 for s in scores for p in s.probabilities)
    chat_text = (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
        "<|im_start|>user\nWhat is 2 + 3?<|im_end|>\n"
        f"<|im_start|>assistant\n2 + 3 = 5.{SEPARATOR}So the answer is \\boxed{{5}}.{SEPARATOR}<|im_end|>\n"
    )
    expected = _reference_probabilities(tiny_models.token_classifier, chat_text)
    assert scores[0].probabilities == pytest.approx(expected, abs=1e-5)
    assert scores[0].prompt_tokens > scores[1].prompt_tokens > 0


def test_prm_text_format_is_question_blank_line_and_joined_steps(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.token_classifier))

    (scores,) = engine.score_steps([StepScoringRequest("What is 2 + 3?", ("2 + 3 = 5.", "\\boxed{5}"), "text")])

    text = f"What is 2 + 3?\n\n2 + 3 = 5.{SEPARATOR}\\boxed{{5}}{SEPARATOR}"
    assert scores.probabilities == pytest.approx(_reference_probabilities(tiny_models.token_classifier, text), abs=1e-5)


def test_a_prm_without_a_chat_template_is_a_configuration_error(tiny_models, tiny_engine_settings, tmp_path):
    bare = tmp_path / "prm-without-template"
    shutil.copytree(tiny_models.token_classifier, bare)
    (bare / "chat_template.jinja").unlink()
    engine = TransformersStepScoringEngine(tiny_engine_settings(bare))

    with pytest.raises(EngineError, match=r"has no chat template, so chat prompts cannot be rendered"):
        engine.score_steps([StepScoringRequest("q", ("a",))])
    (text_scores,) = engine.score_steps([StepScoringRequest("q", ("a",), "text")])
    assert len(text_scores.probabilities) == 1


def test_an_oversized_prm_input_fails_alone(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.token_classifier, max_model_len=120))
    long_question = "What is " + " + ".join(["12345"] * 60) + "?"
    requests = [StepScoringRequest("What is 1 + 1?", ("1 + 1 = 2.",)), StepScoringRequest(long_question, ("x",))]

    scores = engine.score_steps(requests)

    tokenizer = AutoTokenizer.from_pretrained(tiny_models.token_classifier)
    text = (
        "<|im_start|>system\nPlease reason step by step, and put your final answer within \\boxed{}.<|im_end|>\n"
        f"<|im_start|>user\n{long_question}<|im_end|>\n<|im_start|>assistant\nx{SEPARATOR}<|im_end|>\n"
    )
    length = len(tokenizer.encode(text, add_special_tokens=False))
    assert length > 120
    assert len(scores[0].probabilities) == 1 and scores[0].error == ""
    assert scores[1].probabilities == ()
    assert scores[1].error == f"prompt is {length} tokens; the model's context is 120 tokens"


def test_qwen_process_reward_layout_loads_natively_with_its_score_head(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.process_reward))

    (scores,) = engine.score_steps([StepScoringRequest("What is 1 + 1?", ("1 + 1 = 2.", "\\boxed{2}"))])

    assert engine.layout == "qwen2_process_reward"
    assert len(scores.probabilities) == 2
    assert all(0.0 < p < 1.0 for p in scores.probabilities)


def test_a_causal_lm_is_refused_as_a_prm(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.causal_lm))

    with pytest.raises(EngineError, match="lacks weights for score"):
        engine.score_steps([StepScoringRequest("q", ("a",))])


def test_a_tokenizer_without_the_separator_is_refused(tiny_models, tiny_engine_settings):
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.token_classifier, separator="<step>"))

    with pytest.raises(EngineError, match="no separator token '<step>'"):
        engine.score_steps([StepScoringRequest("q", ("a",))])


def test_a_worker_without_torch_gets_an_engine_error_naming_the_requirements(
    tiny_models, tiny_engine_settings, monkeypatch
):
    monkeypatch.setitem(sys.modules, "transformers", None)
    engine = TransformersStepScoringEngine(tiny_engine_settings(tiny_models.token_classifier))

    with pytest.raises(EngineError, match=r"needs torch and transformers .*install requirements/models\.txt"):
        engine.score_steps([StepScoringRequest("q", ("a",))])


def spy_generate(engine):
    """Record every `model.generate` call of a loaded engine (its inputs and keyword arguments)."""
    engine.load()
    calls = []
    original = engine._model.generate

    def recording(**kwargs):
        calls.append(kwargs)
        return original(**kwargs)

    engine._model.generate = recording
    return calls


def prompts_read(engine, call) -> list[str]:
    """Return the prompt texts the model read in one generate call (left padding removed)."""
    rows = call["input_ids"].tolist()
    masks = call["attention_mask"].tolist()
    return [
        engine._tokenizer.decode([t for t, m in zip(row, mask, strict=True) if m])
        for row, mask in zip(rows, masks, strict=True)
    ]


def record_task(record, solution_id=1) -> SolutionTask:
    return SolutionTask(solution_id, record["problem"], tuple(record["steps"]), "x")


def test_judge_and_mc_chat_prompts_reach_the_model_as_exact_chatml(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm, batch_size=8))
    calls = spy_generate(engine)
    records = processbench_records()
    template = judge.JudgeConfig().load_template()
    prompts = [judge.build_prompt(record_task(record), template) for record in records]
    prompts.append(mc.build_prompt(record_task(records[1]), 2))

    generations = engine.generate(prompts, SamplingParams(n=1, max_tokens=8, temperature=0.0))

    expected = [chatml_judge(run_eval_user_message(record)) for record in records]
    expected.append(chatml_mc(records[1]["problem"], records[1]["steps"][:2]))
    assert prompts_read(engine, calls[0]) == expected
    assert [g.prompt_tokens for g in generations] == [
        len(engine._tokenizer.encode(text, add_special_tokens=False)) for text in expected
    ]


def test_sampling_turns_top_k_off_unless_set_and_stops_at_end_of_turn_tokens(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm))
    calls = spy_generate(engine)
    prompt = mc.build_prompt(SolutionTask(1, "What is 1 + 1?", ("1 + 1 = 2.",), "2"), 1)

    engine.generate([prompt], SamplingParams(n=1, max_tokens=4, temperature=0.7, stop=mc.DEFAULT_MC_STOP))
    engine.generate([prompt], SamplingParams(n=1, max_tokens=4, temperature=0.7, top_k=20, top_p=0.8))

    ids = engine._tokenizer.convert_tokens_to_ids
    assert calls[0]["top_k"] == 0 and calls[1]["top_k"] == 20 and calls[1]["top_p"] == 0.8
    assert calls[0]["eos_token_id"] == sorted({ids("<|endoftext|>"), ids("<|im_end|>"), ids("<|im_start|>")})
    assert "stop_strings" not in calls[0]  # all three stops are special tokens: ended by id, not by text


def test_the_budget_is_capped_by_the_context_the_longest_prompt_leaves(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm, max_model_len=60))
    short, longer = "What is 1 + 1?\n\n", "What is 1 + 1 + 1 + 1 + 1 + 1 + 1?\n\n"
    tokenizer = AutoTokenizer.from_pretrained(tiny_models.causal_lm)
    longest = max(len(tokenizer.encode(short)), len(tokenizer.encode(longer)))

    generations = engine.generate([short, longer], SamplingParams(n=1, max_tokens=8192, temperature=0.0))

    assert [g.max_tokens for g in generations] == [60 - longest] * 2


def test_a_batch_of_16_with_one_oversized_solution_fails_that_one_alone(tiny_models, tiny_engine_settings):
    engine = TransformersGenerationEngine(tiny_engine_settings(tiny_models.causal_lm, max_model_len=400))
    tasks = [SolutionTask(i, f"What is {i} + 1?", (f"{i} + 1 = {i + 1}.", "So \\boxed{1}."), "1") for i in range(16)]
    tasks[9] = SolutionTask(9, "What is " + " + ".join(["1234567"] * 80) + "?", ("It is big.",), "1")
    config = judge.JudgeConfig(sampling=SamplingParams(max_tokens=16, temperature=0.0))

    results = judge.judge(tasks, engine, config)

    oversized = chat.encode(engine._tokenizer, judge.build_prompt(tasks[9], config.load_template()), "tiny")
    assert [r.status for r in results].count("succeeded") == 15
    assert results[9].status == "failed"
    assert results[9].error == f"prompt is {len(oversized)} tokens; the model's context is 400 tokens"
    assert all(r.label == 1 for i, r in enumerate(results) if i != 9)
