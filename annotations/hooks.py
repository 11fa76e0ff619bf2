"""The named hooks through which annotations hands new work to scoring (no import of scoring here).

Both are dotted paths in settings, called after the ingestion transaction commits:
`PRMWEB_SOLUTIONS_INGESTED_HOOK` with the ids of solutions whose steps are ready (scoring enqueues the
dataset's suggestion methods), and `PRMWEB_REFORMAT_HOOK` with the ids of responses sent with
`segmentation: "reformat"` (scoring asks the judge to re-split them).
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


def _call(setting: str, what: str, *, dataset_id: int, solution_ids: Sequence[int]) -> None:
    hook_path = getattr(settings, setting, "")
    if not hook_path or not solution_ids:
        return
    try:
        hook = import_string(hook_path)
        hook(dataset_id=dataset_id, solution_ids=list(solution_ids))
    except Exception:  # the solutions are stored; the sweep will enqueue what this missed
        logger.exception("could not enqueue %s for %d solutions of dataset %s", what, len(solution_ids), dataset_id)


def notify_solutions_ingested(*, dataset_id: int, solution_ids: Sequence[int]) -> None:
    """Call the configured hook with solutions ready for scoring; never let its failure undo stored solutions.

    Runs after the transaction that stored them (or gave them their steps) commits. A broker outage here
    is logged and left to the periodic sweep, which re-enqueues solutions whose configured suggestions
    are missing.
    """
    _call("PRMWEB_SOLUTIONS_INGESTED_HOOK", "scoring", dataset_id=dataset_id, solution_ids=solution_ids)


def reformat_available() -> bool:
    """Return whether a reformat hook is configured (else `segmentation: "reformat"` is refused at ingestion)."""
    return bool(getattr(settings, "PRMWEB_REFORMAT_HOOK", ""))


def request_reformat(*, dataset_id: int, solution_ids: Sequence[int]) -> None:
    """Call the configured hook with solutions waiting for the judge to re-split their responses.

    Runs after the ingestion transaction commits; a failure (the broker is down) is logged and left to the
    periodic sweep, which re-sends reformats that never ran.
    """
    _call("PRMWEB_REFORMAT_HOOK", "reformatting", dataset_id=dataset_id, solution_ids=solution_ids)
