"""Engines are built from settings when first asked for, once per process, and reused."""

import pytest
from django.test import override_settings

from scoring.engines.base import EngineError
from scoring.engines.factory import get_generation_engine, get_step_scoring_engine
from scoring.engines.openai_engine import OpenAIEngine
from scoring.engines.transformers_engine import TransformersGenerationEngine, TransformersStepScoringEngine


def _engines(**roles):
    base = {
        "generation": {"ENGINE": "transformers", "MODEL": "/models/policy", "BASE_URL": ""},
        "judge": {"ENGINE": "transformers", "MODEL": "/models/policy", "BASE_URL": ""},
        "prm": {"ENGINE": "transformers", "MODEL": "/models/prm"},
    }
    for role, entry in roles.items():
        base[role] = {**base[role], **entry}
    return base


def test_one_engine_per_configuration_shared_by_roles_and_rebuilt_when_settings_change():
    with override_settings(SCORING_ENGINES=_engines()):
        policy = get_generation_engine("generation")
        assert isinstance(policy, TransformersGenerationEngine)
        assert get_generation_engine("generation") is policy
        assert get_generation_engine("judge") is policy  # same model and engine: one loaded copy
        assert isinstance(get_step_scoring_engine("prm"), TransformersStepScoringEngine)
    with override_settings(SCORING_ENGINES=_engines(judge={"MODEL": "/models/judge"})):
        assert get_generation_engine("judge") is not policy
        assert get_generation_engine("judge").info.model_name == "/models/judge"


@override_settings(
    SCORING_ENGINES=_engines(
        judge={"ENGINE": "openai", "MODEL": "Qwen2.5-72B-Instruct", "BASE_URL": "http://j:8000/v1/"}
    ),
    SCORING_OPENAI_API_KEY="secret",
    SCORING_OPENAI_TIMEOUT_SECONDS=42.0,
)
def test_openai_judge_reads_url_key_and_timeout_from_settings():
    engine = get_generation_engine("judge")

    assert isinstance(engine, OpenAIEngine)
    assert engine.config.base_url == "http://j:8000/v1"
    assert engine.config.api_key == "secret"
    assert engine.config.timeout_seconds == 42.0
    assert engine.config.api == "chat"  # the default: a chat-only endpoint can serve as judge


@pytest.mark.parametrize(
    "roles, role, message",
    [
        ({"generation": {"MODEL": ""}}, "generation", "SCORING_GENERATION_MODEL is not set"),
        ({"judge": {"ENGINE": "tgi"}}, "judge", "SCORING_JUDGE_ENGINE must be one of transformers, openai, vllm"),
        ({"judge": {"ENGINE": "openai", "BASE_URL": ""}}, "judge", "SCORING_JUDGE_URL (or SCORING_OPENAI_BASE_URL)"),
        ({"prm": {"ENGINE": "openai"}}, "prm", "SCORING_PRM_ENGINE cannot be 'openai'"),
        (
            {"judge": {"ENGINE": "openai", "BASE_URL": "http://j/v1", "API": "responses"}},
            "judge",
            "SCORING_JUDGE_OPENAI_API must be one of chat, completions (got 'responses').",
        ),
    ],
)
def test_bad_configuration_names_the_setting(roles, role, message):
    with override_settings(SCORING_ENGINES=_engines(**roles)), pytest.raises(EngineError) as caught:
        (get_step_scoring_engine if role == "prm" else get_generation_engine)(role)
    assert message in str(caught.value)


def test_prm_is_not_a_generation_role():
    with pytest.raises(EngineError, match="'prm' is not a generation role"):
        get_generation_engine("prm")
