"""Fixtures for scoring tests: tiny models built once per session, engine settings for them."""

from typing import TYPE_CHECKING

import pytest

from scoring.engines.config import EngineSettings
from scoring.engines.factory import reset_engines

if TYPE_CHECKING:
    from tests.scoring.tiny_models import TinyModels


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory) -> "TinyModels":
    from tests.scoring.tiny_models import build_tiny_models  # torch and transformers load only when needed

    return build_tiny_models(tmp_path_factory.mktemp("tiny-models"))


@pytest.fixture
def tiny_engine_settings(tiny_models):
    def make(model, **overrides) -> EngineSettings:
        values = {"device": "cpu", "dtype": "float32", "torch_threads": 1, **overrides}
        return EngineSettings(kind="transformers", model=str(model), **values)

    return make


@pytest.fixture(autouse=True)
def _fresh_engines():
    reset_engines()
    yield
    reset_engines()


def tiny_scoring_environment(models: "TinyModels") -> dict[str, str]:
    """Return the environment that points every scoring role at the tiny models (for worker processes)."""
    return {
        "SCORING_GENERATION_ENGINE": "transformers",
        "SCORING_GENERATION_MODEL": str(models.causal_lm),
        "SCORING_JUDGE_ENGINE": "transformers",
        "SCORING_JUDGE_MODEL": str(models.causal_lm),
        "SCORING_PRM_ENGINE": "transformers",
        "SCORING_PRM_MODEL": str(models.token_classifier),
        "SCORING_DEVICE": "cpu",
        "SCORING_DTYPE": "float32",
        "SCORING_TORCH_THREADS": "1",
        "SCORING_MC_ROLLOUTS": "2",
        "SCORING_MC_MAX_TOKENS": "16",
        "SCORING_JUDGE_MAX_TOKENS": "16",
    }


@pytest.fixture
def tiny_scoring(tiny_models, settings) -> "TinyModels":
    """Point the scoring settings of this test process at the tiny models (same values as the environment)."""
    settings.SCORING_ENGINES = {
        "generation": {"ENGINE": "transformers", "MODEL": str(tiny_models.causal_lm), "BASE_URL": ""},
        "judge": {"ENGINE": "transformers", "MODEL": str(tiny_models.causal_lm), "BASE_URL": ""},
        "prm": {"ENGINE": "transformers", "MODEL": str(tiny_models.token_classifier), "GPU_MEMORY_UTILIZATION": 0.3},
    }
    settings.SCORING_DEVICE = "cpu"
    settings.SCORING_DTYPE = "float32"
    settings.SCORING_TORCH_THREADS = 1
    settings.SCORING_MC = {**settings.SCORING_MC, "ROLLOUTS_PER_STEP": 2, "MAX_TOKENS": 16}
    settings.SCORING_JUDGE = {**settings.SCORING_JUDGE, "MAX_TOKENS": 16}
    return tiny_models
