"""The agreement protocol as pure decisions: which label becomes final, and when people are still needed.

No Django here: the service in `annotations.services.agreement` reads rows, asks these functions what
to do, and writes the result. Labels follow ProcessBench's convention (0-based earliest error step,
-1 = all steps correct).

Protocol (per dataset):
- `annotations_per_solution` (k) people label each solution; k equal labels -> final (`unanimous`).
- `agreement_mode="add_annotators"`: on disagreement, ask more people until one label has k votes
  (`majority`); once `max_annotations` are in, or once k votes can no longer be reached within the
  maximum, apply `on_max_reached` (`discard`, as ProcessBench did, or `review`).
- `agreement_mode="review"`: any disagreement goes straight to a reviewer.
- A solution whose final answer is known to be wrong cannot end as "all correct" (-1): such a result
  is sent to review instead.
"""

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol as Structural

ALL_CORRECT = -1
AUDIT_SEED = "prmweb-triage-audit-v1"


class Outcome(StrEnum):
    WAIT = "wait"  # more annotations are wanted
    FINAL = "final"
    REVIEW = "review"
    DISCARD = "discard"


class TriageOutcome(StrEnum):
    AUTO_ACCEPT = "auto_accept"
    TO_HUMANS = "to_humans"


@dataclass(frozen=True)
class Protocol:
    """A dataset's agreement settings, as plain data."""

    annotations_per_solution: int = 3
    max_annotations: int = 5
    agreement_mode: str = "add_annotators"  # or "review"
    on_max_reached: str = "discard"  # or "review"

    def __post_init__(self) -> None:
        if self.annotations_per_solution < 1:
            raise ValueError("annotations_per_solution: must be at least 1.")
        if self.max_annotations < self.annotations_per_solution:
            raise ValueError("max_annotations: must be at least annotations_per_solution.")
        if self.agreement_mode not in ("add_annotators", "review"):
            raise ValueError(f"agreement_mode: unknown mode {self.agreement_mode!r}.")
        if self.on_max_reached not in ("discard", "review"):
            raise ValueError(f"on_max_reached: unknown action {self.on_max_reached!r}.")


class ProtocolSettings(Structural):
    """Anything holding a protocol's four settings (a Dataset row does)."""

    annotations_per_solution: int
    max_annotations: int
    agreement_mode: str
    on_max_reached: str


def protocol_for(settings: ProtocolSettings) -> Protocol:
    """Return the agreement settings of a dataset as a pure `Protocol`."""
    return Protocol(
        annotations_per_solution=settings.annotations_per_solution,
        max_annotations=settings.max_annotations,
        agreement_mode=settings.agreement_mode,
        on_max_reached=settings.on_max_reached,
    )


@dataclass(frozen=True)
class Decision:
    """What the protocol makes of the labels a solution has so far.

    `required_annotations` is how many annotations the protocol wants in total right now: k before the
    first decision, more after a disagreement (at most `max_annotations`), and the current count once
    the outcome is terminal. `label`, `source` and `agreement` are set only for `Outcome.FINAL`.
    """

    outcome: Outcome
    required_annotations: int
    reason: str
    label: int | None = None
    source: str | None = None  # "unanimous" or "majority"
    agreement: float | None = None

    def final_choice(self) -> tuple[int, str]:
        """Return the label and source of a FINAL decision; ValueError for any other decision."""
        if self.outcome is not Outcome.FINAL or self.label is None or self.source is None:
            raise ValueError(f"A {self.outcome} decision has no final label.")
        return self.label, self.source


@dataclass(frozen=True)
class TriageDecision:
    outcome: TriageOutcome
    reason: str
    label: int | None = None

    def accepted_label(self) -> int:
        """Return the label of an AUTO_ACCEPT decision; ValueError for any other decision."""
        if self.outcome is not TriageOutcome.AUTO_ACCEPT or self.label is None:
            raise ValueError(f"A {self.outcome} triage decision accepts no label.")
        return self.label


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _describe(label: int) -> str:
    return "all steps correct" if label == ALL_CORRECT else f"step {label + 1}"


def _leader(labels: Sequence[int]) -> tuple[int | None, int]:
    """Return the label with the most votes and its count; the label is None when the top is tied."""
    counts = Counter(labels).most_common()
    if not counts:
        return None, 0
    top_label, top_count = counts[0]
    if len(counts) > 1 and counts[1][1] == top_count:
        return None, top_count
    return top_label, top_count


def _final(label: int, source: str, labels: Sequence[int], final_answer_correct: bool | None) -> Decision:
    """Return the final decision for `label`, unless it says "all correct" about a wrong final answer."""
    votes = sum(1 for value in labels if value == label)
    if label == ALL_CORRECT and final_answer_correct is False:
        return Decision(
            Outcome.REVIEW,
            len(labels),
            f"{votes} of {len(labels)} annotators say all steps are correct, but the final answer is wrong.",
        )
    reason = f"{votes} of {_plural(len(labels), 'annotator')} agree on {_describe(label)}."
    return Decision(Outcome.FINAL, len(labels), reason, label, source, votes / len(labels))


def _max_reached(protocol: Protocol, labels: Sequence[int], why: str) -> Decision:
    outcome = Outcome.DISCARD if protocol.on_max_reached == "discard" else Outcome.REVIEW
    return Decision(outcome, len(labels), why)


def decide(protocol: Protocol, labels: Sequence[int], *, final_answer_correct: bool | None = None) -> Decision:
    """Return what the protocol does with a solution whose annotations carry `labels` (any order)."""
    k = protocol.annotations_per_solution
    count = len(labels)
    if count < k:
        return Decision(Outcome.WAIT, k, f"{_plural(count, 'annotation')} of {k} so far.")
    leader, votes = _leader(labels)
    if leader is not None and votes == count:
        return _final(leader, "unanimous", labels, final_answer_correct)
    if protocol.agreement_mode == "review":
        return Decision(Outcome.REVIEW, count, f"The {count} annotators disagree.")
    if leader is not None and votes >= k:
        return _final(leader, "majority", labels, final_answer_correct)
    if count >= protocol.max_annotations:
        return _max_reached(protocol, labels, f"No label reached {k} votes within {protocol.max_annotations}.")
    needed = count + (k - votes)
    if needed > protocol.max_annotations:
        return _max_reached(
            protocol, labels, f"No label can reach {k} votes within {protocol.max_annotations} annotations."
        )
    more = _plural(needed - count, "more annotator")
    return Decision(Outcome.WAIT, needed, f"The {count} annotators disagree; asking for {more}.")


def required_annotations(protocol: Protocol, labels: Sequence[int], *, final_answer_correct: bool | None = None) -> int:
    """Return how many annotations an open solution wants in total.

    An open solution whose labels already yield a terminal decision was reopened by a reviewer for
    another opinion: it wants one more annotation than it has.
    """
    decision = decide(protocol, labels, final_answer_correct=final_answer_correct)
    if decision.outcome is Outcome.WAIT:
        return decision.required_annotations
    return len(labels) + 1


def is_audit_sample(solution_id: int, audit_rate: float, *, seed: str = AUDIT_SEED) -> bool:
    """Return whether a solution belongs to the audit sample (stable for a given id, rate and seed).

    The sha256 of "seed:id" is read as a number in [0, 1); the solution is audited when it falls under
    `audit_rate`, so about that share of solutions is picked and the pick never changes between runs.
    """
    if not 0.0 <= audit_rate <= 1.0:
        raise ValueError("audit_rate: must be between 0 and 1.")
    digest = hashlib.sha256(f"{seed}:{solution_id}".encode()).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    return position < audit_rate


def triage(
    *,
    triage_mode: str,
    consensus_label: int | None,
    audited: bool,
    final_answer_correct: bool | None = None,
) -> TriageDecision:
    """Return whether machine consensus settles a solution or people must label it.

    `consensus_label` is the label of a succeeded `consensus` suggestion, or None when the machines
    disagree or have not both answered yet.
    """
    if triage_mode == "all":
        return TriageDecision(TriageOutcome.TO_HUMANS, "The dataset sends every solution to people.")
    if triage_mode != "disagreement_only":
        raise ValueError(f"triage_mode: unknown mode {triage_mode!r}.")
    if consensus_label is None:
        return TriageDecision(TriageOutcome.TO_HUMANS, "The machines have no consensus.")
    if consensus_label == ALL_CORRECT and final_answer_correct is False:
        return TriageDecision(
            TriageOutcome.TO_HUMANS, "The machines say all steps are correct, but the final answer is wrong."
        )
    if audited:
        return TriageDecision(TriageOutcome.TO_HUMANS, "Audit sample: people check the machine consensus.")
    return TriageDecision(
        TriageOutcome.AUTO_ACCEPT, f"Machine consensus on {_describe(consensus_label)}.", consensus_label
    )
