"""The table of suggestion methods: queue, engine need, configuration class and entry point.

Workers look a method up here (`get_method`), build its configuration from stored JSON parameters
(`build_config`) and record the parameters they used (`config_parameters`). `consensus` is derived from
existing `mc` and `judge` suggestions (`scoring.methods.consensus.derive`), so it has no batch runner.
"""

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from scoring.engines.base import SamplingParams
from scoring.methods import arithmetic, judge, mc, prm
from scoring.methods.base import MethodConfigError

Queue = Literal["gpu", "default"]
EngineNeed = Literal["generation", "step_scoring"]


@dataclass(frozen=True)
class ConsensusConfig:
    """Consensus has no settings; it records which suggestions it was derived from."""

    inputs: tuple[str, ...] = ("mc", "judge")


@dataclass(frozen=True)
class MethodSpec:
    """How to run one method: Celery queue, engine kind, configuration class and batch entry point.

    `run` is `run(tasks, engine, config)` for methods that need an engine, `run(tasks, config)` for
    `arithmetic`, and None for `consensus`. `depends_on` lists the methods a derived method reads.
    """

    name: str
    queue: Queue
    needs: EngineNeed | None
    config_class: type
    run: Callable[..., Any] | None
    depends_on: tuple[str, ...] = ()
    description: str = ""


METHODS: dict[str, MethodSpec] = {
    "mc": MethodSpec(
        "mc", "gpu", "generation", mc.MCConfig, mc.estimate, description="Monte-Carlo rollouts per step prefix"
    ),
    "judge": MethodSpec(
        "judge", "gpu", "generation", judge.JudgeConfig, judge.judge, description="LLM critique, ProcessBench prompt"
    ),
    "prm": MethodSpec(
        "prm", "gpu", "step_scoring", prm.PRMConfig, prm.score, description="process reward model step scores"
    ),
    "arithmetic": MethodSpec(
        "arithmetic", "default", None, arithmetic.ArithmeticConfig, arithmetic.check, description="SymPy checks"
    ),
    "consensus": MethodSpec(
        "consensus", "default", None, ConsensusConfig, None, ("mc", "judge"), description="mc and judge agree"
    ),
}


def get_method(name: str) -> MethodSpec:
    """Return the method called `name`, or raise MethodConfigError naming the known methods."""
    try:
        return METHODS[name]
    except KeyError:
        raise MethodConfigError("method", f"unknown method {name!r}; choose one of {', '.join(METHODS)}") from None


def build_config(name: str, parameters: Mapping[str, Any] | None = None) -> Any:
    """Return the method's configuration from JSON parameters (a nested `sampling` dict is allowed).

    Unknown keys and bad values raise MethodConfigError naming the field.
    """
    spec = get_method(name)
    parameters = dict(parameters or {})
    fields = {f.name for f in dataclasses.fields(spec.config_class)}
    unknown = sorted(set(parameters) - fields)
    if unknown:
        raise MethodConfigError(unknown[0], f"unknown setting for method {name!r}")
    if isinstance(parameters.get("sampling"), Mapping):
        parameters["sampling"] = _sampling(parameters["sampling"])
    if isinstance(parameters.get("inputs"), list):
        parameters["inputs"] = tuple(parameters["inputs"])
    _check_types(spec.config_class, parameters)
    try:
        return spec.config_class(**parameters)
    except TypeError as error:
        raise MethodConfigError("parameters", str(error)) from None


_SIMPLE_TYPES: dict[Any, tuple[tuple[type, ...], str]] = {
    int: ((int,), "an integer"),
    float: ((int, float), "a number"),
    bool: ((bool,), "true or false"),
    str: ((str,), "a string"),
}


def _check_types(config_class: type, values: Mapping[str, Any]) -> None:
    """Raise MethodConfigError for a value whose type does not match a plain int/float/bool/str field."""
    for item in dataclasses.fields(config_class):
        if item.name not in values or item.type not in _SIMPLE_TYPES:
            continue
        accepted, description = _SIMPLE_TYPES[item.type]
        value = values[item.name]
        if not isinstance(value, accepted) or (item.type is not bool and isinstance(value, bool)):
            raise MethodConfigError(item.name, f"must be {description}")


_SAMPLING_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "n": (lambda value: _is_int(value) and value >= 1, "a whole number of at least 1"),
    "max_tokens": (lambda value: _is_int(value) and value >= 1, "a whole number of at least 1"),
    "temperature": (lambda value: _is_number(value) and value >= 0, "a number of at least 0"),
    "top_p": (lambda value: _is_number(value) and 0 < value <= 1, "a number in (0, 1]"),
    "seed": (lambda value: value is None or _is_int(value), "a whole number or null"),
    "top_k": (lambda value: value is None or (_is_int(value) and value >= 1), "a whole number of at least 1 or null"),
    "stop": (
        lambda value: isinstance(value, list | tuple) and all(isinstance(s, str) and s for s in value),
        "a list of non-empty strings",
    ),
}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sampling(values: Mapping[str, Any]) -> SamplingParams:
    known = {f.name for f in dataclasses.fields(SamplingParams)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise MethodConfigError(f"sampling.{unknown[0]}", "unknown sampling setting")
    for name, value in values.items():
        accepts, description = _SAMPLING_RULES[name]
        if not accepts(value):
            raise MethodConfigError(f"sampling.{name}", f"must be {description}")
    values = dict(values)
    if isinstance(values.get("stop"), list):
        values["stop"] = tuple(values["stop"])
    return SamplingParams(**values)


def config_parameters(config: Any) -> dict[str, Any]:
    """Return a configuration as JSON-safe parameters (tuples become lists), the inverse of build_config."""
    return _json_safe(dataclasses.asdict(config))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value
