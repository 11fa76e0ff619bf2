"""The pure agreement protocol: every path, plus invariants over all small label multisets."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from annotations.protocol import (
    Outcome,
    Protocol,
    TriageOutcome,
    decide,
    is_audit_sample,
    required_annotations,
    triage,
)

PROCESSBENCH = Protocol(annotations_per_solution=3, max_annotations=5, agreement_mode="add_annotators")
TO_REVIEW_AT_MAX = Protocol(annotations_per_solution=3, max_annotations=5, on_max_reached="review")
REVIEW_MODE = Protocol(annotations_per_solution=3, max_annotations=5, agreement_mode="review")


@pytest.mark.parametrize(
    "labels, outcome, required, label, source",
    [
        ([], Outcome.WAIT, 3, None, None),
        ([2], Outcome.WAIT, 3, None, None),
        ([2, 1], Outcome.WAIT, 3, None, None),
        ([2, 2, 2], Outcome.FINAL, 3, 2, "unanimous"),
        ([-1, -1, -1], Outcome.FINAL, 3, -1, "unanimous"),
        ([2, 2, 1], Outcome.WAIT, 4, None, None),
        ([2, 1, 0], Outcome.WAIT, 5, None, None),
        ([2, 2, 1, 2], Outcome.FINAL, 4, 2, "majority"),
        ([2, 2, 1, 1], Outcome.WAIT, 5, None, None),
        ([2, 2, 1, 1, 2], Outcome.FINAL, 5, 2, "majority"),
        ([2, 1, 0, 1, 1], Outcome.FINAL, 5, 1, "majority"),
        ([2, 2, 1, 1, 0], Outcome.DISCARD, 5, None, None),
        ([2, 1, 0, -1], Outcome.DISCARD, 4, None, None),  # 3 votes are out of reach within 5
        ([2, 2, 1, 0], Outcome.WAIT, 5, None, None),
    ],
)
def test_processbench_protocol(labels, outcome, required, label, source):
    decision = decide(PROCESSBENCH, labels)
    assert (decision.outcome, decision.required_annotations, decision.label, decision.source) == (
        outcome,
        required,
        label,
        source,
    )


def test_unanimous_decision_carries_full_agreement_and_a_reason():
    decision = decide(PROCESSBENCH, [1, 1, 1])
    assert decision.agreement == 1.0
    assert decision.reason == "3 of 3 annotators agree on step 2."


def test_majority_agreement_is_the_share_of_votes():
    decision = decide(PROCESSBENCH, [0, 0, 2, 0])
    assert decision.agreement == 0.75
    assert decision.reason == "3 of 4 annotators agree on step 1."


def test_disagreement_reason_says_how_many_more_are_asked():
    assert decide(PROCESSBENCH, [0, 1, 2]).reason == "The 3 annotators disagree; asking for 2 more annotators."
    assert decide(PROCESSBENCH, [0, 0, 2]).reason == "The 3 annotators disagree; asking for 1 more annotator."


@pytest.mark.parametrize(
    "labels, outcome",
    [([2, 2, 1, 1, 0], Outcome.REVIEW), ([2, 1, 0, -1], Outcome.REVIEW), ([2, 2, 1], Outcome.WAIT)],
)
def test_max_reached_goes_to_review_when_configured(labels, outcome):
    assert decide(TO_REVIEW_AT_MAX, labels).outcome is outcome


@pytest.mark.parametrize(
    "labels, outcome",
    [([2, 2, 2], Outcome.FINAL), ([2, 2, 1], Outcome.REVIEW), ([2, 1, 0], Outcome.REVIEW), ([2, 2], Outcome.WAIT)],
)
def test_review_mode_sends_any_disagreement_straight_to_review(labels, outcome):
    decision = decide(REVIEW_MODE, labels)
    assert decision.outcome is outcome
    if outcome is Outcome.REVIEW:
        assert decision.reason == "The 3 annotators disagree."


@pytest.mark.parametrize("protocol", [PROCESSBENCH, REVIEW_MODE])
@pytest.mark.parametrize("labels", [[-1, -1, -1], [-1, -1, 2, -1]])
def test_all_correct_on_a_wrong_final_answer_goes_to_review(protocol, labels):
    decision = decide(protocol, labels, final_answer_correct=False)
    assert (decision.outcome, decision.label) == (Outcome.REVIEW, None)


def test_the_wrong_final_answer_rule_explains_itself():
    decision = decide(PROCESSBENCH, [-1, -1, 2, -1], final_answer_correct=False)
    assert decision.reason == "3 of 4 annotators say all steps are correct, but the final answer is wrong."


@pytest.mark.parametrize("final_answer_correct", [True, None])
def test_all_correct_is_fine_when_the_final_answer_is_right_or_unknown(final_answer_correct):
    decision = decide(PROCESSBENCH, [-1, -1, -1], final_answer_correct=final_answer_correct)
    assert (decision.outcome, decision.label) == (Outcome.FINAL, -1)


def test_a_wrong_final_answer_does_not_block_a_step_label():
    assert decide(PROCESSBENCH, [1, 1, 1], final_answer_correct=False).label == 1


def test_k_of_one_finalizes_the_first_label():
    protocol = Protocol(annotations_per_solution=1, max_annotations=1)
    decision = decide(protocol, [4])
    assert (decision.outcome, decision.label, decision.source) == (Outcome.FINAL, 4, "unanimous")


def test_required_annotations_wants_one_more_for_a_reopened_solution():
    assert required_annotations(PROCESSBENCH, [1]) == 3
    assert required_annotations(PROCESSBENCH, [1, 1, 0]) == 4
    assert required_annotations(PROCESSBENCH, [1, 1, 1]) == 4  # decided, yet open again: another opinion


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"annotations_per_solution": 0}, "annotations_per_solution"),
        ({"annotations_per_solution": 3, "max_annotations": 2}, "max_annotations"),
        ({"agreement_mode": "vote"}, "agreement_mode"),
        ({"on_max_reached": "ignore"}, "on_max_reached"),
    ],
)
def test_invalid_protocols_name_the_field(kwargs, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        Protocol(**kwargs)


def _all_label_lists(max_len: int, values=(-1, 0, 1, 2)):
    for length in range(max_len + 1):
        yield from itertools.product(values, repeat=length)


@pytest.mark.parametrize("protocol", [PROCESSBENCH, TO_REVIEW_AT_MAX, REVIEW_MODE])
def test_invariants_hold_for_every_label_list_up_to_the_maximum(protocol):
    for labels in _all_label_lists(protocol.max_annotations):
        for final_answer_correct in (True, False, None):
            decision = decide(protocol, labels, final_answer_correct=final_answer_correct)
            if decision.outcome is Outcome.WAIT:
                assert len(labels) < decision.required_annotations <= protocol.max_annotations
                continue
            assert len(labels) >= protocol.annotations_per_solution
            if decision.outcome is Outcome.FINAL:
                assert labels.count(decision.label) >= protocol.annotations_per_solution
                assert not (decision.label == -1 and final_answer_correct is False)
            if decision.outcome is Outcome.DISCARD:
                assert protocol.on_max_reached == "discard"


@given(st.lists(st.integers(min_value=-1, max_value=6), max_size=5), st.permutations(range(5)))
def test_the_decision_does_not_depend_on_the_order_of_annotations(labels, order):
    shuffled = [labels[i] for i in order if i < len(labels)]
    assert decide(PROCESSBENCH, labels) == decide(PROCESSBENCH, shuffled)


def test_audit_sample_is_stable_and_close_to_the_rate():
    picked = [solution_id for solution_id in range(1, 10_001) if is_audit_sample(solution_id, 0.1)]
    assert 900 <= len(picked) <= 1100
    assert picked == [solution_id for solution_id in range(1, 10_001) if is_audit_sample(solution_id, 0.1)]
    assert not any(is_audit_sample(solution_id, 0.0) for solution_id in range(1, 1000))
    assert all(is_audit_sample(solution_id, 1.0) for solution_id in range(1, 1000))


def test_audit_rate_must_be_a_share():
    with pytest.raises(ValueError, match=r"^audit_rate:"):
        is_audit_sample(1, 1.5)


@pytest.mark.parametrize(
    "mode, consensus, audited, final_ok, outcome, label",
    [
        ("all", 2, False, True, TriageOutcome.TO_HUMANS, None),
        ("disagreement_only", 2, False, True, TriageOutcome.AUTO_ACCEPT, 2),
        ("disagreement_only", -1, False, None, TriageOutcome.AUTO_ACCEPT, -1),
        ("disagreement_only", None, False, True, TriageOutcome.TO_HUMANS, None),
        ("disagreement_only", 2, True, True, TriageOutcome.TO_HUMANS, None),
        ("disagreement_only", -1, False, False, TriageOutcome.TO_HUMANS, None),
        ("disagreement_only", 0, False, False, TriageOutcome.AUTO_ACCEPT, 0),
    ],
)
def test_triage(mode, consensus, audited, final_ok, outcome, label):
    decision = triage(triage_mode=mode, consensus_label=consensus, audited=audited, final_answer_correct=final_ok)
    assert (decision.outcome, decision.label) == (outcome, label)


def test_triage_rejects_unknown_modes():
    with pytest.raises(ValueError, match=r"^triage_mode:"):
        triage(triage_mode="some", consensus_label=1, audited=False)


def test_a_final_decision_gives_its_label_and_source_and_no_other_decision_does():
    assert decide(PROCESSBENCH, [2, 2, 2]).final_choice() == (2, "unanimous")
    assert decide(PROCESSBENCH, [2, 2, 1, 2]).final_choice() == (2, "majority")
    with pytest.raises(ValueError, match=r"^A review decision has no final label\.$"):
        decide(REVIEW_MODE, [2, 1, 1]).final_choice()


def test_only_an_auto_accepting_triage_gives_a_label():
    accepted = triage(triage_mode="disagreement_only", consensus_label=1, audited=False, final_answer_correct=None)
    assert accepted.accepted_label() == 1
    people = triage(triage_mode="all", consensus_label=1, audited=False, final_answer_correct=None)
    with pytest.raises(ValueError, match="triage decision accepts no label"):
        people.accepted_label()
