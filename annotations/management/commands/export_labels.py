"""`manage.py export_labels --dataset SLUG --format F [--out DIR] [filters]`: export final labels now, with progress."""

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from annotations.exporters import CRITIQUE_SOURCES, FILE_FORMATS, FORMATTERS, SPLITS
from annotations.exporters.folder import MANIFEST_FILE
from annotations.models import Dataset, Export, ExportStatus, FinalLabelSource
from annotations.services.exports import export_create, export_run
from prmweb.errors import ApplicationError


class Command(BaseCommand):
    help = (
        "Export a dataset's final labels into a folder that datasets.load_dataset() reads "
        "(train/validation/test split by problem, README.md dataset card, manifest.json)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dataset", required=True, help="Slug of the dataset.")
        parser.add_argument("--format", required=True, choices=list(FORMATTERS), dest="export_format")
        parser.add_argument("--out", help="Folder to create (default: EXPORT_ROOT/<dataset>/export-<id>-<format>).")
        parser.add_argument("--file-format", choices=list(FILE_FORMATS), default="jsonl")
        parser.add_argument("--split", default="0.8,0.1,0.1", help="train,validation,test shares of problems.")
        parser.add_argument("--seed", type=int, default=0, help="Seed of the split by problem.")
        parser.add_argument(
            "--critique-source",
            choices=list(CRITIQUE_SOURCES),
            help="critique and step_feedback: explanations by people (human, default), judge critiques that agree "
            "with the final label (judge), or both.",
        )
        parser.add_argument(
            "--label-sources",
            help=f"Comma-separated final-label sources to keep ({', '.join(FinalLabelSource.values)}).",
        )
        parser.add_argument("--min-agreement", help="Keep labels whose annotator agreement is at least this (0-1).")
        parser.add_argument("--exclude-flagged", action="store_true", help="Drop solutions with a flagged annotation.")
        parser.add_argument("--subsets", help="Comma-separated subsets to keep.")
        parser.add_argument("--generators", help="Comma-separated generators to keep.")
        parser.add_argument("--decided-after", help="Final label decided at or after (ISO 8601 date or datetime).")
        parser.add_argument("--decided-before", help="Final label decided before (ISO 8601 date or datetime).")
        parser.add_argument("--user", help="Username recorded as the export's creator.")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw the progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        dataset = Dataset.objects.filter(slug=options["dataset"]).first()
        if dataset is None:
            raise CommandError(f"--dataset: no dataset with slug {options['dataset']!r}.")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no user named {options['user']!r}.")
        filters = {
            name: options[name]
            for name in ("label_sources", "min_agreement", "subsets", "generators", "decided_after", "decided_before")
            if options[name] is not None
        }
        if options["exclude_flagged"]:
            filters["exclude_flagged"] = True
        try:
            export = export_create(
                dataset=dataset,
                created_by=user,
                export_format=options["export_format"],
                file_format=options["file_format"],
                filters=filters,
                split_ratios=options["split"],
                seed=options["seed"],
                output_dir=options["out"],
                enqueue=False,
                critique_source=options["critique_source"],
            )
        except ApplicationError as exc:
            raise CommandError(_cli_message(exc)) from None
        export = self._run(export.pk, show_progress=not options["no_progress"])
        if export.status != ExportStatus.SUCCEEDED:
            raise CommandError(f"Export {export.pk} failed: {export.error}")
        self._report(export)

    def _report(self, export: Export) -> None:
        counts = ", ".join(f"{split} {export.row_counts.get(split, 0)}" for split in SPLITS)
        rows = sum(export.row_counts.values())
        what = (
            f"{export.rows_done} solutions"
            if rows == export.rows_done
            else f"{rows} rows from {export.rows_done} solutions"
        )
        self.stdout.write(self.style.SUCCESS(f"Export {export.pk}: {what} ({counts})"))
        self.stdout.write(export.output_dir)
        empty = [split for split in SPLITS if export.split_ratios.get(split) and not export.row_counts.get(split)]
        if empty:
            self.stderr.write(
                f"note: no problem fell into {', '.join(empty)} (splits are drawn per problem by a seeded hash); "
                "those splits have no files. More problems, other ratios or another --seed change that."
            )
        manifest = json.loads((Path(export.output_dir) / MANIFEST_FILE).read_text(encoding="utf-8"))
        if skipped := manifest.get("rows_skipped"):
            reasons = "; ".join(f"{reason}: {count}" for reason, count in skipped.items())
            self.stderr.write(f"note: rows left out ({reasons}); the card's 'Skipped rows' lists them too.")

    def _run(self, export_id: int, *, show_progress: bool) -> Any:
        """Run the export, drawing a bar on a terminal; in a log (stderr not a terminal) print its last line once."""
        stream = getattr(self.stderr, "_out", sys.stderr)  # tqdm redraws with "\r": the raw stream, not the wrapper
        if not show_progress:
            return export_run(export_id=export_id)
        if not stream.isatty():
            started, counts = time.monotonic(), [0, 0]

            def remember(done: int, total: int) -> None:
                counts[:] = [done, total]

            export = export_run(export_id=export_id, on_progress=remember)
            meter = tqdm.format_meter(counts[0], counts[1], time.monotonic() - started, prefix="export", unit=" rows")
            stream.write(meter + "\n")
            return export
        with tqdm(total=0, unit=" rows", desc="export", file=stream) as bar:

            def progress(done: int, total: int) -> None:
                bar.total = total
                bar.update(done - bar.n)

            return export_run(export_id=export_id, on_progress=progress)


def _cli_message(exc: ApplicationError) -> str:
    """Return the error with command-line option names (`--split`, `--min-agreement`) for the fields."""
    options = {"split_ratios": "split", "output_dir": "out", "format": "format", "file_format": "file-format"}
    lines = []
    for field, messages in exc.errors.items():
        name = options.get(field, field.removeprefix("filters.")).replace("_", "-")
        lines.append(f"--{name}: {' '.join(str(message) for message in messages)}")
    return "\n".join(lines) or exc.message
