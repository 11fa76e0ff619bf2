"""Consensus of the `mc` and `judge` suggestions (the consensus filtering of the Qwen PRM work).

Both succeeded with the same label (both -1, or the same step) -> that label. Both succeeded but
disagree -> status "succeeded" with label None and `details["consensus"] = False` (the database allows a
label-less succeeded suggestion only for method "consensus"). An input that is missing or did not
succeed -> status "skipped" with the reason, so the consensus is derived again once it exists.
"""

from scoring.methods.base import MethodResult

METHOD = "consensus"
INPUTS = ("mc", "judge")


def _describe(label: int) -> str:
    return "all steps correct" if label == -1 else f"step {label + 1} (index {label}) is the earliest error"


def _missing_reason(name: str, result: MethodResult | None) -> str | None:
    if result is None:
        return f"no {name} suggestion yet"
    if result.status != "succeeded" or result.label is None:
        detail = f": {result.error}" if result.error else ""
        return f"{name} suggestion {result.status}{detail}"
    return None


def derive(mc: MethodResult | None, judge: MethodResult | None, solution_id: int) -> MethodResult:
    """Return the consensus suggestion of one solution from its mc and judge suggestions."""
    reasons = [r for r in (_missing_reason("mc", mc), _missing_reason("judge", judge)) if r]
    if reasons or mc is None or judge is None or mc.label is None or judge.label is None:
        return MethodResult(solution_id=solution_id, status="skipped", error="; ".join(reasons))
    labels = {"mc_label": mc.label, "judge_label": judge.label}
    if mc.label == judge.label:
        return MethodResult(
            solution_id=solution_id,
            status="succeeded",
            label=mc.label,
            rationale=f"mc and judge agree: {_describe(mc.label)}.",
            details={"consensus": True, **labels},
        )
    reason = f"mc says {_describe(mc.label)}; judge says {_describe(judge.label)}"
    return MethodResult(
        solution_id=solution_id,
        status="succeeded",
        label=None,
        rationale=f"No consensus: {reason}.",
        details={"consensus": False, "reason": reason, **labels},
    )
