"""Ingest scores computed outside prmweb as suggestions of an external method, or remove them.

An external suggestion is a `Suggestion` with engine `external` (`EXTERNAL_ENGINE`), under a method name
that no built-in method has and a `config_key` of the team's choice (its model version; default
`default`). It is unique per (solution, method, config_key) like every suggestion: sending it again
updates it. No task ever runs an external method: datasets' `scoring_methods` accept built-in names only,
and the sweep and scoring runs enqueue only those.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from annotations import suggestion_methods
from annotations.models import EXTERNAL_ENGINE, Dataset, Solution, Suggestion, SuggestionStatus
from annotations.score_input import (
    MAX_SCORE_ITEMS,
    Errors,
    ScoreInput,
    duplicate_errors,
    score_input_from_mapping,
    step_errors,
)
from prmweb.errors import ApplicationError, NotFoundError, TooLargeError

UPDATE_FIELDS = [
    "engine",
    "model_name",
    "parameters",
    "status",
    "error",
    "label",
    "step_count",
    "step_scores",
    "confidence",
    "rationale",
    "updated_at",
]


@dataclass(frozen=True)
class ScoredItem:
    index: int
    status: str  # "created" or "updated"
    solution_id: int
    method: str
    config_key: str
    label: int | None


@dataclass(frozen=True)
class ScoreIngestResult:
    items: list[ScoredItem]

    @property
    def created(self) -> int:
        return sum(1 for item in self.items if item.status == "created")

    @property
    def updated(self) -> int:
        return sum(1 for item in self.items if item.status == "updated")


def _first_error(errors: dict[str, Any]) -> str:
    key, value = next(iter(errors.items()))
    if isinstance(value, dict):
        return f"item {key}, {_first_error(value)}"
    return f"{key}: {value[0]}"


def _records(payload: Any) -> list[Any]:
    if not isinstance(payload, dict | list):
        raise ApplicationError(
            "Send one suggestion object or a list of them; nothing was stored.",
            errors={"non_field_errors": ["Expected a JSON object or a JSON array of objects."]},
        )
    records = [payload] if isinstance(payload, dict) else payload
    if len(records) > MAX_SCORE_ITEMS:
        raise TooLargeError(
            f"A batch holds at most {MAX_SCORE_ITEMS} suggestions (this one has {len(records)}); nothing was stored.",
            errors={"batch": [f"Ensure this list has no more than {MAX_SCORE_ITEMS} items (it has {len(records)})."]},
        )
    if not records:
        raise ApplicationError("The batch is empty; nothing was stored.", errors={"batch": ["Send at least one."]})
    return records


def _solutions(
    dataset: Dataset, items: Sequence[ScoreInput | None]
) -> tuple[dict[int, int], dict[str, tuple[int, int]]]:
    """Return {id: steps} and {external id: (id, steps)} of the named solutions of the dataset (one query)."""
    ids = [item.solution_id for item in items if item is not None and item.solution_id is not None]
    external_ids = [item.external_id for item in items if item is not None and item.external_id]
    rows = Solution.objects.filter(dataset=dataset).filter(Q(pk__in=ids) | Q(external_id__in=external_ids))
    by_id: dict[int, int] = {}
    by_external: dict[str, tuple[int, int]] = {}
    for solution_id, external_id, num_steps in rows.values_list("pk", "external_id", "num_steps"):
        by_id[solution_id] = num_steps
        if external_id:
            by_external[external_id] = (solution_id, num_steps)
    return by_id, by_external


def _resolve(
    item: ScoreInput, by_id: dict[int, int], by_external: dict[str, tuple[int, int]]
) -> tuple[int, int] | Errors:
    """Return (solution id, steps) of the item's solution, or the error naming the field."""
    if item.solution_id is not None:
        if item.solution_id not in by_id:
            return {"solution_id": [f"No solution with id {item.solution_id} in this dataset."]}
        return item.solution_id, by_id[item.solution_id]
    if item.external_id not in by_external:
        return {"external_id": [f"No solution with external id {item.external_id!r} in this dataset."]}
    return by_external[item.external_id]


def _existing(keys: Sequence[tuple[int, str, str]]) -> dict[tuple[int, str, str], str]:
    """Return {(solution, method, config_key): engine} of the stored suggestions among the keys (one query)."""
    if not keys:
        return {}
    condition = Q()
    for method, config_key in {(method, config_key) for _, method, config_key in keys}:
        condition |= Q(method=method, config_key=config_key)
    rows = Suggestion.objects.filter(condition, solution_id__in=[solution_id for solution_id, _, _ in keys])
    return {(s, m, c): engine for s, m, c, engine in rows.values_list("solution_id", "method", "config_key", "engine")}


@dataclass(frozen=True)
class _Valid:
    index: int
    item: ScoreInput
    solution_id: int
    num_steps: int

    @property
    def key(self) -> tuple[int, str, str]:
        return (self.solution_id, self.item.method, self.item.config_key)


def _validate(dataset: Dataset, records: list[Any]) -> tuple[list[_Valid], dict[int, Errors]]:
    """Return the valid items with their solution, and every invalid item's errors by index."""
    reserved = suggestion_methods.method_names()
    parsed = [score_input_from_mapping(record, reserved=reserved) for record in records]
    by_id, by_external = _solutions(dataset, [item for item, _ in parsed])
    errors: dict[int, Errors] = {index: found for index, (_, found) in enumerate(parsed) if found}
    valid: dict[int, _Valid] = {}
    for index, (item, _) in enumerate(parsed):
        if item is None:
            continue
        resolved = _resolve(item, by_id, by_external)
        if isinstance(resolved, dict):
            errors[index] = resolved
        elif found := step_errors(item, resolved[1]):
            errors[index] = found
        else:
            valid[index] = _Valid(index, item, *resolved)
    keys = [valid[index].key if index in valid else None for index in range(len(records))]
    for index, found in duplicate_errors(keys).items():
        errors[index] = {**errors.get(index, {}), **found}
    return [row for index, row in sorted(valid.items()) if index not in errors], errors


def _conflicts(rows: list[_Valid], stored: dict[tuple[int, str, str], str]) -> dict[int, Errors]:
    """Return errors of items that would overwrite a suggestion prmweb computed (never overwritten)."""
    errors: dict[int, Errors] = {}
    for row in rows:
        engine = stored.get(row.key)
        if engine is not None and engine != EXTERNAL_ENGINE:
            message = (
                f"Solution {row.solution_id} has a {row.item.method!r} suggestion that prmweb computed; "
                "name yours otherwise."
            )
            errors[row.index] = {"method": [message]}
    return errors


def _reject(errors: dict[int, Errors], *, single: bool, total: int) -> ApplicationError:
    if single:
        found = errors[0]
        return ApplicationError(f"The suggestion is invalid; nothing was stored. {_first_error(found)}", errors=found)
    ordered = {str(index): errors[index] for index in sorted(errors)}
    message = f"{len(errors)} of {total} suggestions are invalid; nothing was stored. {_first_error(ordered)}"
    return ApplicationError(message, errors=ordered)


def _row(row: _Valid, ingested_by: str) -> Suggestion:
    item = row.item
    return Suggestion(
        solution_id=row.solution_id,
        method=item.method,
        config_key=item.config_key,
        engine=EXTERNAL_ENGINE,
        model_name=item.model_name,
        parameters={"ingested_by": ingested_by} if ingested_by else {},
        status=SuggestionStatus.SUCCEEDED,
        error="",
        label=item.stored_label(),
        step_count=row.num_steps,
        step_scores=list(item.step_scores),
        confidence=item.confidence,
        rationale=item.rationale,
        updated_at=timezone.now(),
    )


def external_scores_ingest_json(
    *, dataset: Dataset, payload: Any, user: AbstractBaseUser | AnonymousUser | None = None
) -> ScoreIngestResult:
    """Store external suggestions (one object or a list), all or nothing; return which were created or updated.

    Raises ApplicationError naming each bad field (by item index for a list; TooLargeError over
    MAX_SCORE_ITEMS). Idempotent: the same body twice leaves the same rows (the second time `updated`).
    Three queries and one statement, whatever the batch size.
    """
    records = _records(payload)
    rows, errors = _validate(dataset, records)
    stored = _existing([row.key for row in rows])
    errors.update(_conflicts(rows, stored))
    if errors:
        raise _reject(errors, single=isinstance(payload, dict), total=len(records))
    ingested_by = user.get_username() if user is not None and user.is_authenticated else ""
    with transaction.atomic():
        Suggestion.objects.bulk_create(
            [_row(row, ingested_by) for row in rows],
            update_conflicts=True,
            unique_fields=["solution", "method", "config_key"],
            update_fields=UPDATE_FIELDS,
        )
    return ScoreIngestResult(
        items=[
            ScoredItem(
                index=row.index,
                status="updated" if row.key in stored else "created",
                solution_id=row.solution_id,
                method=row.item.method,
                config_key=row.item.config_key,
                label=row.item.stored_label(),
            )
            for row in rows
        ]
    )


def external_scores_delete(*, dataset: Dataset, method: str, config_key: str | None = None) -> int:
    """Delete an external method's suggestions in the dataset (one configuration, or all); return how many.

    Raises ApplicationError for a built-in method's name, NotFoundError when there is nothing to delete.
    """
    if method.lower() in {name.lower() for name in suggestion_methods.method_names()}:
        raise ApplicationError(
            f"{method!r} is a built-in method; only external suggestions can be deleted here.",
            errors={"method": ["Name an external method (one whose suggestions you ingested)."]},
        )
    rows = Suggestion.objects.filter(solution__dataset=dataset, method=method, engine=EXTERNAL_ENGINE)
    if config_key is not None:
        rows = rows.filter(config_key=config_key)
    deleted, _ = rows.delete()
    if not deleted:
        where = f"method {method!r}" + (f" ({config_key})" if config_key is not None else "")
        raise NotFoundError(
            f"No external suggestions of {where} in this dataset.", errors={"method": ["Nothing to delete."]}
        )
    return deleted
