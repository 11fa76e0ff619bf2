"""Which configuration each method runs with, and the key that makes a suggestion unique.

Method parameters come from each method's settings section (`settings_key` in the method registry:
`SCORING_MC`, `SCORING_JUDGE`, `SCORING_PRM`, with `SCORING_SEED`), optionally overridden per scoring run.
The configuration key hashes the method, its parameters and the engine kind and model configured for
its role (`engine_role` in the registry), so changing the model or a parameter yields new
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


@dataclass(frozen=True)
class MethodConfiguration:
    """A method with its validated parameters and the key its suggestions are stored under."""

    method: str
    parameters: dict[str, Any]
    config_key: str
    queue: str


def configured_parameters(method: str) -> dict[str, Any]:
    """Return the method's parameters as configured in its settings section (JSON-safe, for `build_config`)."""
    spec = registry.get_method(method)
    if spec.settings_key is None:
        return {}
    section = getattr(settings, spec.settings_key)
    return registry.parameters_from_settings(spec, section, seed=settings.SCORING_SEED)


def _engine_identity(method: str) -> dict[str, str]:
    role = registry.METHODS[method].engine_role if method in registry.METHODS else None
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
