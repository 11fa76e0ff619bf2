"""Reads for the browser workbench: my datasets and progress, the queue, the annotation page.

A dataset exists for the workbench only for its members and for staff (who may open any dataset, as
through the API): everyone else gets NotFoundError (a 404, so a non-member never learns that it
exists). Other people's annotations are never read here. Each function runs a fixed number of queries
whatever the dataset size.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Count, DateTimeField, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from annotations.models import (
    EXTERNAL_ENGINE,
    Annotation,
    Claim,
    Dataset,
    DatasetMembership,
    FinalLabelSource,
    MembershipRole,
    Solution,
    SolutionStatus,
    Suggestion,
    SuggestionStatus,
)
from annotations.models.datasets import QueueOrder
from annotations.selectors.datasets import AnyUser, user_is_staff
from annotations.selectors.progress import (
    LEFT_FOR_ME_CAP,
    done_today_expression,
    left_for_me_expression,
    previous_solution_expressions,
)
from prmweb.errors import NotFoundError

EDITABLE_STATUSES = (SolutionStatus.OPEN, SolutionStatus.NEEDS_REVIEW)
MEMBERSHIP_TABLE = DatasetMembership._meta.db_table
SOLUTION_TABLE = Solution._meta.db_table
# Final labels made here (by people, a reviewer, or machine consensus at triage), not brought with the data.
SETTLED_SOURCES = (
    FinalLabelSource.UNANIMOUS,
    FinalLabelSource.MAJORITY,
    FinalLabelSource.REVIEW,
    FinalLabelSource.CONSENSUS_AUTO,
)


@dataclass(frozen=True)
class DatasetProgress:
    """One of my datasets on the home page, with my progress and the dataset's settled count."""

    dataset: Dataset
    role: str
    done_by_me: int
    total: int
    done_overall: int  # settled here: a final label made here, or discarded
    my_claim_solution_id: int | None
    gold: int = 0
    sees_all_labels: bool = False  # reviewer or manager here, or staff: links to the review queue and dashboard
    done_today: int = 0
    left_for_me: int = 0  # counted up to LEFT_FOR_ME_CAP + 1

    @property
    def remaining(self) -> int:
        return max(self.total - self.done_overall, 0)

    @property
    def percent_done(self) -> int:
        return round(100 * self.done_overall / self.total) if self.total else 0

    @property
    def left_for_me_text(self) -> str:
        return f"{LEFT_FOR_ME_CAP}+" if self.left_for_me > LEFT_FOR_ME_CAP else str(self.left_for_me)

    @property
    def my_percent(self) -> int:
        """Return my annotations as a share of my annotations plus what is left for me (0..100)."""
        mine_and_left = self.done_by_me + self.left_for_me
        return round(100 * self.done_by_me / mine_and_left) if mine_and_left else 0


def datasets_of_member(*, user: User) -> QuerySet[Dataset]:
    """Return the datasets the user is a member of, by name."""
    return Dataset.objects.filter(memberships__user_id=user.pk).order_by("name", "pk")


def workbench_access(*, user: AnyUser, dataset_path: str = "") -> Q:
    """Return the filter of rows in datasets the user may open in the workbench: theirs, or any for staff.

    `dataset_path` leads from the filtered model to its dataset ("dataset__", "solution__dataset__").
    """
    if user_is_staff(user):
        return Q()
    return Q(**{f"{dataset_path}memberships__user_id": user.pk})


def workbench_dataset_get(*, user: User, slug: str) -> Dataset:
    """Return the dataset with this slug if the user is a member of it, or staff (one query); else NotFoundError."""
    dataset = Dataset.objects.filter(workbench_access(user=user), slug=slug).first()
    if dataset is None:
        raise NotFoundError(f"Dataset {slug!r} not found.", errors={"dataset": ["No dataset with this slug is yours."]})
    return dataset


def dataset_progress_for_user(*, user: User, now: datetime.datetime) -> list[DatasetProgress]:
    """Return my datasets (by name) with my counts, done-overall, total and gold counts (two queries).

    Mine: `done_by_me` (my submitted annotations), `done_today`, and `left_for_me` (the ordinary queue's
    solutions it could still hand me, capped: `annotations.selectors.progress`).

    `total` counts the solutions to be labelled: gold solutions are left out (their label came with the
    data; they are counted in `gold`). A solution is "done overall" once it is settled here: its final
    label came from people (`unanimous`, `majority`), a reviewer (`review`) or machine consensus at triage
    (`consensus_auto`), or the protocol discarded it. An `imported` final label does not make a solution
    done, nor does waiting for the machines' consensus. `my_claim_solution_id` is a solution I hold an
    unexpired claim on.
    """
    my_done = (
        Annotation.objects.filter(annotator_id=user.pk, solution__dataset_id=OuterRef("dataset_id"))
        .order_by()
        .values("annotator_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    my_claim = Claim.objects.filter(
        annotator_id=user.pk, solution__dataset_id=OuterRef("dataset_id"), expires_at__gt=now
    ).order_by("claimed_at")
    memberships = list(
        DatasetMembership.objects.filter(user_id=user.pk)
        .select_related("dataset")
        .annotate(
            done_by_me=Coalesce(Subquery(my_done, output_field=IntegerField()), Value(0)),
            my_claim_solution_id=Subquery(my_claim.values("solution_id")[:1]),
            done_today=done_today_expression(user_id=user.pk, now=now, outer=MEMBERSHIP_TABLE),
            left_for_me=left_for_me_expression(user_id=user.pk, now=now, outer=MEMBERSHIP_TABLE, exclude_outer=False),
        )
        .order_by("dataset__name")
    )
    staff = user_is_staff(user)
    to_label = Q(is_gold=False)
    settled = Q(final_label__source__in=SETTLED_SOURCES) | Q(status=SolutionStatus.DISCARDED)
    totals: dict[int, dict[str, int]] = {
        row["dataset_id"]: {"total": row["total"], "done": row["done"], "gold": row["gold"]}
        for row in Solution.objects.filter(dataset_id__in=[membership.dataset_id for membership in memberships])
        .values("dataset_id")
        .annotate(
            total=Count("pk", filter=to_label),
            done=Count("pk", filter=to_label & settled),
            gold=Count("pk", filter=Q(is_gold=True)),
        )
        .order_by()
    }
    return [
        DatasetProgress(
            dataset=membership.dataset,
            role=membership.role,
            done_by_me=membership.done_by_me,  # type: ignore[attr-defined]
            total=totals.get(membership.dataset_id, {}).get("total", 0),
            done_overall=totals.get(membership.dataset_id, {}).get("done", 0),
            my_claim_solution_id=membership.my_claim_solution_id,  # type: ignore[attr-defined]
            gold=totals.get(membership.dataset_id, {}).get("gold", 0),
            sees_all_labels=staff or membership.role in (MembershipRole.REVIEWER, MembershipRole.MANAGER),
            done_today=membership.done_today,  # type: ignore[attr-defined]
            left_for_me=membership.left_for_me,  # type: ignore[attr-defined]
        )
        for membership in memberships
    ]


def live_claims_subquery(*, now: datetime.datetime, exclude_user_id: int | None = None) -> Coalesce:
    """Return an expression: the number of unexpired claims on the outer solution (of other users)."""
    claims = Claim.objects.filter(solution_id=OuterRef("pk"), expires_at__gt=now)
    if exclude_user_id is not None:
        claims = claims.exclude(annotator_id=exclude_user_id)
    counted = claims.order_by().values("solution_id").annotate(live=Count("pk")).values("live")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def solution_queue_candidates(
    *, dataset: Dataset, user: User, now: datetime.datetime, exclude_ids: Sequence[int] = ()
) -> QuerySet[Solution]:
    """Return the open solutions that may still need this user's annotation, in the dataset's queue order.

    Only `open` ones: a solution `waiting` for its steps (`segmentation: "reformat"`) is never a candidate.

    A prefilter: annotation count plus live claims is below k (`annotations_per_solution`) or, for a
    solution collecting extra annotators, below `max_annotations`; the claim service makes the exact
    protocol check on the rows it locks. Gold solutions are served by their own path.
    """
    k = dataset.annotations_per_solution
    mine = Annotation.objects.filter(solution_id=OuterRef("pk"), annotator_id=user.pk)
    candidates = (
        Solution.objects.filter(dataset=dataset, status=SolutionStatus.OPEN, needs_humans=True, is_gold=False)
        .annotate(held=F("annotation_count") + live_claims_subquery(now=now))
        .filter(Q(annotation_count__lt=k, held__lt=k) | Q(annotation_count__gte=k, held__lt=dataset.max_annotations))
        .filter(~Exists(mine))
    )
    if exclude_ids:
        candidates = candidates.exclude(pk__in=list(exclude_ids))
    if dataset.queue_order == QueueOrder.FEWEST_ANNOTATIONS_FIRST:
        return candidates.order_by("annotation_count", "pk")
    return candidates.order_by("pk")


def gold_candidates(*, dataset: Dataset, user: User, exclude_ids: Sequence[int] = ()) -> QuerySet[Solution]:
    """Return the dataset's gold solutions this user has neither annotated nor claimed, least seen first."""
    mine = Annotation.objects.filter(solution_id=OuterRef("pk"), annotator_id=user.pk)
    claimed = Claim.objects.filter(solution_id=OuterRef("pk"), annotator_id=user.pk)
    gold = Solution.objects.filter(dataset=dataset, is_gold=True).filter(~Exists(mine), ~Exists(claimed))
    if exclude_ids:
        gold = gold.exclude(pk__in=list(exclude_ids))
    return gold.order_by("annotation_count", "pk")


def live_claim_counts(*, solution_ids: Sequence[int], now: datetime.datetime, exclude_user_id: int) -> dict[int, int]:
    """Return {solution id: number of other users' unexpired claims} for these solutions (one query)."""
    rows = (
        Claim.objects.filter(solution_id__in=list(solution_ids), expires_at__gt=now)
        .exclude(annotator_id=exclude_user_id)
        .values("solution_id")
        .annotate(live=Count("pk"))
        .order_by()
    )
    return {row["solution_id"]: row["live"] for row in rows}


def solution_for_workbench(*, solution_id: int, user: User, now: datetime.datetime) -> Solution:
    """Return the solution with problem, dataset and final label if the user may open its dataset (theirs; staff: any).

    One query. The row carries `my_claim_expires_at` (None without a claim of this user) and my progress
    (`annotations.selectors.progress`): `done_today`, `left_for_me` (not counting this solution),
    `previous_solution_id` and `before_previous_solution_id`. NotFoundError otherwise.
    """
    solution = (
        Solution.objects.select_related("problem", "dataset", "final_label")
        .annotate(
            my_claim_expires_at=Subquery(
                Claim.objects.filter(solution_id=OuterRef("pk"), annotator_id=user.pk).values("expires_at")[:1],
                output_field=DateTimeField(),
            ),
            done_today=done_today_expression(user_id=user.pk, now=now, outer=SOLUTION_TABLE),
            left_for_me=left_for_me_expression(user_id=user.pk, now=now, outer=SOLUTION_TABLE, exclude_outer=True),
            **previous_solution_expressions(user_id=user.pk, now=now),
        )
        .filter(workbench_access(user=user, dataset_path="dataset__"), pk=solution_id)
        .first()
    )
    if solution is None:
        raise NotFoundError("Solution not found.", errors={"solution": [f"No solution {solution_id} is yours to see."]})
    return solution


def my_annotation_get(*, solution_id: int, user: User) -> Annotation | None:
    """Return this user's own annotation of the solution, or None (one query; never anybody else's)."""
    return Annotation.objects.filter(solution_id=solution_id, annotator_id=user.pk).first()


def suggestions_for_workbench(*, solution_id: int) -> list[Suggestion]:
    """Return the solution's succeeded suggestions, by method then newest first (one query).

    External suggestions are left out: they are there to be evaluated against people's labels, which
    must not lean on them.
    """
    return list(
        Suggestion.objects.filter(solution_id=solution_id, status=SuggestionStatus.SUCCEEDED)
        .exclude(engine=EXTERNAL_ENGINE)
        .order_by("method", "-updated_at", "-pk")
    )


def solution_has_visible_suggestions(*, solution: Solution) -> bool:
    """Return whether the annotation page shows this solution's suggestions (dataset not blind, any there)."""
    if solution.dataset.blind:
        return False
    suggestions = Suggestion.objects.filter(solution_id=solution.pk, status=SuggestionStatus.SUCCEEDED)
    return suggestions.exclude(engine=EXTERNAL_ENGINE).exists()
