"""Reads for `segmentation: "reformat"`: the solutions still waiting for the judge to re-split them."""

import datetime
from collections.abc import Sequence

from django.db.models import Q

from annotations.models import Solution, SolutionStatus


def solutions_waiting_for_steps(*, solution_ids: Sequence[int]) -> list[Solution]:
    """Return the solutions among the ids still waiting for their steps, with their problems, by id (one query)."""
    return list(
        Solution.objects.filter(pk__in=list(solution_ids), status=SolutionStatus.WAITING)
        .select_related("problem")
        .order_by("pk")
    )


def reformats_to_send(*, sent_before: datetime.datetime, limit: int) -> list[tuple[int, int]]:
    """Return (dataset id, solution id) of waiting solutions whose reformat could not be sent or was queued before then.

    Oldest first, at most `limit`; one query on the partial index of waiting solutions.
    """
    never_or_stale = Q(reformat_queued_at__isnull=True) | Q(reformat_queued_at__lt=sent_before)
    rows = (
        Solution.objects.filter(never_or_stale, status=SolutionStatus.WAITING)
        .order_by("pk")
        .values_list("dataset_id", "pk")[:limit]
    )
    return [(dataset_id, solution_id) for dataset_id, solution_id in rows]
