"""Import solutions from a ProcessBench, PRM800K or prmweb JSON Lines file, or an annotations export, into a dataset."""

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction
from tqdm import tqdm

from annotations.importers import FORMATS, ParsedRecord, load_reference_answers, parse_annotations_path, parser_for
from annotations.models import Dataset
from annotations.services.datasets import dataset_create
from annotations.services.imports import DEFAULT_CHUNK_SIZE, ImportRejectedError, ImportReport, solutions_import
from prmweb.errors import ApplicationError


@contextmanager
def _parsed(path: Path, file_format: str, answers: dict[str, str] | None) -> Iterator[Iterator[ParsedRecord]]:
    """Yield the parsed records of the file (or, for an annotations export, of its folder)."""
    if file_format == "annotations":
        yield parse_annotations_path(path)
        return
    with path.open(encoding="utf-8", errors="strict") as stream:
        yield parser_for(file_format, answers=answers)(stream)


class Command(BaseCommand):
    help = (
        "Import solutions from a file: --format processbench (a JSON array; --answers FILE adds reference "
        "answers by id), prm800k (raw PRM800K records), jsonl (one REST-API solution object per line) or "
        "annotations (an annotations export folder or one of its data files: annotations and critiques come "
        "along). All or nothing: one invalid record stores nothing. Prints 'created N, existing N, rejected N'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The file to import.")
        parser.add_argument("--dataset", required=True, help="Slug of the dataset to import into.")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        parser.add_argument(
            "--answers", type=Path, help="ProcessBench only: JSON object {record id: reference answer}."
        )
        parser.add_argument("--create-dataset", action="store_true", help="Create the dataset when it does not exist.")
        parser.add_argument(
            "--create-annotators",
            action="store_true",
            help="annotations only: create inactive accounts (no password) for annotators this instance lacks.",
        )
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Solutions per ingestion batch.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        file_format: str = options["file_format"]
        if options["answers"] and file_format != "processbench":
            raise CommandError("--answers applies to --format processbench only.")
        if not path.is_file() and not (file_format == "annotations" and path.is_dir()):
            raise CommandError(f"{path}: no such file.")
        answers = self._answers(options["answers"]) if options["answers"] else None
        try:
            # One transaction: a rejected import leaves no dataset created by --create-dataset either.
            with transaction.atomic(), _parsed(path, file_format, answers) as parsed:
                dataset, created = self._dataset(options["dataset"], create=options["create_dataset"])
                records = self._with_progress(parsed, disable=options["no_progress"])
                report = solutions_import(
                    dataset=dataset,
                    records=records,
                    chunk_size=options["chunk_size"],
                    create_annotators=options["create_annotators"],
                )
        except ImportRejectedError as rejected:
            self._print_report(rejected.report)
            message = f"{path}: {rejected.report.rejected_records} invalid records; nothing was stored."
            raise CommandError(message) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        if created:
            self.stdout.write(f"Created dataset {dataset.slug!r}.")
        self._print_report(report)

    def _answers(self, path: Path) -> dict[str, str]:
        if not path.is_file():
            raise CommandError(f"--answers {path}: no such file.")
        with path.open(encoding="utf-8") as stream:
            try:
                return load_reference_answers(stream)
            except ApplicationError as exc:
                raise CommandError(f"--answers {path}: {exc.message}") from exc

    def _dataset(self, slug: str, *, create: bool) -> tuple[Dataset, bool]:
        dataset = Dataset.objects.filter(slug=slug).first()
        if dataset is not None:
            return dataset, False
        if not create:
            raise CommandError(f"Dataset {slug!r} does not exist; create it first or pass --create-dataset.")
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"--dataset {slug!r}: {exc.messages[0]}") from exc
        try:
            return dataset_create(user=AnonymousUser(), name=slug, slug=slug), True
        except ApplicationError as exc:
            raise CommandError(f"--dataset {slug!r}: {exc.message}") from exc

    def _with_progress(self, records: Iterator[ParsedRecord], *, disable: bool) -> Iterator[ParsedRecord]:
        # tqdm redraws with carriage returns: give it the raw stream, not Django's line-ending wrapper.
        stream = getattr(self.stderr, "_out", sys.stderr)
        yield from tqdm(records, desc="importing", unit=" records", file=stream, disable=disable, mininterval=0.5)

    def _print_report(self, report: ImportReport) -> None:
        for rejection in report.rejections:
            self.stderr.write(f"rejected {rejection}")
        for skipped in report.skipped:
            self.stdout.write(str(skipped))
        self.stdout.write(report.summary_line())
