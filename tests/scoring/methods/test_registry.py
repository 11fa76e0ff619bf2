"""The method table and configuration round trips used by the workers."""

import pytest

from scoring.engines.base import SamplingParams
from scoring.methods import judge, mc, prm
from scoring.methods.base import MethodConfigError
from scoring.methods.registry import (
    METHODS,
    build_config,
    config_parameters,
    get_method,
    parameters_from_settings,
    run_arithmetic,
    runnable_methods,
)


def test_table_routes_model_methods_to_gpu_and_cheap_ones_to_default():
    table = {name: (spec.queue, spec.needs, spec.run) for name, spec in METHODS.items()}

    assert table == {
        "mc": ("gpu", "generation", mc.estimate),
        "judge": ("gpu", "generation", judge.judge),
        "prm": ("gpu", "step_scoring", prm.score),
        "arithmetic": ("default", None, run_arithmetic),
        "consensus": ("default", None, None),
    }
    assert METHODS["consensus"].inputs == ("mc", "judge")
    assert [spec.name for spec in runnable_methods()] == ["mc", "judge", "prm", "arithmetic"]
    assert {name: spec.task_name for name, spec in METHODS.items()} == {
        "mc": "scoring.tasks.score_gpu_mc",
        "judge": "scoring.tasks.score_gpu_judge",
        "prm": "scoring.tasks.score_gpu_prm",
        "arithmetic": "scoring.tasks.score_arithmetic",
        "consensus": None,
    }


def test_unknown_method_names_the_choices():
    with pytest.raises(MethodConfigError) as raised:
        get_method("oracle")

    assert raised.value.field == "method"
    assert raised.value.message == "unknown method 'oracle'; choose one of mc, judge, prm, arithmetic, consensus"


def test_build_config_from_json_with_nested_sampling():
    config = build_config(
        "mc",
        {
            "rollouts_per_step": 4,
            "strategy": "linear",
            "sampling": {"max_tokens": 64, "temperature": 1.0, "stop": ["\n"]},
        },
    )

    assert config == mc.MCConfig(
        rollouts_per_step=4, strategy="linear", sampling=SamplingParams(max_tokens=64, temperature=1.0, stop=("\n",))
    )


def test_config_parameters_round_trip_through_json():
    for name in METHODS:
        config = build_config(name)
        parameters = config_parameters(config)

        assert build_config(name, parameters) == config
    assert config_parameters(prm.PRMConfig(threshold=0.3)) == {"threshold": 0.3, "prompt_format": "chat"}
    assert config_parameters(mc.MCConfig())["sampling"]["stop"] == ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]


@pytest.mark.parametrize(
    ("name", "parameters", "field", "message"),
    [
        ("mc", {"rollout": 3}, "rollout", "unknown setting for method 'mc'"),
        ("mc", {"sampling": {"temp": 1}}, "sampling.temp", "unknown sampling setting"),
        ("mc", {"rollouts_per_step": "eight"}, "rollouts_per_step", "must be an integer"),
        ("mc", {"early_stop": 1}, "early_stop", "must be true or false"),
        ("prm", {"threshold": True}, "threshold", "must be a number"),
        ("prm", {"threshold": 2}, "threshold", "must be in (0, 1]"),
        ("judge", {"samples": 0}, "samples", "must be at least 1"),
        ("judge", {"sampling": {"top_k": 0}}, "sampling.top_k", "must be a whole number of at least 1 or null"),
        ("judge", {"sampling": {"max_tokens": "8k"}}, "sampling.max_tokens", "must be a whole number of at least 1"),
        ("judge", {"sampling": {"top_p": 0}}, "sampling.top_p", "must be a number in (0, 1]"),
        ("mc", {"sampling": {"stop": "<|im_end|>"}}, "sampling.stop", "must be a list of non-empty strings"),
        ("mc", {"prompt_format": "chatml"}, "prompt_format", "must be 'chat' or 'text', not 'chatml'"),
        ("mc", {"system_prompt": None}, "system_prompt", "must be a string"),
        ("judge", {"voting": "majority"}, "voting", "must be one of processbench, parseable_majority, not 'majority'"),
    ],
)
def test_bad_parameters_name_the_field(name, parameters, field, message):
    with pytest.raises(MethodConfigError) as raised:
        build_config(name, parameters)

    assert (raised.value.field, raised.value.message) == (field, message)


def test_integer_threshold_is_accepted_as_a_float():
    assert build_config("prm", {"threshold": 1}) == prm.PRMConfig(threshold=1)


def test_a_settings_section_becomes_options_and_sampling_with_the_seed():
    section = {"SAMPLES": 3, "MAX_TOKENS": 8192, "TEMPERATURE": 0.7, "TOP_P": 0.95, "TEMPLATE": ""}

    parameters = parameters_from_settings(METHODS["judge"], section, seed=11)

    assert parameters == {
        "samples": 3,
        "template_path": None,  # empty: the default prompt
        "sampling": {"max_tokens": 8192, "temperature": 0.7, "top_p": 0.95, "seed": 11},
    }
    assert build_config("judge", parameters).sampling.seed == 11
    assert parameters_from_settings(METHODS["prm"], {"THRESHOLD": 0.4}, seed=0) == {"threshold": 0.4}


def test_an_unknown_settings_key_names_the_key_and_the_section():
    with pytest.raises(MethodConfigError) as raised:
        parameters_from_settings(METHODS["mc"], {"ROLLOUTS": 4}, seed=0)

    assert (raised.value.field, raised.value.message) == ("ROLLOUTS", "SCORING_MC has no such setting for method 'mc'")
