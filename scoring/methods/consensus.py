"""Consensus of the `mc` and `judge` suggestions (the consensus filtering of the Qwen PRM work).

All inputs succeeded with the same label (all -1, or the same step) -> that label. All succeeded but
disagree -> status "succeeded" with label None and `details["consensus"] = False` (the database allows a
label-less succeeded suggestion only for a derived method). An input that is missing or did not
succeed -> status "skipped" with the reason, so the consensus is derived again once it exists.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from scoring.methods.base import MethodResult

METHOD = "consensus"
INPUTS = ("mc", "judge")

Inputs = Sequence[tuple[str, MethodResult | None]]


@dataclass(frozen=True)
class ConsensusConfig:
    """Consensus has no settings; it records which suggestions it was derived from."""

    inputs: tuple[str, ...] = INPUTS


def _describe(label: int) -> str:
    return "all steps correct" if label == -1 else f"step {label + 1} (index {label}) is the earliest error"


def _missing_reason(name: str, result: MethodResult | None) -> str | None:
    if result is None:
        return f"no {name} suggestion yet"
    if result.status != "succeeded" or result.label is None:
        detail = f": {result.error}" if result.error else ""
        return f"{name} suggestion {result.status}{detail}"
    return None


def derive(inputs: Inputs, solution_id: int) -> MethodResult:
    """Return the consensus suggestion of one solution from its inputs' suggestions, as (method, result) pairs."""
    reasons = [reason for name, result in inputs if (reason := _missing_reason(name, result))]
    labels = {name: result.label for name, result in inputs if result is not None and result.label is not None}
    if reasons or len(labels) != len(inputs):
        return MethodResult(solution_id=solution_id, status="skipped", error="; ".join(reasons))
    details = {f"{name}_label": label for name, label in labels.items()}
    names = " and ".join(labels)
    if len(set(labels.values())) == 1:
        label = next(iter(labels.values()))
        return MethodResult(
            solution_id=solution_id,
            status="succeeded",
            label=label,
            rationale=f"{names} agree: {_describe(label)}.",
            details={"consensus": True, **details},
        )
    reason = "; ".join(f"{name} says {_describe(label)}" for name, label in labels.items())
    return MethodResult(
        solution_id=solution_id,
        status="succeeded",
        label=None,
        rationale=f"No consensus: {reason}.",
        details={"consensus": False, "reason": reason, **details},
    )
