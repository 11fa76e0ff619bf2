"""Reads for the final-answer check: which solutions still wait for one."""

import datetime

from django.db.models.functions import Trim

from annotations.models import Solution, SolutionStatus


def solution_ids_without_answer_check(*, created_before: datetime.datetime, limit: int) -> list[int]:
    """Return ids (oldest first, at most `limit`) of solutions whose problem has a reference answer but no check.

    Created before `created_before` only, so checks queued a moment ago by ingestion are not sent twice; not
    those still waiting for their steps (the check runs once they have them). One query.
    """
    return list(
        Solution.objects.filter(answer_check__isnull=True, created_at__lt=created_before)
        .exclude(status=SolutionStatus.WAITING)
        .annotate(reference=Trim("problem__reference_answer"))
        .exclude(reference="")
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
