"""Derive the `consensus` suggestion of solutions from the latest finished suggestions of its inputs (mc, judge)."""

import logging
from collections.abc import Sequence

from annotations.models import DERIVED_ENGINE
from annotations.services.agreement import solution_triage
from scoring.configuration import method_configuration
from scoring.methods import consensus, registry
from scoring.selectors import latest_results, solutions_for_scoring, suggestions_by_solution
from scoring.services.suggestions import SuggestionValues, suggestions_upsert

logger = logging.getLogger(__name__)


def consensus_derive(*, solution_ids: Sequence[int]) -> list[int]:
    """Store a consensus suggestion for each solution whose input suggestions (mc, judge) are all finished.

    Agreement gives that label; disagreement gives a succeeded suggestion without a label ("no
    consensus"); a failed or skipped input gives a skipped consensus with the reason. Solutions whose
    consensus changed are triaged again (`annotations.services.agreement.solution_triage`). Idempotent.
    Return the ids of the solutions whose consensus was written.
    """
    configuration = method_configuration(consensus.METHOD)
    inputs = registry.get_method(consensus.METHOD).inputs
    results = {name: latest_results(method=name, solution_ids=solution_ids) for name in inputs}
    ready = [pk for pk in solution_ids if all(pk in results[name] for name in inputs)]
    if not ready:
        return []
    previous = suggestions_by_solution(method=consensus.METHOD, config_key=configuration.config_key, solution_ids=ready)
    rows: list[SuggestionValues] = []
    for solution in solutions_for_scoring(ready):
        found = {name: results[name][solution.pk] for name in inputs}
        result = consensus.derive([(name, found[name][1]) for name in inputs], solution.pk)
        rows.append(
            SuggestionValues(
                solution_id=solution.pk,
                step_count=solution.num_steps,
                status=result.status,
                label=result.label,
                rationale=result.rationale,
                error=result.error,
                engine=DERIVED_ENGINE,
                parameters={
                    "config": configuration.parameters,
                    "details": result.details,
                    "inputs": {name: row.pk for name, (row, _result) in found.items()},
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
