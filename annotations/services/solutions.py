"""Delete a solution for good, keeping the history of its final label."""

from django.contrib.auth.models import User
from django.db import transaction

from annotations.models import Annotation, FinalLabel, Suggestion
from annotations.services.final_labels import history_add
from annotations.services.locks import solution_lock
from prmweb.errors import ApplicationError

DELETED = "deleted"
MAX_REASON_CHARS = 5000


@transaction.atomic
def solution_delete(*, solution_id: int, deleted_by: User | None, reason: str) -> str:
    """Delete the solution with its annotations, suggestions, claims and final label; return its name.

    A reason is required. Side effects, under the solution row lock: one last history row (from its
    final label, or from its status when it has none, to `deleted`, saying what went with it), then the
    rows are deleted. Its history stays, naming the solution and its dataset. NotFoundError for an
    unknown id.
    """
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        why = "Say why the solution is deleted." if not reason else f"At most {MAX_REASON_CHARS} characters."
        raise ApplicationError(why, errors={"reason": [why]})
    solution = solution_lock(solution_id=solution_id)
    final = FinalLabel.objects.filter(solution=solution).first()
    annotations = Annotation.objects.filter(solution=solution).count()
    suggestions = Suggestion.objects.filter(solution=solution).count()
    history_add(
        solution=solution,
        reason=f"Deleted: {reason} ({annotations} annotation(s) and {suggestions} suggestion(s) went with it.)",
        changed_by=deleted_by,
        from_label=final.label if final is not None else None,
        from_source=final.source if final is not None else solution.status,
        to_source=DELETED,
    )
    name = str(solution)
    solution.delete()
    return name
