"""Derive the `consensus` suggestion of solutions from their latest finished `mc` and `judge` suggestions."""

import logging
from collections.abc import Sequence

from annotations.services.agreement import solution_triage
from scoring.configuration import method_configuration
from scoring.methods import consensus
from scoring.selectors import latest_results, solutions_for_scoring, suggestions_by_solution
from scoring.services.suggestions import SuggestionValues, suggestions_upsert

logger = logging.getLogger(__name__)


def consensus_derive(*, solution_ids: Sequence[int]) -> list[int]:
    """Store a consensus suggestion for each solution whose mc and judge suggestions are both finished.

    Agreement gives that label; disagreement gives a succeeded suggestion without a label ("no
    consensus"); a failed or skipped input gives a skipped consensus with the reason. Solutions whose
    consensus changed are triaged again (`annotations.services.agreement.solution_triage`). Idempotent.
    Return the ids of the solutions whose consensus was written.
    """
    configuration = method_configuration(consensus.METHOD)
    mc_results = latest_results(method="mc", solution_ids=solution_ids)
    judge_results = latest_results(method="judge", solution_ids=solution_ids)
    ready = [pk for pk in solution_ids if pk in mc_results and pk in judge_results]
    if not ready:
        return []
    previous = suggestions_by_solution(method=consensus.METHOD, config_key=configuration.config_key, solution_ids=ready)
    rows: list[SuggestionValues] = []
    for solution in solutions_for_scoring(ready):
        (mc_row, mc_result), (judge_row, judge_result) = mc_results[solution.pk], judge_results[solution.pk]
        result = consensus.derive(mc_result, judge_result, solution.pk)
        rows.append(
            SuggestionValues(
                solution_id=solution.pk,
                step_count=solution.num_steps,
                status=result.status,
                label=result.label,
                rationale=result.rationale,
                error=result.error,
                engine="derived",
                parameters={
                    "config": configuration.parameters,
                    "details": result.details,
                    "inputs": {"mc": mc_row.pk, "judge": judge_row.pk},
                },
            )
        )
    suggestions_upsert(method=consensus.METHOD, config_key=configuration.config_key, rows=rows)
    changed = [
        row.solution_id
        for row in rows
        if row.solution_id not in previous
        or (previous[row.solution_id].status, previous[row.solution_id].label) != (row.status, row.label)
    ]
    for solution_id in changed:
        solution_triage(solution_id=solution_id)
    return [row.solution_id for row in rows]
