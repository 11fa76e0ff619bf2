"""Import parsed file records through the ingestion service, in chunks, all or nothing.

The pipeline is file -> parser (`annotations.importers`) -> ParsedRecord -> `solutions_ingest`. The
whole import runs in one transaction: if any record is invalid, nothing is stored and every reason
is reported. Records a parser skips (e.g. a PRM800K labeler gave up) are reported and not stored.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from annotations.importers.base import ParsedRecord
from annotations.importers.labels import ImportedLabels, labels_taxonomy_errors
from annotations.models import Dataset
from annotations.segmentation import SEGMENTATIONS, Segmenter
from annotations.services.ingestion import solutions_ingest
from annotations.services.label_imports import imported_labels_store, missing_annotators
from annotations.services.response_input import merge_split_errors, segment_input, segmenter_for
from annotations.solution_input import MAX_BATCH_ITEMS, Errors, SolutionInput, validate_solution_input
from prmweb.errors import ApplicationError

DEFAULT_CHUNK_SIZE = 500
# Reasons kept on the report (the rest are only counted): a file in the wrong format can have millions.
MAX_KEPT_REJECTIONS = 1000


@dataclass(frozen=True)
class Rejection:
    """One reason a record was rejected: where it is, which field, and what is wrong."""

    locator: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.locator}: {self.field}: {self.message}"


@dataclass(frozen=True)
class SkippedRecord:
    locator: str
    reason: str

    def __str__(self) -> str:
        return f"{self.locator}: skipped: {self.reason}"


@dataclass
class ImportReport:
    """What an import did: counts, rejection reasons, skipped records and the stored solution ids.

    `rejections` keeps the first MAX_KEPT_REJECTIONS reasons; `rejection_count` counts them all.
    """

    created: int = 0
    existing: int = 0
    rejected_records: int = 0
    rejection_count: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    skipped: list[SkippedRecord] = field(default_factory=list)
    solution_ids: dict[str, int] = field(default_factory=dict)  # external id -> solution id
    stored: bool = True
    annotations: int = 0
    users_created: list[str] = field(default_factory=list)

    def reject(self, locator: str, errors: Errors) -> None:
        """Count one invalid record and its reasons (keeping the first MAX_KEPT_REJECTIONS reasons)."""
        self.rejected_records += 1
        for name, messages in errors.items():
            for message in messages:
                self.rejection_count += 1
                if len(self.rejections) < MAX_KEPT_REJECTIONS:
                    self.rejections.append(Rejection(locator, name, message))

    def summary_line(self) -> str:
        """Return "created N, existing N, rejected N", then skipped records, annotations, accounts, rollback."""
        line = f"created {self.created}, existing {self.existing}, rejected {self.rejected_records}"
        if self.skipped:
            line += f", skipped {len(self.skipped)}"
        if self.annotations:
            line += f", annotations {self.annotations}"
        if self.users_created:
            line += f", inactive accounts created for {', '.join(self.users_created)}"
        if not self.stored:
            line += " (nothing was stored)"
        return line


class ImportRejectedError(ApplicationError):
    """An import with invalid records; nothing was stored. `report` lists every reason."""

    def __init__(self, report: ImportReport):
        errors: dict[str, Errors] = {}
        for rejection in report.rejections:
            errors.setdefault(rejection.locator, {}).setdefault(rejection.field, []).append(rejection.message)
        super().__init__(
            f"{report.rejected_records} records are invalid; nothing was stored. {report.rejections[0]}",
            errors=errors,
        )
        self.report = report


class _RollBack(Exception):
    pass


def solutions_import(
    *,
    dataset: Dataset,
    records: Iterable[ParsedRecord],
    user: AbstractBaseUser | AnonymousUser | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    segmentation: str | None = None,
    create_annotators: bool = False,
) -> ImportReport:
    """Validate and store every record of an import file in one transaction; return the report.

    Records holding a response are split into steps first: by their own `segmentation`, else by
    `segmentation` (the command's --segmentation), else by the dataset's. Idempotent: records already
    in the dataset (same external id, else same problem, steps and response) count as existing.
    Duplicate ids within the file are rejected, as in one REST batch. Raises ImportRejectedError (with
    the full report) when any record is invalid; nothing is stored then. New solutions get their
    final-answer check and scoring after the commit, as over REST. Records with labels (an
    `annotations` export) bring their annotations and critiques to the solutions they create
    (`imported_labels_store`); an annotator without an account here rejects the record unless
    `create_annotators`, which creates inactive accounts.
    """
    if segmentation is not None and segmentation not in SEGMENTATIONS:
        raise ApplicationError(
            f"Unknown segmentation {segmentation!r}.",
            errors={"segmentation": [f"Must be one of: {', '.join(SEGMENTATIONS)}."]},
        )
    chunk_size = max(1, min(chunk_size, MAX_BATCH_ITEMS))
    segmenter = segmenter_for(
        segmentation=dataset.segmentation, pattern=dataset.segmentation_pattern, default=segmentation
    )
    report = ImportReport()
    store = partial(_store_chunk, dataset=dataset, user=user, report=report, create_annotators=create_annotators)
    try:
        with transaction.atomic():
            _import_records(
                dataset=dataset, records=records, chunk_size=chunk_size, report=report, segmenter=segmenter, store=store
            )
            if report.rejected_records:
                raise _RollBack
    except _RollBack:
        report.created = report.existing = report.annotations = 0
        report.solution_ids = {}
        report.users_created = []
        report.stored = False
        raise ImportRejectedError(report) from None
    return report


# One record ready to store: where it is, its item (steps split from a response), the labels it brings.
_Ready = tuple[str, SolutionInput, ImportedLabels | None]


def _import_records(
    *,
    dataset: Dataset,
    records: Iterable[ParsedRecord],
    chunk_size: int,
    report: ImportReport,
    segmenter: Segmenter,
    store: Callable[[list[_Ready]], None],
) -> None:
    seen_ids: dict[str, str] = {}
    chunk: list[_Ready] = []
    for record in records:
        if record.skip_reason:
            report.skipped.append(SkippedRecord(record.locator, record.skip_reason))
            continue
        item, errors = _checked_item(record, seen_ids, segmenter, dataset)
        if errors or item is None:
            report.reject(record.locator, errors)
            continue
        if report.rejected_records:
            continue  # nothing will be stored: keep validating to report every reason
        chunk.append((record.locator, item, record.labels))
        if len(chunk) >= chunk_size:
            store(chunk)
            chunk = []
    if chunk and not report.rejected_records:
        store(chunk)


def _checked_item(
    record: ParsedRecord, seen_ids: dict[str, str], segmenter: Segmenter, dataset: Dataset
) -> tuple[SolutionInput | None, Errors]:
    """Return the record's item (its response split into steps) and its errors by field.

    Structural errors from the parser win over value checks of the same field.
    """
    if record.item is None:
        return None, dict(record.errors) or {"non_field_errors": ["The record could not be read."]}
    item, split_errors = segment_input(record.item, segmenter)
    errors = {**merge_split_errors(validate_solution_input(item), split_errors), **record.errors}
    if record.labels is not None:
        errors.update(labels_taxonomy_errors(record.labels, dataset.error_types))
    external_id = item.external_id
    if isinstance(external_id, str) and external_id:
        if external_id in seen_ids:
            errors.setdefault("id", []).append(
                f"Duplicate id {external_id!r} in this file (also {seen_ids[external_id]})."
            )
        else:
            seen_ids[external_id] = record.locator
    return item, errors


def _store_chunk(
    chunk: list[_Ready],
    *,
    dataset: Dataset,
    user: AbstractBaseUser | AnonymousUser | None,
    report: ImportReport,
    create_annotators: bool,
) -> None:
    if not create_annotators and _reject_unknown_annotators(chunk, report):
        return
    result = solutions_ingest(dataset=dataset, items=[item for _, item, _ in chunk], user=user)
    report.created += result.created
    report.existing += result.existing
    for ingested in result.items:
        if ingested.external_id:
            report.solution_ids[ingested.external_id] = ingested.solution_id
    labelled = [
        (ingested.solution_id, labels)
        for ingested, (_, _, labels) in zip(result.items, chunk, strict=True)
        if ingested.status == "created" and labels is not None
    ]
    stored = imported_labels_store(stored=labelled, create_annotators=create_annotators)
    report.annotations += stored.annotations
    report.users_created.extend(stored.users_created)


def _reject_unknown_annotators(chunk: list[_Ready], report: ImportReport) -> bool:
    """Reject the chunk's items naming annotators without an account here; return whether there were any."""
    usernames = {name for _, _, labels in chunk if labels is not None for name in labels.usernames}
    missing = missing_annotators(usernames) if usernames else set()
    message = "No account with this username here; create it first, or import with --create-annotators."
    for locator, _, labels in chunk:
        annotations = labels.annotations if labels is not None else ()
        unknown = {
            f"annotations[{index}].annotator": [message]
            for index, annotation in enumerate(annotations)
            if annotation.annotator in missing
        }
        if unknown:
            report.reject(locator, unknown)
    return bool(missing)
