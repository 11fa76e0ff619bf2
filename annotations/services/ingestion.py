"""Ingest solutions: validate, deduplicate, store, then hand new work to scoring after the commit.

One path serves REST (single and bulk), the file importers and the admin. A batch is all-or-nothing:
every item is validated first and a single bad item rejects the whole batch with every item's errors.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from annotations import hooks
from annotations.models import Dataset, FinalLabel, FinalLabelSource, Problem, Solution
from prmweb.errors import ApplicationError

MAX_BATCH_ITEMS = 1000
MAX_STEPS = 200
MAX_STEP_CHARS = 20_000
MAX_PROBLEM_CHARS = 50_000
MAX_TEXT_CHARS = 50_000
MAX_SHORT_CHARS = 200
MAX_METADATA_BYTES = 20_000


@dataclass(frozen=True)
class SolutionInput:
    """One solution to ingest, as plain data (from JSON, a file record or a form)."""

    problem: str
    steps: list[str]
    external_id: str = ""
    generator: str = ""
    subset: str = ""
    reference_answer: str = ""
    reference_solution: str = ""
    final_answer: str = ""
    final_answer_correct: bool | None = None
    label: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


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


def content_hash(problem: str, steps: Sequence[str]) -> str:
    """Return the sha256 identifying a solution's content (problem text and steps)."""
    payload = json.dumps([problem, list(steps)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def problem_hash(problem: str) -> str:
    """Return the sha256 identifying a problem by its text."""
    return hashlib.sha256(problem.encode("utf-8")).hexdigest()


def _text_errors(value: Any, limit: int, *, required: bool) -> list[str]:
    if not isinstance(value, str):
        return ["Must be a string."]
    if required and not value.strip():
        return ["This field may not be blank."]
    if len(value) > limit:
        return [f"Ensure this field has no more than {limit} characters (it has {len(value)})."]
    return []


def _steps_errors(steps: Any) -> dict[str, list[str]]:
    if not isinstance(steps, list) or not steps:
        return {"steps": ["Must be a non-empty list of non-empty strings."]}
    if len(steps) > MAX_STEPS:
        return {"steps": [f"Ensure this list has no more than {MAX_STEPS} steps (it has {len(steps)})."]}
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        if found := _text_errors(step, MAX_STEP_CHARS, required=True):
            errors[f"steps[{index}]"] = found
    return errors


def _label_errors(label: Any, steps: Any) -> list[str]:
    if label is None:
        return []
    if isinstance(label, bool) or not isinstance(label, int):
        return ["Must be an integer."]
    if isinstance(steps, list) and steps and not -1 <= label < len(steps):
        return [f"Must be -1 (all steps correct) or a step index from 0 to {len(steps) - 1}."]
    return []


def validate_solution_input(item: SolutionInput) -> dict[str, list[str]]:
    """Return {field: [messages]} for everything wrong with one item (empty when it is valid)."""
    errors: dict[str, list[str]] = {}
    for name, limit, required in (
        ("problem", MAX_PROBLEM_CHARS, True),
        ("external_id", MAX_SHORT_CHARS, False),
        ("generator", MAX_SHORT_CHARS, False),
        ("subset", 100, False),
        ("reference_answer", MAX_TEXT_CHARS, False),
        ("reference_solution", MAX_TEXT_CHARS, False),
        ("final_answer", MAX_TEXT_CHARS, False),
    ):
        if found := _text_errors(getattr(item, name), limit, required=required):
            errors[name] = found
    errors.update(_steps_errors(item.steps))
    if found := _label_errors(item.label, item.steps):
        errors["label"] = found
    if item.final_answer_correct is not None and not isinstance(item.final_answer_correct, bool):
        errors["final_answer_correct"] = ["Must be a boolean."]
    if not isinstance(item.metadata, dict):
        errors["metadata"] = ["Must be a JSON object."]
    elif len(json.dumps(item.metadata, ensure_ascii=False)) > MAX_METADATA_BYTES:
        errors["metadata"] = [f"Must serialize to at most {MAX_METADATA_BYTES} characters."]
    return errors


def validate_batch(items: Sequence[SolutionInput]) -> dict[str, dict[str, list[str]]]:
    """Return {index: {field: [messages]}} for every invalid item, and duplicate ids within the batch."""
    errors: dict[str, dict[str, list[str]]] = {}
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(items):
        item_errors = validate_solution_input(item)
        if item.external_id and isinstance(item.external_id, str):
            if item.external_id in seen_ids:
                item_errors.setdefault("id", []).append(
                    f"Duplicate id {item.external_id!r} in this batch (also item {seen_ids[item.external_id]})."
                )
            else:
                seen_ids[item.external_id] = index
        if item_errors:
            errors[str(index)] = item_errors
    return errors


def solutions_ingest(
    *, dataset: Dataset, items: Sequence[SolutionInput], user: AbstractBaseUser | None = None
) -> IngestResult:
    """Validate and store a batch of solutions, all or nothing; return which were created or existed.

    Idempotent: an item whose external id (or, without one, whose problem+steps content) is already in
    the dataset is reported as existing and left unchanged. After the commit, the ids of new solutions
    go to the scoring hook and to the final-answer check. Raises ApplicationError naming each bad field.
    """
    if len(items) > MAX_BATCH_ITEMS:
        raise ApplicationError(
            f"A batch holds at most {MAX_BATCH_ITEMS} solutions (this one has {len(items)}).",
            errors={"items": [f"Ensure this list has no more than {MAX_BATCH_ITEMS} items."]},
            status_code=413,
        )
    if not items:
        raise ApplicationError("The batch is empty.", errors={"items": ["Send at least one solution."]})
    errors = validate_batch(items)
    if errors:
        raise ApplicationError(
            f"{len(errors)} of {len(items)} solutions are invalid; nothing was stored.", errors=errors
        )
    try:
        result = _store(dataset=dataset, items=items)
    except IntegrityError:
        # A concurrent request stored some of the same items first; now they are "existing".
        result = _store(dataset=dataset, items=items)
    return result


@transaction.atomic
def _store(*, dataset: Dataset, items: Sequence[SolutionInput]) -> IngestResult:
    hashes = [content_hash(item.problem, item.steps) for item in items]
    by_external = dict(
        Solution.objects.filter(
            dataset=dataset, external_id__in=[item.external_id for item in items if item.external_id]
        ).values_list("external_id", "id")
    )
    by_content = dict(
        Solution.objects.filter(dataset=dataset, external_id="", content_hash__in=hashes).values_list(
            "content_hash", "id"
        )
    )
    results: dict[int, IngestedItem] = {}
    to_create: list[tuple[int, SolutionInput, str]] = []
    seen_content: dict[str, int] = {}
    for index, (item, digest) in enumerate(zip(items, hashes, strict=True)):
        existing_id = by_external.get(item.external_id) if item.external_id else by_content.get(digest)
        if existing_id is None and not item.external_id and digest in seen_content:
            existing_id = -1  # same content twice in one batch: store once
        if existing_id is not None and existing_id != -1:
            results[index] = IngestedItem(index, "existing", existing_id, item.external_id)
        elif existing_id is None:
            to_create.append((index, item, digest))
            if not item.external_id:
                seen_content[digest] = index
    problems = _problems_for(dataset, [item for _, item, _ in to_create])
    solutions = [
        Solution(
            dataset=dataset,
            problem=problems[problem_hash(item.problem)],
            external_id=item.external_id,
            content_hash=digest,
            steps=list(item.steps),
            num_steps=len(item.steps),
            generator=item.generator,
            subset=item.subset,
            final_answer=item.final_answer,
            final_answer_correct=item.final_answer_correct,
            imported_label=item.label,
            metadata=item.metadata,
        )
        for _, item, digest in to_create
    ]
    created = Solution.objects.bulk_create(solutions, batch_size=500)
    FinalLabel.objects.bulk_create(
        [
            FinalLabel(
                solution=solution,
                label=solution.imported_label,
                step_count=solution.num_steps,
                source=FinalLabelSource.IMPORTED,
            )
            for solution in created
            if solution.imported_label is not None
        ],
        batch_size=500,
    )
    for (index, item, _), solution in zip(to_create, created, strict=True):
        results[index] = IngestedItem(index, "created", solution.pk, item.external_id)
    for index, item in enumerate(items):
        if index not in results:  # duplicate content within the batch
            first = results[seen_content[hashes[index]]]
            results[index] = IngestedItem(index, "existing", first.solution_id, item.external_id)
    new_ids = [solution.pk for solution in created]
    if new_ids:
        transaction.on_commit(lambda: _after_commit(dataset.pk, new_ids))
    return IngestResult(items=[results[index] for index in range(len(items))])


def _problems_for(dataset: Dataset, items: Sequence[SolutionInput]) -> dict[str, Problem]:
    """Return problems by text hash, creating missing ones and filling blank reference fields."""
    wanted: dict[str, SolutionInput] = {}
    for item in items:
        wanted.setdefault(problem_hash(item.problem), item)
    found = {p.content_hash: p for p in Problem.objects.filter(dataset=dataset, content_hash__in=list(wanted))}
    missing = [
        Problem(
            dataset=dataset,
            text=item.problem,
            reference_answer=item.reference_answer,
            reference_solution=item.reference_solution,
            content_hash=digest,
        )
        for digest, item in wanted.items()
        if digest not in found
    ]
    for problem in Problem.objects.bulk_create(missing, batch_size=500):
        found[problem.content_hash] = problem
    to_update = []
    for digest, problem in found.items():
        item = wanted[digest]
        if (not problem.reference_answer and item.reference_answer) or (
            not problem.reference_solution and item.reference_solution
        ):
            problem.reference_answer = problem.reference_answer or item.reference_answer
            problem.reference_solution = problem.reference_solution or item.reference_solution
            to_update.append(problem)
    if to_update:
        Problem.objects.bulk_update(to_update, ["reference_answer", "reference_solution"])
    return found


def _after_commit(dataset_id: int, solution_ids: list[int]) -> None:
    from annotations.tasks import check_final_answers  # tasks import services; import late to avoid a cycle

    try:
        check_final_answers.delay(solution_ids)
    except Exception:
        import logging

        logging.getLogger(__name__).exception("could not enqueue the final-answer check; the sweep will retry")
    hooks.notify_solutions_ingested(dataset_id=dataset_id, solution_ids=solution_ids)
