"""The method configurations the settings produce: chat prompts, run_eval voting, budgets and stop strings."""

import pytest

from prmweb.errors import ApplicationError
from scoring.configuration import method_configuration


def test_default_settings_give_the_reference_protocols():
    mc = method_configuration("mc").parameters
    judge = method_configuration("judge").parameters
    prm = method_configuration("prm").parameters

    assert (mc["prompt_format"], mc["system_prompt"]) == (
        "chat",
        "Please reason step by step, and put your final answer within \\boxed{}.",
    )
    assert mc["sampling"]["stop"] == ["<|im_end|>", "<|endoftext|>", "<|im_start|>"]
    assert (mc["strategy"], mc["confirm"], mc["hard_label_only"], mc["rollouts_per_step"]) == ("binary", True, False, 8)
    assert judge["sampling"] == {
        "n": 1,
        "max_tokens": 8192,
        "temperature": 0.0,
        "top_p": 1.0,
        "seed": 0,
        "stop": [],
        "top_k": None,
    }
    assert (judge["prompt_format"], judge["voting"], judge["template_path"]) == ("chat", "processbench", None)
    assert prm == {"threshold": 0.5, "prompt_format": "chat"}


def test_settings_choose_text_prompts_top_k_and_the_old_voting_rule(settings):
    settings.SCORING_MC = {**settings.SCORING_MC, "PROMPT_FORMAT": "text", "STOP": ["\n\nProblem:"]}
    settings.SCORING_JUDGE = {**settings.SCORING_JUDGE, "TOP_K": 20, "VOTING": "parseable_majority"}
    settings.SCORING_PRM = {**settings.SCORING_PRM, "PROMPT_FORMAT": "text"}

    mc = method_configuration("mc")
    judge = method_configuration("judge")

    assert (mc.parameters["prompt_format"], mc.parameters["sampling"]["stop"]) == ("text", ["\n\nProblem:"])
    assert (judge.parameters["sampling"]["top_k"], judge.parameters["voting"]) == (20, "parseable_majority")
    assert method_configuration("prm").parameters["prompt_format"] == "text"
    assert mc.config_key != method_configuration("mc", {"prompt_format": "chat"}).config_key


def test_a_bad_setting_is_an_error_naming_the_field(settings):
    settings.SCORING_JUDGE = {**settings.SCORING_JUDGE, "VOTING": "mean"}

    with pytest.raises(ApplicationError) as raised:
        method_configuration("judge")

    assert raised.value.errors == {"parameters.voting": ["must be one of processbench, parseable_majority, not 'mean'"]}
