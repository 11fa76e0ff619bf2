"""Import solutions into a dataset: ProcessBench, PRM800K, prmweb JSON Lines, responses, OpenAI/vLLM batch output,
or an annotations export (with its annotations and critiques)."""

import argparse
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.validators import validate_slug
from django.db import transaction
from tqdm import tqdm

from annotations.importers import (
    FORMATS,
    RESPONSE_FORMATS,
    BatchProblem,
    ParsedRecord,
    count_records,
    load_batch_problems,
    load_reference_answers,
    parse_annotations_path,
    parser_for,
)
from annotations.importers.sniff import format_hint
from annotations.models import Dataset
from annotations.segmentation import SEGMENTATIONS
from annotations.services.datasets import dataset_create
from annotations.services.imports import DEFAULT_CHUNK_SIZE, ImportRejectedError, ImportReport, solutions_import
from annotations.services.ingestion import MAX_BATCH_ITEMS
from prmweb.errors import ApplicationError

MAX_PRINTED_LINES = 20  # rejection (and skip) reasons printed; the rest are counted


@contextmanager
def _parsed(
    path: Path, file_format: str, parse: Callable[[TextIO], Iterator[ParsedRecord]]
) -> Iterator[Iterator[ParsedRecord]]:
    """Yield the parsed records of the file (or, for an annotations export, of its folder)."""
    if file_format == "annotations":
        yield parse_annotations_path(path)
        return
    with path.open(encoding="utf-8", errors="strict") as stream:
        yield parse(stream)


def _chunk_size(text: str) -> int:
    """Return --chunk-size as an int from 1 to MAX_BATCH_ITEMS; anything else is refused, never clamped."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= MAX_BATCH_ITEMS:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_BATCH_ITEMS} (got {text!r})")
    return value


class Command(BaseCommand):
    help = (
        "Import solutions from a file: --format processbench (a JSON array; --answers FILE adds reference "
        "answers by id), prm800k (raw PRM800K records), jsonl (one REST-API solution object per line), "
        "responses (JSON Lines of {problem, response, ...}), openai-batch (an OpenAI Batch API or vllm "
        "run-batch output file; --problems FILE maps custom ids to problems) or annotations (an annotations "
        "export folder or one of its data files: annotations and critiques come along). All or nothing: one "
        "invalid record stores nothing. Prints 'created N, existing N, rejected N'."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="The file to import.")
        parser.add_argument("--dataset", required=True, help="Slug of the dataset to import into.")
        parser.add_argument("--format", required=True, choices=FORMATS, dest="file_format")
        parser.add_argument(
            "--answers", type=Path, help="ProcessBench only: JSON object {record id: reference answer}."
        )
        parser.add_argument(
            "--problems",
            type=Path,
            help="openai-batch only (required): JSON Lines {custom_id, problem, reference_answer?, generator?, "
            "subset?, metadata?}, or the batch input file itself.",
        )
        parser.add_argument(
            "--skip-failed",
            action="store_true",
            help="openai-batch only: report failed requests as skipped instead of rejecting the file.",
        )
        parser.add_argument(
            "--segmentation",
            choices=SEGMENTATIONS,
            help="How to split responses that name no segmentation (default: the dataset's).",
        )
        parser.add_argument("--create-dataset", action="store_true", help="Create the dataset when it does not exist.")
        parser.add_argument("--name", help="With --create-dataset: the new dataset's name (default: its slug).")
        parser.add_argument(
            "--manager", metavar="USER", help="With --create-dataset: an existing user who manages the new dataset."
        )
        parser.add_argument(
            "--create-annotators",
            action="store_true",
            help="annotations only: create inactive accounts (no password) for annotators this instance lacks.",
        )
        parser.add_argument(
            "--chunk-size",
            type=_chunk_size,
            default=DEFAULT_CHUNK_SIZE,
            help=f"Solutions per ingestion batch (1 to {MAX_BATCH_ITEMS}).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show the progress bar.")
        parser.add_argument("--user", help="Username recorded as who ingested the new solutions (default: nobody).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        file_format: str = options["file_format"]
        self._check_options(options)
        if not path.is_file() and not (file_format == "annotations" and path.is_dir()):
            raise CommandError(f"{path}: no such file.")
        answers = self._answers(options["answers"]) if options["answers"] else None
        problems = self._problems(options["problems"]) if options["problems"] else None
        user = self._user("--user", options["user"]) if options["user"] else None
        manager = self._user("--manager", options["manager"]) if options["manager"] else None
        parse = parser_for(file_format, answers=answers, problems=problems, skip_failed=options["skip_failed"])
        total = None if options["no_progress"] else self._count(path, file_format)
        try:
            # One transaction: a rejected import leaves no dataset created by --create-dataset either.
            with transaction.atomic(), _parsed(path, file_format, parse) as parsed:
                dataset, created = self._dataset(options, manager)
                records = self._with_progress(parsed, total=total, disable=options["no_progress"])
                report = solutions_import(
                    dataset=dataset,
                    records=records,
                    user=user,
                    chunk_size=options["chunk_size"],
                    segmentation=options["segmentation"],
                    create_annotators=options["create_annotators"],
                )
        except ImportRejectedError as rejected:
            self._print_report(rejected.report)
            message = f"{path}: {rejected.report.rejected_records} invalid records; nothing was stored."
            raise CommandError(message + self._hint(path, file_format)) from None
        except UnicodeDecodeError as exc:
            raise CommandError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc
        except ApplicationError as exc:
            raise CommandError(f"{path}: {exc.message}") from exc
        if created:
            members = f"manager {manager.get_username()!r}" if manager else "no members yet: add them with add_member"
            self.stdout.write(f"Created dataset {dataset.slug!r} ({members}).")
        self._print_report(report)

    def _check_options(self, options: dict[str, Any]) -> None:
        """Refuse options that do not apply to the chosen format, and a missing --problems."""
        file_format = options["file_format"]
        if options["answers"] and file_format != "processbench":
            raise CommandError("--answers applies to --format processbench only.")
        if file_format != "openai-batch":
            for name in ("problems", "skip_failed"):
                if options[name]:
                    raise CommandError(f"--{name.replace('_', '-')} applies to --format openai-batch only.")
        elif not options["problems"]:
            raise CommandError("--format openai-batch needs --problems FILE (custom_id -> problem; see docs/api.md).")
        if options["segmentation"] and file_format not in RESPONSE_FORMATS:
            raise CommandError(f"--segmentation applies to --format {', '.join(RESPONSE_FORMATS)} only.")
        if options["create_annotators"] and file_format != "annotations":
            raise CommandError("--create-annotators applies to --format annotations only.")
        if (options["name"] or options["manager"]) and not options["create_dataset"]:
            raise CommandError("--name and --manager describe a new dataset: pass them with --create-dataset.")

    def _problems(self, path: Path) -> dict[str, BatchProblem]:
        if not path.is_file():
            raise CommandError(f"--problems {path}: no such file.")
        with path.open(encoding="utf-8") as stream:
            try:
                return load_batch_problems(stream)
            except ApplicationError as exc:
                raise CommandError(f"--problems {path}: {exc.message}") from exc
            except UnicodeDecodeError as exc:
                raise CommandError(f"--problems {path}: not UTF-8 text ({exc.reason} at byte {exc.start}).") from exc

    def _user(self, option: str, username: str) -> AbstractBaseUser:
        user = get_user_model()._default_manager.filter(username=username).first() if "\x00" not in username else None
        if user is None:
            raise CommandError(f"{option} {username!r}: no such user; create the account first.")
        return user

    def _answers(self, path: Path) -> dict[str, str]:
        if not path.is_file():
            raise CommandError(f"--answers {path}: no such file.")
        with path.open(encoding="utf-8") as stream:
            try:
                return load_reference_answers(stream)
            except ApplicationError as exc:
                raise CommandError(f"--answers {path}: {exc.message}") from exc

    def _dataset(self, options: dict[str, Any], manager: AbstractBaseUser | None) -> tuple[Dataset, bool]:
        slug: str = options["dataset"]
        dataset = Dataset.objects.filter(slug=slug).first()
        if dataset is not None:
            if options["name"] or options["manager"]:
                self.stdout.write(f"Dataset {slug!r} exists: --name and --manager apply to a new dataset only.")
            return dataset, False
        if not options["create_dataset"]:
            raise CommandError(f"Dataset {slug!r} does not exist; create it first or pass --create-dataset.")
        try:
            validate_slug(slug)
        except ValidationError as exc:
            raise CommandError(f"--dataset {slug!r}: {exc.messages[0]}") from exc
        creator = manager if manager is not None else AnonymousUser()  # the creator becomes its manager
        try:
            return dataset_create(user=creator, name=options["name"] or slug, slug=slug), True
        except ApplicationError as exc:
            raise CommandError(f"--dataset {slug!r}: {exc.message}") from exc

    @staticmethod
    def _count(path: Path, file_format: str) -> int | None:
        if not path.is_file():  # an annotations export folder: no total
            return None
        with path.open(encoding="utf-8", errors="strict") as stream:
            return count_records(file_format, stream)

    @staticmethod
    def _hint(path: Path, file_format: str) -> str:
        if not path.is_file():
            return ""
        with path.open(encoding="utf-8", errors="replace") as stream:
            hint = format_hint(stream, file_format)
        return f" Hint: {hint}." if hint else ""

    def _with_progress(
        self, records: Iterable[ParsedRecord], *, total: int | None, disable: bool
    ) -> Iterator[ParsedRecord]:
        """Yield the records, drawing a bar (total, percentage, ETA) on a terminal; else print its last line once."""
        stream = getattr(self.stderr, "_out", sys.stderr)  # tqdm redraws with "\r": the raw stream, not the wrapper
        if disable:
            yield from records
        elif stream.isatty():
            yield from tqdm(records, total=total, desc="importing", unit=" records", file=stream, mininterval=0.5)
        else:
            started, count = time.monotonic(), 0
            for record in records:
                count += 1
                yield record
            elapsed = time.monotonic() - started
            stream.write(tqdm.format_meter(count, total or 0, elapsed, prefix="importing", unit=" records") + "\n")

    def _print_report(self, report: ImportReport) -> None:
        for rejection in report.rejections[:MAX_PRINTED_LINES]:
            self.stderr.write(f"rejected {rejection}")
        if report.rejection_count > MAX_PRINTED_LINES:
            self.stderr.write(
                f"... and {report.rejection_count - MAX_PRINTED_LINES} more reasons not shown "
                f"({report.rejected_records} invalid records in all)."
            )
        for skipped in report.skipped[:MAX_PRINTED_LINES]:
            self.stdout.write(str(skipped))
        if len(report.skipped) > MAX_PRINTED_LINES:
            self.stdout.write(f"... and {len(report.skipped) - MAX_PRINTED_LINES} more skipped records not shown.")
        self.stdout.write(report.summary_line())
