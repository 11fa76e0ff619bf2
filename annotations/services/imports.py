"""Import parsed file records through the ingestion service, in chunks, all or nothing.

The pipeline is file -> parser (`annotations.importers`) -> ParsedRecord -> `solutions_ingest`. The
whole import runs in one transaction: if any record is invalid, nothing is stored and every reason
is reported. Records a parser skips (e.g. a PRM800K labeler gave up) are reported and not stored.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction

from annotations.importers.base import ParsedRecord
from annotations.models import Dataset
from annotations.segmentation import SEGMENTATIONS, Segmenter
from annotations.services.ingestion import solutions_ingest
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

    def reject(self, locator: str, errors: Errors) -> None:
        """Count one invalid record and its reasons (keeping the first MAX_KEPT_REJECTIONS reasons)."""
        self.rejected_records += 1
        for name, messages in errors.items():
            for message in messages:
                self.rejection_count += 1
                if len(self.rejections) < MAX_KEPT_REJECTIONS:
                    self.rejections.append(Rejection(locator, name, message))

    def summary_line(self) -> str:
        """Return "created N, existing N, rejected N" (with skipped records and a rollback note when any)."""
        line = f"created {self.created}, existing {self.existing}, rejected {self.rejected_records}"
        if self.skipped:
            line += f", skipped {len(self.skipped)}"
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
) -> ImportReport:
    """Validate and store every record of an import file in one transaction; return the report.

    Records holding a response are split into steps first: by their own `segmentation`, else by
    `segmentation` (the command's --segmentation), else by the dataset's. Idempotent: records already
    in the dataset (same external id, else same problem, steps and response) count as existing.
    Duplicate ids within the file are rejected, as in one REST batch. Raises ImportRejectedError (with
    the full report) when any record is invalid; nothing is stored then. New solutions get their
    final-answer check and scoring after the commit, as over REST.
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
    try:
        with transaction.atomic():
            _import_records(
                dataset=dataset, records=records, user=user, chunk_size=chunk_size, report=report, segmenter=segmenter
            )
            if report.rejected_records:
                raise _RollBack
    except _RollBack:
        report.created = report.existing = 0
        report.solution_ids = {}
        report.stored = False
        raise ImportRejectedError(report) from None
    return report


def _import_records(
    *,
    dataset: Dataset,
    records: Iterable[ParsedRecord],
    user: AbstractBaseUser | AnonymousUser | None,
    chunk_size: int,
    report: ImportReport,
    segmenter: Segmenter,
) -> None:
    seen_ids: dict[str, str] = {}
    chunk: list[SolutionInput] = []
    for record in records:
        if record.skip_reason:
            report.skipped.append(SkippedRecord(record.locator, record.skip_reason))
            continue
        item, errors = _checked_item(record, seen_ids, segmenter)
        if errors or item is None:
            report.reject(record.locator, errors)
            continue
        if report.rejected_records:
            continue  # nothing will be stored: keep validating to report every reason
        chunk.append(item)
        if len(chunk) >= chunk_size:
            _store_chunk(dataset=dataset, chunk=chunk, user=user, report=report)
            chunk = []
    if chunk and not report.rejected_records:
        _store_chunk(dataset=dataset, chunk=chunk, user=user, report=report)


def _checked_item(
    record: ParsedRecord, seen_ids: dict[str, str], segmenter: Segmenter
) -> tuple[SolutionInput | None, Errors]:
    """Return the record's item (its response split into steps) and its errors by field.

    Structural errors from the parser win over value checks of the same field.
    """
    if record.item is None:
        return None, dict(record.errors) or {"non_field_errors": ["The record could not be read."]}
    item, split_errors = segment_input(record.item, segmenter)
    errors = {**merge_split_errors(validate_solution_input(item), split_errors), **record.errors}
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
    *,
    dataset: Dataset,
    chunk: list[SolutionInput],
    user: AbstractBaseUser | AnonymousUser | None,
    report: ImportReport,
) -> None:
    result = solutions_ingest(dataset=dataset, items=chunk, user=user)
    report.created += result.created
    report.existing += result.existing
    for ingested in result.items:
        if ingested.external_id:
            report.solution_ids[ingested.external_id] = ingested.solution_id
