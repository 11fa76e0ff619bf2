"""Consensus of mc and judge: agreement, disagreement and missing inputs."""

from scoring.methods.base import MethodResult
from scoring.methods.consensus import derive


def ok(label: int) -> MethodResult:
    return MethodResult(solution_id=5, status="succeeded", label=label)


def test_same_error_step_is_the_consensus_label():
    result = derive([("mc", ok(2)), ("judge", ok(2))], solution_id=5)

    assert (result.status, result.label) == ("succeeded", 2)
    assert result.details == {"consensus": True, "mc_label": 2, "judge_label": 2}
    assert result.rationale == "mc and judge agree: step 3 (index 2) is the earliest error."


def test_both_all_correct_is_the_consensus_label():
    result = derive([("mc", ok(-1)), ("judge", ok(-1))], solution_id=5)

    assert (result.status, result.label) == ("succeeded", -1)
    assert result.rationale == "mc and judge agree: all steps correct."


def test_disagreement_is_a_labelless_success_with_the_reason():
    result = derive([("mc", ok(1)), ("judge", ok(-1))], solution_id=5)

    assert (result.status, result.label) == ("succeeded", None)
    assert result.details["consensus"] is False
    assert result.details["reason"] == "mc says step 2 (index 1) is the earliest error; judge says all steps correct"
    assert result.rationale.startswith("No consensus: mc says step 2")


def test_missing_suggestion_is_skipped_with_the_reason():
    result = derive([("mc", None), ("judge", ok(1))], solution_id=5)

    assert (result.status, result.label, result.error) == ("skipped", None, "no mc suggestion yet")


def test_unsuccessful_inputs_are_skipped_with_their_errors():
    mc = MethodResult(solution_id=5, status="skipped", error="no reference answer")
    judge = MethodResult(solution_id=5, status="failed", error="unparseable critique")

    result = derive([("mc", mc), ("judge", judge)], solution_id=5)

    assert result.status == "skipped"
    assert result.error == "mc suggestion skipped: no reference answer; judge suggestion failed: unparseable critique"


def test_the_inputs_are_named_by_the_caller_in_order():
    result = derive([("judge", ok(0)), ("prm", ok(3))], solution_id=5)

    assert result.details == {"consensus": False, "reason": result.details["reason"], "judge_label": 0, "prm_label": 3}
    assert result.rationale == (
        "No consensus: judge says step 1 (index 0) is the earliest error; "
        "prm says step 4 (index 3) is the earliest error."
    )
