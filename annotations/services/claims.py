"""Claims: hand an annotator the next solution under the dataset's protocol, renew and release holds.

Race safety on PostgreSQL: the candidate solution row is locked with `SELECT ... FOR UPDATE SKIP LOCKED`,
then the claim is created, all in one transaction. The row's `claim_count` and `claim_expires_first` are
kept by triggers that update it whenever a claim is added (under this same lock), so the locked row,
which is always the latest version, tells the live claims without another statement; only when some of
its claims have expired are they counted in a fresh statement (which sees every claim committed by an
earlier holder of the lock). Every writer of claims and annotations locks the solution row first, so two
annotators clicking at once never get a solution beyond the count the protocol asks for
(`solution_required_annotations`). On SQLite, which has no row locks, the same code runs without them
(SQLite serializes writers).
"""

import datetime
import time
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models.functions import Now
from django.utils import timezone

from annotations.models import Annotation, Claim, Dataset, Solution
from annotations.selectors.gold import gold_should_serve
from annotations.selectors.queue import live_claims_on_row, queue_candidate_lock, queue_has_candidates
from annotations.selectors.workbench import gold_candidates, live_claim_counts
from annotations.services.agreement import solution_required_annotations
from annotations.services.locks import solution_lock
from prmweb.errors import ConflictError

CLAIM_ATTEMPTS = 8
LOCKED_RETRY_SECONDS = 0.02  # times the attempt number: a short wait while other claimers hold the rows


def claim_expiry(dataset: Dataset, now: datetime.datetime) -> datetime.datetime:
    """Return when a claim taken or renewed now on this dataset expires."""
    return now + datetime.timedelta(minutes=dataset.claim_minutes)


def solution_has_room(*, solution: Solution, annotator: User, now: datetime.datetime) -> bool:
    """Return whether the protocol still wants an annotation from this annotator (call under the row lock).

    True when the annotator has not annotated the solution and its annotations plus the live claims of
    other annotators stay below what the protocol asks for; gold solutions have room for everyone once.
    """
    if Annotation.objects.filter(solution_id=solution.pk, annotator_id=annotator.pk).exists():
        return False
    if solution.is_gold:
        return True
    others = live_claim_counts(solution_ids=[solution.pk], now=now, exclude_user_id=int(annotator.pk)).get(
        solution.pk, 0
    )
    return solution.annotation_count + others < solution_required_annotations(solution)


def _claim_gold(*, dataset: Dataset, annotator: User, now: datetime.datetime, skipped: Sequence[int]) -> Claim | None:
    solution = gold_candidates(dataset=dataset, user=annotator, exclude_ids=skipped).first()
    if solution is None:
        return None
    try:
        with transaction.atomic():  # gold rows are not locked: a double click may race for the same one
            return Claim.objects.create(solution=solution, annotator=annotator, expires_at=claim_expiry(dataset, now))
    except IntegrityError:
        return None


@dataclass(frozen=True)
class _Attempt:
    """One try: the claim, or the solution found full, or whether others held every candidate row."""

    claim: Claim | None = None
    full_solution_id: int | None = None
    busy: bool = False


def _held_or_gold(*, dataset: Dataset, annotator: User, now: datetime.datetime, skipped: Sequence[int]) -> Claim | None:
    """Renew the annotator's live claim in the dataset, or claim a gold solution when one is due; else None.

    One query when the annotator holds no claim there (the usual case after a submit): their claims in
    the dataset are read once; only expired ones found there are deleted, and a live one renewed.
    """
    mine = list(
        Claim.objects.filter(annotator=annotator, solution__dataset=dataset)
        .select_related("solution")
        .order_by("claimed_at", "pk")
    )
    if expired := [claim.pk for claim in mine if claim.expires_at <= now]:
        Claim.objects.filter(pk__in=expired, expires_at__lte=now).delete()  # unless a heartbeat took one back
    held = next((claim for claim in mine if claim.expires_at > now), None)
    if held is not None:
        held.expires_at = claim_expiry(dataset, now)
        held.save(update_fields=["expires_at"])
        return held
    if gold_should_serve(dataset, annotator):
        return _claim_gold(dataset=dataset, annotator=annotator, now=now, skipped=skipped)
    return None


@transaction.atomic
def _claim_attempt(
    *, dataset: Dataset, annotator: User, now: datetime.datetime, tried: Sequence[int], first: bool
) -> _Attempt:
    """Make one try in one transaction: (the first time) the held claim or a due gold item, then the queue."""
    if first and (claim := _held_or_gold(dataset=dataset, annotator=annotator, now=now, skipped=tried)):
        return _Attempt(claim)
    solution = queue_candidate_lock(dataset=dataset, user=annotator, now=now, exclude_ids=tried)
    if solution is None:  # the queue is empty, or other claimers hold its last rows for a moment
        return _Attempt(busy=queue_has_candidates(dataset=dataset, user=annotator, now=now, exclude_ids=tried))
    solution.dataset = dataset
    # The locked row is the latest version (its claim columns included), so it usually tells the live claims
    # (the annotator holds none in the dataset here); some expired ones among them: count in a fresh statement.
    others = live_claims_on_row(solution, now)
    if others is None:
        counts = live_claim_counts(solution_ids=[solution.pk], now=now, exclude_user_id=int(annotator.pk))
        others = counts.get(solution.pk, 0)
    if solution.annotation_count + others < solution_required_annotations(solution):
        expires_at = claim_expiry(dataset, now)
        return _Attempt(Claim.objects.create(solution=solution, annotator=annotator, expires_at=expires_at))
    return _Attempt(full_solution_id=solution.pk)


def claim_next(*, dataset: Dataset, annotator: User, skipped_ids: Sequence[int] = ()) -> Claim | None:
    """Claim the next solution of the dataset for the annotator and return the claim; None when none is left.

    An annotator who still holds an unexpired claim in the dataset gets it back (renewed). Otherwise their
    expired claims there are dropped and a solution is taken in the dataset's queue order: open, needing
    people, not annotated by them, not in `skipped_ids`, and below the protocol's count once live claims
    of others are added. With `gold_rate` > 0, a gold solution the annotator has not seen comes first
    whenever `gold_should_serve` says so (deterministic: their gold share stays at the rate, so at 0.1 their
    1st, 11th, 21st... item is gold); the ordinary queue serves when no such gold solution is left.
    Side effects: deletes the annotator's expired claims in the dataset; creates or renews one claim.
    Each try is one short transaction (the first usually succeeds); while other claimers hold every
    candidate row, the short wait before the next try happens between transactions, holding no lock.
    """
    now = timezone.now()
    tried: list[int] = list(skipped_ids)
    for attempt in range(1, CLAIM_ATTEMPTS + 1):
        result = _claim_attempt(dataset=dataset, annotator=annotator, now=now, tried=tried, first=attempt == 1)
        if result.claim is not None:
            return result.claim
        if result.full_solution_id is not None:
            tried.append(result.full_solution_id)
            continue
        if not result.busy or attempt == CLAIM_ATTEMPTS:
            return None
        time.sleep(LOCKED_RETRY_SECONDS * attempt)  # outside any transaction of ours: no row stays locked
    return None


NO_CLAIM_MESSAGE = "You hold no claim on this solution: it was released, or never handed to you by the queue."


@transaction.atomic
def _renew_or_drop(*, solution_id: int, annotator: User) -> Claim | None:
    now = timezone.now()
    solution = solution_lock(solution_id=solution_id, member=annotator)
    claim = Claim.objects.filter(solution=solution, annotator=annotator).first()
    if claim is None:
        raise ConflictError(f"{NO_CLAIM_MESSAGE} Go on to the next solution.", errors={"claim": ["none"]})
    if claim.expires_at <= now and not solution_has_room(solution=solution, annotator=annotator, now=now):
        claim.delete()
        return None
    claim.expires_at = claim_expiry(solution.dataset, now)
    claim.save(update_fields=["expires_at"])
    return claim


def claim_renew(*, solution_id: int, annotator: User) -> Claim:
    """Extend the annotator's claim on the solution by the dataset's `claim_minutes` (the page's heartbeat).

    Only a claim the queue handed out is renewed: without one (never claimed, skipped, or released after
    it expired) ConflictError, so nobody picks their items by id. A claim that expired but is still there
    is taken back when the protocol has room for this annotator; otherwise it is removed and ConflictError
    raised. NotFoundError for a solution outside the annotator's datasets. Idempotent.
    """
    claim = _renew_or_drop(solution_id=solution_id, annotator=annotator)
    if claim is None:
        raise ConflictError(
            "Your claim on this solution expired and other annotators have taken it. Go on to the next solution.",
            errors={"claim": ["expired"]},
        )
    return claim


@transaction.atomic
def claim_release(*, solution_id: int, annotator: User) -> int:
    """Release the annotator's claim on the solution (Skip); return how many claims were removed (0 or 1).

    The solution row is locked first, as every writer of its claims does (the claim triggers update it):
    a release racing a submit of the same claim then waits for it instead of deadlocking.
    """
    if not Solution.objects.select_for_update().filter(pk=solution_id).values_list("pk", flat=True).first():
        return 0
    deleted, _by_model = Claim.objects.filter(solution_id=solution_id, annotator=annotator).delete()
    return deleted


def claims_release_expired(*, now: datetime.datetime | None = None) -> int:
    """Delete every claim that has expired; return how many. Idempotent (the periodic task calls it)."""
    # By default "expired" is judged by the database's clock, as the claim triggers judge it: they then
    # skip every deleted row, so the sweep never locks solution rows (and never waits on a submit).
    deleted, _by_model = Claim.objects.filter(expires_at__lte=now or Now()).delete()
    return deleted
