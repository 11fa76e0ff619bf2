"""The transformers engine on tiny Qwen2 checkpoints built by the tests (CPU)."""

import sys

import pytest
import torch
from transformers import AutoModelForTokenClassification, AutoTokenizer

from scoring.engines.base import EngineError, SamplingParams, StepScoringRequest
from scoring.engines.transformers_engine import TransformersGenerationEngine, TransformersStepScoringEngine
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
    ids = tokenizer(text, return_tensors="pt")["input_ids"]
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
    expected = _reference_probabilities(
        tiny_models.token_classifier,
        f"What is 2 + 3?\n\n2 + 3 = 5.{SEPARATOR}So the answer is \\boxed{{5}}.{SEPARATOR}",
    )
    assert scores[0].probabilities == pytest.approx(expected, abs=1e-5)
    assert scores[0].prompt_tokens > scores[1].prompt_tokens > 0


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
