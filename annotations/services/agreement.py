"""Apply the dataset's agreement protocol and triage to solutions (the decisions live in `annotations.protocol`).

Entry points for other parts of the project:
- `solution_evaluate(solution_id=...)`: recount and decide (label imports and gold changes call it);
  the workbench's submit service calls `solution_evaluate_locked` inside its transaction after every
  submitted or changed annotation, on the row it has locked.
- `solution_required_annotations(solution)`: how many annotations the protocol wants now; the
  workbench's queue serves a solution while its annotation count (plus live claims) is below it.
- `solution_triage(solution_id=...)`: scoring calls it after it stores or changes a solution's
  `consensus` suggestion.

Race safety: every writer locks the solution row (`SELECT ... FOR UPDATE`) before reading the
annotations and deciding, so concurrent submits that race to finalize produce exactly one final label.
"""

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count, Subquery, Value
from django.db.models.functions import Coalesce

from annotations import protocol, suggestion_methods
from annotations.models import (
    Annotation,
    Dataset,
    FinalLabel,
    FinalLabelSource,
    Solution,
    SolutionStatus,
    Suggestion,
    SuggestionStatus,
)
from annotations.services.final_labels import annotators_critique, final_label_clear, final_label_write, judge_critique
from annotations.services.locks import solution_lock


def _labels(solution: Solution) -> list[int]:
    return list(
        Annotation.objects.filter(solution=solution).order_by("id").values_list("earliest_error_step", flat=True)
    )


def solution_required_annotations(solution: Solution) -> int:
    """Return how many annotations the protocol wants for this solution in total, now.

    k (`annotations_per_solution`) until k are in; after a disagreement under `add_annotators`, enough
    more for one label to reach k votes (never above `max_annotations`). Solutions that are not open,
    need no people (triage) or are gold want no more than they have. Costs no query while fewer than k
    annotations are in (load the solution with `select_related("dataset")`), one query otherwise.
    """
    if solution.status != SolutionStatus.OPEN or not solution.needs_humans or solution.is_gold:
        return solution.annotation_count
    dataset = solution.dataset
    if solution.annotation_count < dataset.annotations_per_solution:
        return dataset.annotations_per_solution
    return protocol.required_annotations(
        protocol.protocol_for(dataset), _labels(solution), final_answer_correct=solution.final_answer_correct
    )


@transaction.atomic
def solution_evaluate(*, solution_id: int) -> Solution:
    """Recount the solution's annotations and apply the protocol: finalize, send to review, or discard.

    Side effects (under the solution row lock): `annotation_count` is refreshed; an open solution may
    get a final label (`unanimous`/`majority`, replacing an `imported` one, with a history row, and the
    agreeing annotators' explanation and error type: `annotators_critique`), move to
    `needs_review`, or be discarded (its final label removed, with a history row). Solutions that are
    not open, and gold solutions (whose imported label is the truth), only get their count refreshed.
    Idempotent: calling it again with the same annotations changes nothing.
    """
    return _evaluate(solution_lock(solution_id=solution_id))


def solution_evaluate_locked(*, solution: Solution, annotation_count: int) -> Solution:
    """Apply the protocol as `solution_evaluate` to a solution the caller has locked (dataset loaded).

    `annotation_count`: how many annotations the caller's own writes leave on it. While the protocol
    cannot decide (the solution is not open, is gold, or has fewer than k annotations) one statement
    stores the count, recounted from the annotation table; otherwise as `solution_evaluate`.
    """
    deciding = solution.status == SolutionStatus.OPEN and not solution.is_gold
    if deciding and annotation_count >= solution.dataset.annotations_per_solution:
        return _evaluate(solution)
    counted = Annotation.objects.filter(solution_id=solution.pk).order_by().values("solution_id")
    recount = Coalesce(Subquery(counted.annotate(n=Count("pk")).values("n")), Value(0))
    Solution.objects.filter(pk=solution.pk).update(annotation_count=recount)
    solution.annotation_count = annotation_count
    return solution


def _evaluate(solution: Solution) -> Solution:
    labels = _labels(solution)
    solution.annotation_count = len(labels)
    if solution.status != SolutionStatus.OPEN or solution.is_gold:
        solution.save(update_fields=["annotation_count"])
        return solution
    dataset = solution.dataset
    decision = protocol.decide(
        protocol.protocol_for(dataset), labels, final_answer_correct=solution.final_answer_correct
    )
    if decision.outcome is protocol.Outcome.FINAL:
        label, source = decision.final_choice()
        final_label_write(
            solution=solution,
            label=label,
            source=source,
            agreement=decision.agreement,
            reason=decision.reason,
            critique=annotators_critique(solution=solution, label=label),
        )
        solution.status = SolutionStatus.FINAL
    elif decision.outcome is protocol.Outcome.REVIEW:
        solution.status = SolutionStatus.NEEDS_REVIEW
    elif decision.outcome is protocol.Outcome.DISCARD:
        final_label_clear(solution=solution, reason=f"Discarded: {decision.reason}")
        solution.status = SolutionStatus.DISCARDED
    solution.save(update_fields=["annotation_count", "status"])
    return solution


def _consensus_label(solution: Solution) -> int | None:
    method = suggestion_methods.triage_method()
    if method is None:
        return None
    consensus = (
        Suggestion.objects.filter(
            solution=solution, method=method.name, status=SuggestionStatus.SUCCEEDED, label__isnull=False
        )
        .order_by("-updated_at", "-id")
        .first()
    )
    return consensus.label if consensus is not None else None


def _triage_settled(solution: Solution, final: FinalLabel | None) -> bool:
    """Return True when people own the solution's outcome, so triage must leave it alone."""
    auto = final is not None and final.source == FinalLabelSource.CONSENSUS_AUTO
    if solution.is_gold:
        return True
    if solution.status == SolutionStatus.FINAL:
        return not auto
    if solution.status != SolutionStatus.OPEN:
        return True
    return Annotation.objects.filter(solution=solution).exists()


@transaction.atomic
def solution_triage(*, solution_id: int) -> Solution:
    """Decide from machine consensus whether people must label the solution (`triage_mode`).

    With `disagreement_only`, a solution whose `consensus` suggestion has a label gets a `consensus_auto`
    final label (with the agreeing judge critique as its explanation, provenance `judge`), status `final`
    and `needs_humans=False`, unless it falls in the dataset's audit sample
    (`audit_rate`, stable per solution id) or the machines call a wrong final answer "all correct".
    An auto-accepted solution whose consensus later disappears (or whose dataset now sends everything
    to people) is reopened for people, with a history row. Solutions people have started, reviewed,
    finalized or discarded, and gold solutions, are left alone. Idempotent.
    """
    solution = solution_lock(solution_id=solution_id)
    final = FinalLabel.objects.filter(solution=solution).first()
    if _triage_settled(solution, final):
        return solution
    dataset = Dataset.objects.get(pk=solution.dataset_id)
    decision = protocol.triage(
        triage_mode=dataset.triage_mode,
        consensus_label=_consensus_label(solution),
        audited=protocol.is_audit_sample(solution.pk, dataset.audit_rate),
        final_answer_correct=solution.final_answer_correct,
    )
    if decision.outcome is protocol.TriageOutcome.AUTO_ACCEPT:
        final_label_write(
            solution=solution,
            label=decision.accepted_label(),
            source=FinalLabelSource.CONSENSUS_AUTO,
            reason=decision.reason,
            critique=judge_critique(solution=solution, label=decision.accepted_label()),
        )
        solution.status = SolutionStatus.FINAL
        solution.needs_humans = False
    else:
        if final is not None and final.source == FinalLabelSource.CONSENSUS_AUTO:
            final_label_clear(solution=solution, reason=f"Back to people: {decision.reason}")
        solution.status = SolutionStatus.OPEN
        solution.needs_humans = True
    solution.save(update_fields=["status", "needs_humans"])
    return solution


def dataset_triage(*, dataset: Dataset, solution_ids: Iterable[int] | None = None) -> int:
    """Apply triage to the dataset's open and auto-accepted solutions (e.g. after its triage settings change).

    Each solution is handled in its own short transaction. Return how many solutions were looked at.
    """
    if solution_ids is None:
        candidates = Solution.objects.filter(
            dataset=dataset, status__in=[SolutionStatus.OPEN, SolutionStatus.FINAL], annotation_count=0
        ).values_list("id", flat=True)
        solution_ids = list(candidates.order_by("id"))
    seen = 0
    for solution_id in solution_ids:
        solution_triage(solution_id=solution_id)
        seen += 1
    return seen
