"""Ingest solutions: validate, deduplicate, store, then hand new work to scoring after the commit.

One path serves REST (single and bulk), the file importers and the admin. A batch is all-or-nothing:
every item is validated first and a single bad item rejects the whole batch with every item's errors.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone

from annotations import hooks, suggestion_methods
from annotations.models import Dataset, ReformatStatus, Solution, SolutionStatus
from annotations.models.datasets import TriageMode
from annotations.services.answers import CHECK_ANSWERS_TASK
from annotations.services.response_input import (
    merge_split_errors,
    segment_inputs,
    segmenter_for,
    stored_steps,
    waits_for_reformat,
)
from annotations.services.solution_store import NewSolution, solutions_insert, stored_solution_keys
from annotations.solution_input import (
    INPUT_FIELDS,
    MAX_BATCH_ITEMS,
    MAX_METADATA_BYTES,
    MAX_PROBLEM_CHARS,
    MAX_SHORT_CHARS,
    MAX_STEP_CHARS,
    MAX_STEPS,
    MAX_TEXT_CHARS,
    Errors,
    SolutionInput,
    solution_input_from_mapping,
    subset_from_id,
    validate_batch,
    validate_solution_input,
)
from prmweb.errors import ApplicationError, ConflictError, TooLargeError
from prmweb.taskqueue import task_by_name

__all__ = [
    "INPUT_FIELDS",
    "MAX_BATCH_ITEMS",
    "MAX_METADATA_BYTES",
    "MAX_PROBLEM_CHARS",
    "MAX_SHORT_CHARS",
    "MAX_STEPS",
    "MAX_STEP_CHARS",
    "MAX_TEXT_CHARS",
    "IngestResult",
    "IngestedItem",
    "SolutionInput",
    "content_hash",
    "problem_hash",
    "solution_subset",
    "solutions_ingest",
    "solutions_ingest_json",
    "validate_batch",
    "validate_solution_input",
]

logger = logging.getLogger(__name__)

AnyUser = AbstractBaseUser | AnonymousUser | None
NO_REFORMAT = "'reformat' needs the scoring app's reformat hook (PRMWEB_REFORMAT_HOOK), which is not set."
# Concurrent batches sharing items collide on the unique constraints; each retry sees more of them stored.
MAX_STORE_ATTEMPTS = 5


@dataclass(frozen=True)
class IngestedItem:
    index: int
    status: str  # "created" or "existing"
    solution_id: int
    external_id: str


@dataclass(frozen=True)
class IngestResult:
    items: list[IngestedItem]

    @property
    def created(self) -> int:
        return sum(1 for item in self.items if item.status == "created")

    @property
    def existing(self) -> int:
        return sum(1 for item in self.items if item.status == "existing")


def waits_for_machine_consensus(dataset: Dataset) -> bool:
    """Return whether new solutions wait for triage before people see them.

    With `triage_mode=disagreement_only` and every input of the consensus method configured (mc and
    judge; see `annotations.suggestion_methods.triage_method`), the consensus decides: `solution_triage`
    then auto-accepts the solution or hands it to people (no consensus, a failed or skipped method, or
    the audit sample). Without those methods no consensus can come, so people label.
    """
    consensus = suggestion_methods.triage_method()
    methods = dataset.scoring_methods if isinstance(dataset.scoring_methods, list) else []
    return (
        dataset.triage_mode == TriageMode.DISAGREEMENT_ONLY
        and consensus is not None
        and set(consensus.inputs) <= set(methods)
    )


def solution_subset(item: SolutionInput) -> str:
    """Return the subset to store: the one given, else the one the id names ("omnimath-7" -> "omnimath").

    The one rule for every way in (REST, file imports, the admin), so the same record gets the same subset.
    """
    return item.subset or subset_from_id(item.external_id)


def content_hash(problem: str, steps: Sequence[str], response: str | None = None) -> str:
    """Return the sha256 identifying a solution's content: problem text and steps, and the response it came from.

    Two responses that split into the same steps (e.g. differing only in blank lines) are different
    solutions, since each is stored verbatim; a solution sent as steps hashes as it always did.
    """
    content: list[Any] = [problem, list(steps)] if response is None else [problem, list(steps), response]
    payload = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def problem_hash(problem: str) -> str:
    """Return the sha256 identifying a problem by its text."""
    return hashlib.sha256(problem.encode("utf-8")).hexdigest()


def _first_error(errors: dict[str, Any]) -> str:
    """Return "field: message" (or "item N, field: message") for the first error, for the summary line."""
    key, value = next(iter(errors.items()))
    if isinstance(value, dict):
        return f"item {key}, {_first_error(value)}"
    return f"{key}: {value[0]}"


def _check_batch_size(count: int) -> None:
    if count > MAX_BATCH_ITEMS:
        raise TooLargeError(
            f"A batch holds at most {MAX_BATCH_ITEMS} solutions (this one has {count}); nothing was stored.",
            errors={"batch": [f"Ensure this list has no more than {MAX_BATCH_ITEMS} items (it has {count})."]},
        )
    if count == 0:
        raise ApplicationError(
            "The batch is empty; nothing was stored.", errors={"batch": ["Send at least one solution."]}
        )


def _reject(errors: dict[str, Errors], total: int) -> ApplicationError:
    return ApplicationError(
        f"{len(errors)} of {total} solutions are invalid; nothing was stored. {_first_error(errors)}",
        errors=dict(errors),
    )


def solutions_ingest_json(*, dataset: Dataset, payload: Any, user: AnyUser = None) -> IngestResult:
    """Ingest decoded JSON: one solution object or a list of them (see `solutions_ingest`).

    A rejected single object reports errors by field; a rejected list reports them by item index.
    Unknown and missing fields are reported together with every other problem of the batch.
    """
    single = isinstance(payload, dict)
    if not single and not isinstance(payload, list):
        raise ApplicationError(
            "Send one solution object or a list of them; nothing was stored.",
            errors={"non_field_errors": ["Expected a JSON object or a JSON array of objects."]},
        )
    records: list[Any] = [payload] if single else payload
    _check_batch_size(len(records))
    built = [solution_input_from_mapping(record) for record in records]
    items, errors_by_index = _split_and_validate(dataset, [item for item, _ in built])
    for index, (_, structural) in enumerate(built):
        if structural:  # "required" and "unknown" replace the value checks of the same field
            errors_by_index[str(index)] = {**errors_by_index.get(str(index), {}), **structural}
    if errors_by_index:
        if single:
            errors = errors_by_index["0"]
            message = f"The solution is invalid; nothing was stored. {_first_error(errors)}"
            raise ApplicationError(message, errors=errors)
        ordered = {key: errors_by_index[key] for key in sorted(errors_by_index, key=int)}
        raise _reject(ordered, len(records))
    return _ingest_valid(dataset=dataset, items=[item for item in items if item is not None], user=user)


def solutions_ingest(*, dataset: Dataset, items: Sequence[SolutionInput], user: AnyUser = None) -> IngestResult:
    """Validate and store a batch of solutions, all or nothing; return which were created or existed.

    Responses are split into steps first (the dataset's segmentation, unless an item names its own).
    Idempotent: an item whose external id (or, without one, whose problem+steps+response content) is already in
    the dataset is reported as existing and left unchanged; concurrent batches with the same items store
    each once. New solutions record `user` as who ingested them (`ingested_by`; none for an anonymous
    caller). After the commit, the ids of new solutions go to the final-answer check and the scoring
    hook. Raises ApplicationError naming each bad field (TooLargeError for an oversized batch).
    """
    _check_batch_size(len(items))
    segmented, errors = _split_and_validate(dataset, items)
    if errors:
        raise _reject({key: errors[key] for key in sorted(errors, key=int)}, len(items))
    return _ingest_valid(dataset=dataset, items=[item for item in segmented if item is not None], user=user)


def _split_and_validate(
    dataset: Dataset, items: Sequence[SolutionInput | None]
) -> tuple[list[SolutionInput | None], dict[str, Errors]]:
    """Split responses into steps with the dataset's segmentation, then validate; return items and errors.

    An item that could not be split (bad `segmentation`, a pattern out of time) reports why instead of its steps.
    """
    segmenter = segmenter_for(segmentation=dataset.segmentation, pattern=dataset.segmentation_pattern)
    segmented, split_errors = segment_inputs(items, segmenter)
    errors = validate_batch(segmented)
    for index, item_errors in split_errors.items():
        errors[index] = merge_split_errors(errors.get(index, {}), item_errors)
    if not hooks.reformat_available():
        for position, item in enumerate(segmented):
            if item is not None and waits_for_reformat(item):
                errors.setdefault(str(position), {})["segmentation"] = [NO_REFORMAT]
    return segmented, errors


def _is_lock_conflict(exc: OperationalError) -> bool:
    """Return whether PostgreSQL aborted the transaction for a deadlock or a serialization failure."""
    return getattr(exc.__cause__, "sqlstate", None) in {"40P01", "40001"}


def _ingest_valid(*, dataset: Dataset, items: Sequence[SolutionInput], user: AnyUser) -> IngestResult:
    ingested_by = user if user is not None and user.is_authenticated else None
    for attempt in range(MAX_STORE_ATTEMPTS):
        try:  # after a collision, rows stored meanwhile are skipped (PostgreSQL) rather than raising again
            return _store(dataset=dataset, items=items, ingested_by=ingested_by, skip_stored=attempt > 0)
        except IntegrityError:
            # A concurrent request stored some of the same items first; on retry they are "existing".
            logger.info("ingestion collided with a concurrent batch for dataset %s; retrying", dataset.pk)
        except OperationalError as exc:
            # Rows are written in key order, so deadlocks should not happen; if one does, the retry is safe.
            if not _is_lock_conflict(exc):
                raise
            logger.warning("ingestion hit a lock conflict for dataset %s; retrying", dataset.pk)
    raise ConflictError(
        "Concurrent requests kept storing the same solutions; nothing was stored. Send the batch again.",
        errors={"batch": ["Conflicted with concurrent ingestion; retry."]},
    )


@transaction.atomic
def _store(
    *, dataset: Dataset, items: Sequence[SolutionInput], ingested_by: AbstractBaseUser | None, skip_stored: bool
) -> IngestResult:
    hashes = [content_hash(item.problem, stored_steps(item), item.response) for item in items]
    existing_by_index = _existing_solution_ids(dataset, items, hashes)
    results: dict[int, IngestedItem] = {}
    to_create: list[tuple[int, SolutionInput, str]] = []
    first_with_content: dict[str, int] = {}
    duplicates: list[int] = []
    for index, (item, digest) in enumerate(zip(items, hashes, strict=True)):
        if index in existing_by_index:
            results[index] = IngestedItem(index, "existing", existing_by_index[index], item.external_id)
        elif not item.external_id and digest in first_with_content:
            duplicates.append(index)  # same content twice in one batch: store it once
        else:
            to_create.append((index, item, digest))
            if not item.external_id:
                first_with_content[digest] = index
    # Every batch writes rows in the same (key) order, so concurrent batches wait for each other, never deadlock.
    to_create.sort(key=lambda row: (row[1].external_id, row[2]))
    created = _create(dataset, to_create, ingested_by, skip_stored=skip_stored)
    results.update(_stored_meanwhile(dataset, [row for row in to_create if row[0] not in created]))
    for index, (solution_id, _) in created.items():
        results[index] = IngestedItem(index, "created", solution_id, items[index].external_id)
    for index in duplicates:
        first = results[first_with_content[hashes[index]]]
        results[index] = IngestedItem(index, "existing", first.solution_id, items[index].external_id)
    new_ids = [created[index][0] for index, _, _ in to_create if index in created]
    if new_ids:
        dataset_id = dataset.pk
        waiting_ids = [created[index][0] for index, _, _ in to_create if index in created and created[index][1]]
        transaction.on_commit(
            lambda: solutions_hand_over(dataset_id=dataset_id, solution_ids=new_ids, waiting_ids=waiting_ids)
        )
    return IngestResult(items=[results[index] for index in range(len(items))])


def _stored_meanwhile(dataset: Dataset, skipped: list[tuple[int, SolutionInput, str]]) -> dict[int, IngestedItem]:
    """Return the items a concurrent batch stored first (skipped on insert) as existing, with their ids.

    Raises IntegrityError, which retries the batch, if one is not found (its problem vanished meanwhile).
    """
    if not skipped:
        return {}
    found = _existing_solution_ids(dataset, [item for _, item, _ in skipped], [digest for _, _, digest in skipped])
    if len(found) < len(skipped):
        raise IntegrityError("a skipped solution is not stored")
    return {
        index: IngestedItem(index, "existing", found[position], item.external_id)
        for position, (index, item, _) in enumerate(skipped)
    }


def _existing_solution_ids(dataset: Dataset, items: Sequence[SolutionInput], hashes: list[str]) -> dict[int, int]:
    """Return {item index: stored solution id} for items already in the dataset (one query)."""
    external_ids = [item.external_id for item in items if item.external_id]
    content_hashes = [digest for item, digest in zip(items, hashes, strict=True) if not item.external_id]
    rows = stored_solution_keys(dataset_id=dataset.pk, external_ids=external_ids, content_hashes=content_hashes)
    by_external: dict[str, int] = {}
    by_content: dict[str, int] = {}
    for external_id, digest, stored_id in rows:
        if external_id:
            by_external[external_id] = stored_id
        else:
            by_content[digest] = stored_id
    found: dict[int, int] = {}
    for index, (item, digest) in enumerate(zip(items, hashes, strict=True)):
        solution_id = by_external.get(item.external_id) if item.external_id else by_content.get(digest)
        if solution_id is not None:
            found[index] = solution_id
    return found


def _create(
    dataset: Dataset,
    to_create: list[tuple[int, SolutionInput, str]],
    ingested_by: AbstractBaseUser | None,
    *,
    skip_stored: bool,
) -> dict[int, tuple[int, bool]]:
    """Insert the new solutions; return {item index: (solution id, whether it waits for its steps)}.

    An item a concurrent batch stored first raises IntegrityError; with `skip_stored` it is left out on
    PostgreSQL (elsewhere it raises still).
    """
    if not to_create:
        return {}
    template = Solution(
        dataset=dataset,
        needs_humans=not waits_for_machine_consensus(dataset),
        ingested_by_id=ingested_by.pk if ingested_by is not None else None,
    )
    rows = [
        NewSolution(
            item=item,
            content_hash=digest,
            problem_hash=problem_hash(item.problem),
            subset=solution_subset(item),
            status_fields=_waiting_fields(item),
        )
        for _, item, digest in to_create
    ]
    inserted = solutions_insert(template=template, rows=rows, skip_stored=skip_stored)
    return {
        index: (row.solution_id, row.status == SolutionStatus.WAITING)
        for (index, _, _), row in zip(to_create, inserted, strict=True)
        if row is not None
    }


def _waiting_fields(item: SolutionInput) -> dict[str, Any]:
    """Return the status fields of a new solution: `waiting` for the judge's re-split, else the defaults.

    A waiting solution counts as queued from now (its task is sent after the commit; if that fails, the
    send is recorded as missing and the sweep sends it).
    """
    if waits_for_reformat(item):
        return {
            "status": SolutionStatus.WAITING,
            "reformat_status": ReformatStatus.PENDING,
            "reformat_queued_at": timezone.now(),
        }
    return {}


def solutions_hand_over(*, dataset_id: int, solution_ids: Sequence[int], waiting_ids: Sequence[int] = ()) -> None:
    """Enqueue the final-answer check and the hooks (after a commit); a failure here never undoes stored rows.

    Solutions waiting for the judge's re-split go to the reformat hook; the others, whose steps exist,
    to the scoring hook (a waiting one comes here again once it has its steps).
    """
    try:
        task_by_name(CHECK_ANSWERS_TASK).delay(list(solution_ids))
    except Exception:  # the solutions are stored; the periodic sweep re-enqueues what this missed
        logger.exception("could not enqueue the final-answer check for %d solutions", len(solution_ids))
    waiting = set(waiting_ids)
    ready = [solution_id for solution_id in solution_ids if solution_id not in waiting]
    if ready:
        hooks.notify_solutions_ingested(dataset_id=dataset_id, solution_ids=ready)
    if waiting_ids:
        hooks.request_reformat(dataset_id=dataset_id, solution_ids=list(waiting_ids))
