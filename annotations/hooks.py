"""The one named hook through which ingestion hands new work to scoring (no import of scoring here)."""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def notify_solutions_ingested(*, dataset_id: int, solution_ids: Sequence[int]) -> None:
    """Call the configured hook with new solution ids; never let its failure undo stored solutions.

    Runs after the ingestion transaction commits. A broker outage here is logged and left to the
    periodic sweep, which re-enqueues solutions whose configured suggestions are missing.
    """
    hook_path = getattr(settings, "PRMWEB_SOLUTIONS_INGESTED_HOOK", "")
    if not hook_path or not solution_ids:
        return
    try:
        hook = import_string(hook_path)
        hook(dataset_id=dataset_id, solution_ids=list(solution_ids))
    except Exception:  # the solutions are stored; the sweep will enqueue what this missed
        logger.exception("could not enqueue scoring for %d new solutions of dataset %s", len(solution_ids), dataset_id)
