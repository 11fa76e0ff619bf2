"""The suggestion methods: the one table every other part of the project reads.

A method's name, title and role (what people read), queue and Celery task, engine, settings section,
options (its configuration class), batch entry point and the methods it is derived from live here and
nowhere else: settings route tasks with `scoring.tasks.route_by_method`, the task factory declares one task
per runnable method, `scoring.configuration` reads each method's settings section, the API offers the
runnable methods, and the scoring app registers the table with annotations at start-up (`scoring.apps`),
which validates datasets' `scoring_methods`, titles suggestions and finds the consensus from it.
Workers look a method up here (`get_method`), build its configuration from stored JSON parameters
(`build_config`) and record the parameters they used (`config_parameters`).
"""

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from scoring.engines.base import SamplingParams
from scoring.methods import arithmetic_config, consensus, judge, mc, prm
from scoring.methods.base import MethodConfigError, MethodResult, SolutionTask

Queue = Literal["gpu", "default"]
EngineNeed = Literal["generation", "step_scoring"]


@dataclass(frozen=True)
class MethodSpec:
    """Everything about one method.

    `role` is one sentence saying what the method does. `run` is `run(tasks, engine, config)` for
    methods that need an engine (`needs`, found under `engine_role` in SCORING_ENGINES), `run(tasks,
    config)` for the others, and None for a derived method, whose label comes from its `inputs`.
    `settings_key` names the settings section its configured options come from (`setting_names` maps
    a key of it to an option where the names differ). `rationale_title` and `rationale_open` say how
    the annotation page shows its rationale. `verdict_all_correct` and `verdict_error` (with `{step}`, 1-based)
    word its label where it can claim less than a whole verdict (empty: the plain wording). `writes_critiques`:
    its rationale is a ProcessBench critique ending in `\\boxed{k}` (the critique export and figures read it).
    """

    name: str
    title: str
    role: str
    queue: Queue
    config_class: type
    run: Callable[..., Any] | None = None
    needs: EngineNeed | None = None
    engine_role: str | None = None
    settings_key: str | None = None
    setting_names: Mapping[str, str] = field(default_factory=dict)
    inputs: tuple[str, ...] = ()
    rationale_title: str = "Details"
    rationale_open: bool = False
    verdict_all_correct: str = ""
    verdict_error: str = ""
    writes_critiques: bool = False

    @property
    def derived(self) -> bool:
        """Return whether the method is derived from other methods' suggestions instead of run."""
        return bool(self.inputs)

    @property
    def task_name(self) -> str | None:
        """Return the name of the Celery task that runs the method (None for a derived method)."""
        if self.derived:
            return None
        return f"scoring.tasks.score_gpu_{self.name}" if self.queue == "gpu" else f"scoring.tasks.score_{self.name}"


def run_arithmetic(
    tasks: Sequence[SolutionTask], config: arithmetic_config.ArithmeticConfig | None = None
) -> list[MethodResult]:
    """Run `scoring.methods.arithmetic.check`, importing it (and SymPy) on first use, not with the table."""
    from scoring.methods.arithmetic import check

    return check(tasks, config)


_SPECS = (
    MethodSpec(
        "mc",
        "Monte-Carlo estimation",
        "Samples completions from each step prefix; a step is wrong when none of them reaches the reference answer.",
        "gpu",
        mc.MCConfig,
        mc.estimate,
        needs="generation",
        engine_role="generation",
        settings_key="SCORING_MC",
    ),
    MethodSpec(
        "judge",
        "LLM judge",
        "A language model critiques the steps with ProcessBench's prompt and names the earliest wrong one.",
        "gpu",
        judge.JudgeConfig,
        judge.judge,
        needs="generation",
        engine_role="judge",
        settings_key="SCORING_JUDGE",
        setting_names={"TEMPLATE": "template_path"},
        rationale_title="Critique",
        writes_critiques=True,
        rationale_open=True,
    ),
    MethodSpec(
        "prm",
        "Process reward model",
        "A process reward model scores every step; the earliest step under the threshold is the error.",
        "gpu",
        prm.PRMConfig,
        prm.score,
        needs="step_scoring",
        engine_role="prm",
        settings_key="SCORING_PRM",
    ),
    MethodSpec(
        "arithmetic",
        "Arithmetic check",
        "SymPy checks the explicit arithmetic of every step; no model, it runs anywhere.",
        "default",
        arithmetic_config.ArithmeticConfig,
        run_arithmetic,
        verdict_all_correct="No arithmetic slip in the checked claims",
        verdict_error="First arithmetic slip at step {step}; an earlier step may hold another kind of error",
    ),
    MethodSpec(
        consensus.METHOD,
        "Consensus (MC and judge)",
        "The label mc and judge agree on; no label when they disagree (then people decide).",
        "default",
        consensus.ConsensusConfig,
        inputs=consensus.INPUTS,
    ),
)
METHODS: dict[str, MethodSpec] = {spec.name: spec for spec in _SPECS}


def is_derived(name: str) -> bool:
    """Return whether `name` is a known method derived from others (consensus)."""
    spec = METHODS.get(name)
    return spec is not None and spec.derived


def runnable_methods() -> list[MethodSpec]:
    """Return the methods that run over solutions (each has a Celery task), in table order."""
    return [spec for spec in METHODS.values() if not spec.derived]


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


def parameters_from_settings(spec: MethodSpec, section: Mapping[str, Any], *, seed: int | None) -> dict[str, Any]:
    """Return a method's JSON parameters from its settings section (e.g. SCORING_MC) for `build_config`.

    A key names an option in upper case (`ROLLOUTS_PER_STEP`), or a sampling setting (`MAX_TOKENS`,
    `TEMPERATURE`, `TOP_P`: they go under `sampling`, with `seed`), or is renamed by `setting_names`.
    An empty string stands for an option whose default is None. Unknown keys raise MethodConfigError.
    """
    options = {item.name: item for item in dataclasses.fields(spec.config_class)}
    sampling_names = {item.name for item in dataclasses.fields(SamplingParams)}
    parameters: dict[str, Any] = {}
    sampling: dict[str, Any] = {}
    for key, value in section.items():
        name = spec.setting_names.get(key, key.lower())
        if name in options and name != "sampling":
            parameters[name] = None if value == "" and options[name].default is None else value
        elif "sampling" in options and name in sampling_names:
            sampling[name] = value
        else:
            raise MethodConfigError(key, f"{spec.settings_key} has no such setting for method {spec.name!r}")
    if sampling:
        parameters["sampling"] = {**sampling, "seed": seed}
    return parameters


def config_parameters(config: Any) -> dict[str, Any]:
    """Return a configuration as JSON-safe parameters (tuples become lists), the inverse of build_config."""
    return _json_safe(dataclasses.asdict(config))


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value
