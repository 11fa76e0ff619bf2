"""Which configuration each method runs with, and the key that makes a suggestion unique.

Method parameters come from settings (`SCORING_MC`, `SCORING_JUDGE`, `SCORING_PRM`, `SCORING_SEED`),
optionally overridden per scoring run. The configuration key hashes the method, its parameters and the
engine kind and model configured for its role, so changing the model or a parameter yields new
suggestions while re-running the same configuration updates the existing ones. The key is computed
where work is enqueued and travels with the task, so the worker writes exactly the row that was queued.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from prmweb.errors import ApplicationError
from scoring.methods import registry
from scoring.methods.base import MethodConfigError

ROLE_BY_METHOD = {"mc": "generation", "judge": "judge", "prm": "prm"}
DERIVED_METHODS = frozenset({"consensus"})


@dataclass(frozen=True)
class MethodConfiguration:
    """A method with its validated parameters and the key its suggestions are stored under."""

    method: str
    parameters: dict[str, Any]
    config_key: str
    queue: str


def _sampling(section: Mapping[str, Any]) -> dict[str, Any]:
    values = {
        "max_tokens": section["MAX_TOKENS"],
        "temperature": section["TEMPERATURE"],
        "top_p": section["TOP_P"],
        "seed": settings.SCORING_SEED,
    }
    if "TOP_K" in section:
        values["top_k"] = section["TOP_K"]
    if "STOP" in section:
        values["stop"] = list(section["STOP"])
    return values


def configured_parameters(method: str) -> dict[str, Any]:
    """Return the method's parameters as configured in settings (JSON-safe, for `registry.build_config`)."""
    if method == "mc":
        section = settings.SCORING_MC
        return {
            "rollouts_per_step": section["ROLLOUTS_PER_STEP"],
            "strategy": section["STRATEGY"],
            "early_stop": section["EARLY_STOP"],
            "hard_label_only": section["HARD_LABEL_ONLY"],
            "confirm": section["CONFIRM"],
            "sampling": _sampling(section),
            "prompt_format": section["PROMPT_FORMAT"],
            "system_prompt": section["SYSTEM_PROMPT"],
        }
    if method == "judge":
        section = settings.SCORING_JUDGE
        return {
            "samples": section["SAMPLES"],
            "sampling": _sampling(section),
            "template_path": section["TEMPLATE"] or None,
            "prompt_format": section["PROMPT_FORMAT"],
            "voting": section["VOTING"],
        }
    if method == "prm":
        return {"threshold": settings.SCORING_PRM["THRESHOLD"], "prompt_format": settings.SCORING_PRM["PROMPT_FORMAT"]}
    return {}


def _engine_identity(method: str) -> dict[str, str]:
    role = ROLE_BY_METHOD.get(method)
    if role is None:
        return {}
    entry = settings.SCORING_ENGINES.get(role, {})
    return {"engine": str(entry.get("ENGINE", "")), "model": str(entry.get("MODEL", ""))}


def config_key_for(method: str, parameters: Mapping[str, Any]) -> str:
    """Return the 16-hex-digit key of a method configuration (stable across processes)."""
    payload = {"method": method, "parameters": parameters, **_engine_identity(method)}
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return digest[:16]


def method_configuration(method: str, overrides: Mapping[str, Any] | None = None) -> MethodConfiguration:
    """Return the validated configuration of a method; raise ApplicationError naming a bad field."""
    try:
        spec = registry.get_method(method)
        parameters = {**configured_parameters(method), **dict(overrides or {})}
        config = registry.build_config(method, parameters)
    except MethodConfigError as error:
        field = "method" if error.field == "method" else f"parameters.{error.field}"
        raise ApplicationError(f"Invalid scoring configuration: {error}", errors={field: [error.message]}) from None
    normalized = registry.config_parameters(config)
    return MethodConfiguration(
        method=method, parameters=normalized, config_key=config_key_for(method, normalized), queue=spec.queue
    )


def build_method_config(configuration: MethodConfiguration) -> Any:
    """Return the method's config object from stored parameters (the inverse of `method_configuration`)."""
    return registry.build_config(configuration.method, configuration.parameters)
