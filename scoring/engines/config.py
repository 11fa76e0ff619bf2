"""Engine configuration, read from Django settings only when an engine is asked for (never at import).

Each *role* (`generation` for MC rollouts, `judge`, `prm`) names an engine kind and a model in
`settings.SCORING_ENGINES`; shared knobs (device, vLLM memory, HTTP timeouts) come from the other
`SCORING_*` settings. The resulting `EngineSettings` is frozen and hashable: the factory caches one
engine per distinct value, so two roles configured identically share one loaded model.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings

from scoring.engines.base import EngineError

ENGINE_KINDS = ("transformers", "openai", "vllm")
ROLES = ("generation", "judge", "prm")
OPENAI_APIS = ("chat", "completions")


@dataclass(frozen=True)
class EngineSettings:
    """Everything needed to build one engine; equal settings mean one shared instance per process."""

    kind: str
    model: str
    base_url: str = ""
    api_key: str = ""
    device: str = "auto"
    dtype: str = "auto"
    batch_size: int = 8
    timeout_seconds: float = 300.0
    connect_timeout_seconds: float = 10.0
    max_retries: int = 4
    retry_backoff_seconds: float = 1.0
    prompts_per_request: int = 32
    api: str = "chat"
    concurrency: int = 8
    gpu_memory_utilization: float = 0.85
    max_model_len: int | None = None
    seed: int = 0
    separator: str = "<extra_0>"
    torch_threads: int = 0


def _role_entry(role: str) -> dict[str, Any]:
    engines: dict[str, dict[str, Any]] = getattr(settings, "SCORING_ENGINES", {})
    if role not in ROLES:
        raise EngineError(f"Unknown engine role {role!r}; expected one of {', '.join(ROLES)}.")
    return dict(engines.get(role, {}))


def engine_settings(role: str) -> EngineSettings:
    """Return the configured EngineSettings for a role; raise EngineError naming what is missing."""
    entry = _role_entry(role)
    kind = str(entry.get("ENGINE", "")).strip().lower()
    model = str(entry.get("MODEL", "")).strip()
    upper = role.upper()
    if kind not in ENGINE_KINDS:
        raise EngineError(f"SCORING_{upper}_ENGINE must be one of {', '.join(ENGINE_KINDS)} (got {kind!r}).")
    if not model:
        raise EngineError(f"SCORING_{upper}_MODEL is not set: point it at a local model folder or a served model name.")
    if role == "prm" and kind == "openai":
        raise EngineError("SCORING_PRM_ENGINE cannot be 'openai': PRM scoring runs with transformers or vllm.")
    base_url = str(entry.get("BASE_URL", "")).strip()
    if kind == "openai" and not base_url:
        raise EngineError(f"SCORING_{upper}_URL (or SCORING_OPENAI_BASE_URL) is required for the openai engine.")
    api = str(entry.get("API", "chat")).strip().lower()
    if kind == "openai" and api not in OPENAI_APIS:
        raise EngineError(f"SCORING_{upper}_OPENAI_API must be one of {', '.join(OPENAI_APIS)} (got {api!r}).")
    vllm_memory = entry.get("GPU_MEMORY_UTILIZATION", settings.SCORING_VLLM_GPU_MEMORY_UTILIZATION)
    return EngineSettings(
        kind=kind,
        model=model,
        base_url=base_url.rstrip("/"),
        api_key=settings.SCORING_OPENAI_API_KEY if kind == "openai" else "",
        device=settings.SCORING_DEVICE,
        dtype=settings.SCORING_DTYPE,
        batch_size=settings.SCORING_ENGINE_BATCH_SIZE,
        timeout_seconds=settings.SCORING_OPENAI_TIMEOUT_SECONDS,
        max_retries=settings.SCORING_OPENAI_MAX_RETRIES,
        prompts_per_request=settings.SCORING_OPENAI_PROMPTS_PER_REQUEST,
        api=api if kind == "openai" else "",
        concurrency=settings.SCORING_OPENAI_CONCURRENCY,
        gpu_memory_utilization=float(vllm_memory),
        max_model_len=settings.SCORING_VLLM_MAX_MODEL_LEN,
        seed=settings.SCORING_SEED,
        separator=settings.SCORING_PRM_SEPARATOR,
        torch_threads=settings.SCORING_TORCH_THREADS,
    )
