"""Scoring services: every write of the scoring side (suggestions, scoring runs, enqueueing)."""

from scoring.services.consensus import consensus_derive
from scoring.services.enqueue import missing_suggestions_sweep, solutions_ingested, suggestions_enqueue
from scoring.services.outcome import RunOutcome
from scoring.services.reformat import (
    ReformatOutcome,
    reformat_enqueue,
    reformat_give_up,
    reformat_sweep,
    responses_reformat,
)
from scoring.services.run_progress import scoring_run_fail, scoring_run_record
from scoring.services.runner import suggestions_give_up, suggestions_run
from scoring.services.runs import (
    scoring_run_create,
    scoring_run_execute,
    scoring_run_start,
    scoring_run_submit,
    scoring_run_targets,
)
from scoring.services.suggestions import SuggestionValues, suggestion_upsert, suggestions_mark, suggestions_upsert

__all__ = [
    "ReformatOutcome",
    "RunOutcome",
    "SuggestionValues",
    "consensus_derive",
    "missing_suggestions_sweep",
    "reformat_enqueue",
    "reformat_give_up",
    "reformat_sweep",
    "responses_reformat",
    "scoring_run_create",
    "scoring_run_execute",
    "scoring_run_fail",
    "scoring_run_record",
    "scoring_run_start",
    "scoring_run_submit",
    "scoring_run_targets",
    "solutions_ingested",
    "suggestion_upsert",
    "suggestions_enqueue",
    "suggestions_give_up",
    "suggestions_mark",
    "suggestions_run",
    "suggestions_upsert",
]
