"""Import solutions into a dataset: ProcessBench, PRM800K, prmweb JSON Lines, responses, OpenAI/vLLM batch output."""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    load_batch_problems,
    load_reference_answers,
    parser_for,
)
from annotations.models import Dataset
from annotations.segmentation import SEGMENTATIONS
from annotations.services.datasets import dataset_create
from annotations.services.imports import DEFAULT_CHUNK_SIZE, ImportRejectedError, ImportReport, solutions_import
from prmweb.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Import solutions from a file: --format processbench (a JSON array; --answers FILE adds reference "
        "answers by id), prm800k (raw PRM800K records), jsonl (one REST-API solution object per line), "
        "responses (JSON Lines of {problem, response, ...}) or openai-batch (an OpenAI Batch API or vllm "
        "run-batch output file; --problems FILE maps custom ids to problems). All or nothing: one invalid "
        "record stores nothing. Prints 'created N, existing N, rejected N'."
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
        parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE, help="Solutions per ingestion batch.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")
        parser.add_argument("--user", help="Username recorded as who ingested the new solutions (default: nobody).")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["path"]
        self._check_options(options)
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        answers = self._answers(options["answers"]) if options["answers"] else None
        problems = self._problems(options["problems"]) if options["problems"] else None
        user = self._user(options["user"]) if options["user"] else None
        parse = parser_for(
            options["file_format"], answers=answers, problems=problems, skip_failed=options["skip_failed"]
        )
        try:
            # One transaction: a rejected import leaves no dataset created by --create-dataset either.
            with transaction.atomic(), path.open(encoding="utf-8", errors="strict") as stream:
                dataset, created = self._dataset(options["dataset"], create=options["create_dataset"])
                records = self._with_progress(parse(stream), disable=options["no_progress"])
                report = solutions_import(
                    dataset=dataset,
                    records=records,
                    user=user,
                    chunk_size=options["chunk_size"],
                    segmentation=options["segmentation"],
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

    def _user(self, username: str) -> AbstractBaseUser:
        user = get_user_model()._default_manager.filter(username=username).first()
        if user is None:
            raise CommandError(f"--user {username!r}: no such user.")
        return user

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
