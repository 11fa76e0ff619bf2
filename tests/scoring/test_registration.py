"""At start-up the scoring app tells annotations which suggestion methods exist: the registry's, as written there."""

from annotations import suggestion_methods
from annotations.services.ingestion import waits_for_machine_consensus
from scoring.methods.registry import METHODS
from tests.factories import DatasetFactory


def test_annotations_sees_each_method_of_the_registry_with_its_title_role_and_inputs():
    assert suggestion_methods.method_names() == ("mc", "judge", "prm", "arithmetic", "consensus")
    for spec in METHODS.values():
        assert suggestion_methods.method_get(spec.name) == suggestion_methods.SuggestionMethod(
            name=spec.name,
            title=spec.title,
            role=spec.role,
            inputs=spec.inputs,
            rationale_title=spec.rationale_title,
            rationale_open=spec.rationale_open,
            verdict_all_correct=spec.verdict_all_correct,
            verdict_error=spec.verdict_error,
            writes_critiques=spec.writes_critiques,
        )
    assert suggestion_methods.method_get("judge").rationale_title == "Critique"
    consensus = suggestion_methods.triage_method()
    assert (consensus.name, consensus.inputs) == ("consensus", ("mc", "judge"))


def test_new_solutions_wait_for_triage_only_when_the_consensus_inputs_are_configured(db):
    both = DatasetFactory(triage_mode="disagreement_only", scoring_methods=["judge", "mc"])
    one = DatasetFactory(triage_mode="disagreement_only", scoring_methods=["judge", "prm"])
    everything = DatasetFactory(triage_mode="all", scoring_methods=["mc", "judge"])
    assert [waits_for_machine_consensus(d) for d in (both, one, everything)] == [True, False, False]
