"""The solution row lock every writer of a solution's claims, annotations, status or final label takes first.

Holding it (`SELECT ... FOR UPDATE` of the solution row, until the transaction ends) serializes those
writers per solution, so concurrent submits, claims, reviews and triage never decide on stale counts.
SQLite has no row locks; there the same code runs without them (SQLite serializes writers).
"""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from annotations.models import Solution
from annotations.selectors.workbench import workbench_access
from prmweb.errors import NotFoundError


def solution_lock(
    *, solution_id: int, member: AbstractBaseUser | None = None, annotate: Mapping[str, Any] | None = None
) -> Solution:
    """Lock the solution's row and return the solution with its dataset (call inside a transaction).

    With `member`, only a solution of a dataset that user may open in the workbench is found (theirs, or
    any for staff). Raises NotFoundError naming `solution` otherwise. `annotate`: expressions read with
    the row; their subqueries see the database as of the statement's start, so what other writers of the
    row committed while this one waited for the lock needs a statement of its own.
    """
    solutions = Solution.objects.select_for_update(of=("self",)).select_related("dataset").filter(pk=solution_id)
    if annotate:
        solutions = solutions.annotate(**annotate)
    if member is not None:
        solutions = solutions.filter(workbench_access(user=member, dataset_path="dataset__"))
    solution = solutions.first()
    if solution is None:
        why = f"No solution {solution_id} is yours to see." if member is not None else "No such solution."
        raise NotFoundError(f"Solution {solution_id} not found.", errors={"solution": [why]})
    return solution
