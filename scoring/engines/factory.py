"""Build engines from settings, once per worker process, and hand the same instance to every task.

`get_generation_engine("generation" | "judge")` and `get_step_scoring_engine("prm")` read the settings
when called (never at import), and cache one engine per distinct `EngineSettings`: a model is loaded
the first time a task needs it and reused until the process exits; two roles configured identically
share one instance. Changing the settings (e.g. `override_settings` in tests) yields a new engine.
"""

import threading

from scoring.engines.base import EngineError, GenerationEngine, StepScoringEngine
from scoring.engines.config import EngineSettings, engine_settings

_lock = threading.Lock()
_generation_engines: dict[EngineSettings, GenerationEngine] = {}
_scoring_engines: dict[EngineSettings, StepScoringEngine] = {}


def _build_generation_engine(config: EngineSettings) -> GenerationEngine:
    if config.kind == "transformers":
        from scoring.engines.transformers_engine import TransformersGenerationEngine

        return TransformersGenerationEngine(config)
    if config.kind == "openai":
        from scoring.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(config)
    if config.kind == "vllm":
        from scoring.engines.vllm_engine import VLLMGenerationEngine

        return VLLMGenerationEngine(config)
    raise EngineError(f"Unknown generation engine {config.kind!r}.")


def _build_step_scoring_engine(config: EngineSettings) -> StepScoringEngine:
    if config.kind == "transformers":
        from scoring.engines.transformers_engine import TransformersStepScoringEngine

        return TransformersStepScoringEngine(config)
    if config.kind == "vllm":
        from scoring.engines.vllm_engine import VLLMStepScoringEngine

        return VLLMStepScoringEngine(config)
    raise EngineError(f"Engine {config.kind!r} cannot score steps; use transformers or vllm.")


def get_generation_engine(role: str = "generation") -> GenerationEngine:
    """Return this process's generation engine for a role (`generation` or `judge`), built on first use."""
    if role not in ("generation", "judge"):
        raise EngineError(f"{role!r} is not a generation role (use 'generation' or 'judge').")
    config = engine_settings(role)
    with _lock:
        engine = _generation_engines.get(config)
        if engine is None:
            engine = _generation_engines[config] = _build_generation_engine(config)
        return engine


def get_step_scoring_engine(role: str = "prm") -> StepScoringEngine:
    """Return this process's PRM step-scoring engine, built on first use."""
    config = engine_settings(role)
    with _lock:
        engine = _scoring_engines.get(config)
        if engine is None:
            engine = _scoring_engines[config] = _build_step_scoring_engine(config)
        return engine


def reset_engines() -> None:
    """Forget every cached engine (tests; a worker never needs this)."""
    with _lock:
        _generation_engines.clear()
        _scoring_engines.clear()
