"""Export final labels: create an export row (validated), then run it into a folder of files.

One service under the three ways to start an export (admin action, `manage.py export_labels`,
`POST /api/v1/exports/`). `export_create` validates and stores the row and, when asked, enqueues the
`run_export` task after the commit; `export_run` streams the solutions in chunks through the exporters
pipeline, records progress on the row as it goes, and records files (sha256, size) or the error.
"""

import glob
import json
import logging
import shutil
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

import prmweb
from annotations.exporters import FILE_FORMATS, FORMATTERS, parse_split_ratios
from annotations.exporters.card import ExportDescription
from annotations.exporters.filters import ExportFilters, InvalidFilters, parse_export_filters
from annotations.exporters.folder import MANIFEST_FILE, FolderResult, write_export_folder
from annotations.models import Dataset, Export, ExportStatus, FinalLabelSource
from annotations.selectors.export_records import solution_records
from annotations.selectors.exports import export_selection
from prmweb.core.redaction import redact_addresses
from prmweb.errors import ApplicationError, NotFoundError, ServiceUnavailableError
from prmweb.taskqueue import task_by_name

logger = logging.getLogger(__name__)

EXPORT_CHUNK_SIZE = 2000
RUN_EXPORT_TASK = "annotations.tasks.run_export"
MAX_SEED = 2**31 - 1
QUEUE_UNAVAILABLE = (
    "The export could not be queued: the task queue is unavailable. Nothing was started; try again shortly."
)

ProgressCallback = Callable[[int, int], None]


def _critique_source_errors(export_format: str, critique_source: Any) -> list[str]:
    formatter = FORMATTERS.get(export_format)
    if formatter is None or critique_source is None:
        return []
    critics = [name for name, item in FORMATTERS.items() if item.critique_sources]
    if not formatter.critique_sources:
        return [f"Only the {' and '.join(critics)} formats take a critique source."]
    if critique_source not in formatter.critique_sources:
        return [f"Unknown critique source {critique_source!r}; use one of {', '.join(formatter.critique_sources)}."]
    return []


def _validation_errors(
    *, export_format: str, file_format: str, split_ratios: Any, seed: Any, filters: Any, critique_source: Any = None
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    errors: dict[str, list[str]] = {}
    parsed: dict[str, Any] = {}
    if export_format not in FORMATTERS:
        errors["format"] = [f"Unknown format {export_format!r}; use one of {', '.join(FORMATTERS)}."]
    if found := _critique_source_errors(export_format, critique_source):
        errors["critique_source"] = found
    if file_format not in FILE_FORMATS:
        errors["file_format"] = [f"Unknown file format {file_format!r}; use one of {', '.join(FILE_FORMATS)}."]
    try:
        parsed["ratios"] = parse_split_ratios(split_ratios)
    except ValueError as exc:
        errors["split_ratios"] = [str(exc)]
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEED:
        errors["seed"] = [f"Must be an integer from 0 to {MAX_SEED}."]
    try:
        parsed["filters"] = parse_export_filters(filters, label_sources=FinalLabelSource.values)
    except InvalidFilters as exc:
        errors.update(exc.errors)
    return errors, parsed


def _output_dir_errors(output_dir: str | Path | None) -> list[str]:
    if output_dir is None:
        return []
    path = Path(output_dir)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        return [f"{path} already exists and is not an empty folder; choose a new folder."]
    return []


def _default_output_dir(export: Export) -> Path:
    return Path(settings.EXPORT_ROOT) / export.dataset.slug / f"export-{export.pk:06d}-{export.format}"


@transaction.atomic
def export_create(
    *,
    dataset: Dataset,
    created_by: AbstractBaseUser | AnonymousUser | None,
    export_format: str,
    file_format: str = "jsonl",
    filters: Mapping[str, Any] | None = None,
    split_ratios: str | Sequence[float] | Mapping[str, float] | None = None,
    seed: int = 0,
    output_dir: str | Path | None = None,
    enqueue: bool = True,
    critique_source: str | None = None,
) -> Export:
    """Validate and store an export row (status queued); enqueue `run_export` after the commit when asked.

    `critique_source` (`human`, `judge` or `both`; default `human`) applies to the critic formats only.
    Raises ApplicationError naming each bad field (`format`, `file_format`, `split_ratios`, `seed`,
    `filters.<name>`, `critique_source`, `output_dir`). The folder defaults to
    `EXPORT_ROOT/<dataset>/export-<id>-<format>`. When the broker cannot take the task, the row is deleted
    again and ServiceUnavailableError raised (after the commit: from this call when it is the outermost
    transaction). Without a broker the export runs in-process right after the commit, so it has finished
    when this returns.
    """
    errors, parsed = _validation_errors(
        export_format=export_format,
        file_format=file_format,
        split_ratios=split_ratios,
        seed=seed,
        filters=filters,
        critique_source=critique_source,
    )
    if found := _output_dir_errors(output_dir):
        errors["output_dir"] = found
    if errors:
        first_field, messages = next(iter(errors.items()))
        raise ApplicationError(f"Invalid export: {first_field}: {messages[0]}", errors=errors)
    critique_sources = FORMATTERS[export_format].critique_sources
    export = Export.objects.create(
        dataset=dataset,
        created_by_id=created_by.pk if created_by is not None and created_by.is_authenticated else None,
        format=export_format,
        file_format=file_format,
        filters=parsed["filters"].as_dict(),
        split_ratios=parsed["ratios"].as_dict(),
        seed=seed,
        critique_source=(critique_source or critique_sources[0]) if critique_sources else "",
    )
    export.output_dir = str(Path(output_dir).resolve() if output_dir is not None else _default_output_dir(export))
    export.save(update_fields=["output_dir"])
    if enqueue:
        export_id = export.pk
        transaction.on_commit(lambda: _enqueue(export_id))
    return export


def export_runs_in_process() -> bool:
    """Return whether `run_export` runs in the caller's process (no broker: the embedded default)."""
    return bool(task_by_name(RUN_EXPORT_TASK).app.conf.task_always_eager)


def _enqueue(export_id: int) -> None:
    """Send `run_export`; when the broker cannot take it, delete the unstarted row and raise a 503 error."""
    try:
        task_by_name(RUN_EXPORT_TASK).delay(export_id)
    except Exception as exc:  # the broker is unreachable (its errors vary by transport); the log keeps why
        logger.exception("could not enqueue export %s", export_id)
        Export.objects.filter(pk=export_id, status=ExportStatus.QUEUED).delete()
        raise ServiceUnavailableError(
            QUEUE_UNAVAILABLE, errors={"queue": ["The task queue is unavailable; nothing was started."]}
        ) from exc


def export_run(*, export_id: int, on_progress: ProgressCallback | None = None) -> Export:
    """Run a queued export: stream its solutions into its folder and record files, counts and status.

    Side effects: writes the folder (built beside it under a temporary name, then renamed, so a folder
    is never half-written; temporary folders left by earlier, killed attempts of this export are removed
    first), updates `rows_done`/`rows_total` every 1000 rows, and sets status, files, row counts and
    timestamps, or `failed` with the error. `on_progress(done, total)` is called as
    rows go by. Idempotent: an export that already succeeded or failed is returned unchanged; one left
    `running` by a lost worker is run again from the start.
    """
    claimed = Export.objects.filter(pk=export_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), rows_done=0, error=""
    )
    export = Export.objects.select_related("dataset").filter(pk=export_id).first()
    if export is None:
        raise NotFoundError(f"Export {export_id} not found.", errors={"id": ["No export with this id."]})
    if not claimed:
        return export
    try:
        outcome = _write(export, on_progress)
    except ApplicationError as exc:  # a refusal the user can act on, not a crash
        Export.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED, error=exc.message, finished_at=timezone.now()
        )
    except Exception as exc:
        logger.exception("export %s failed", export_id)
        Export.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED,
            error=redact_addresses(f"{type(exc).__name__}: {exc}"),
            finished_at=timezone.now(),
        )
    else:
        stats = outcome.result.stats
        Export.objects.filter(pk=export_id).update(
            status=ExportStatus.SUCCEEDED,
            rows_done=stats.rows_seen,
            rows_total=stats.rows_seen,
            row_counts=stats.row_counts(),
            files=[item.as_dict() for item in outcome.files],
            finished_at=timezone.now(),
        )
    export.refresh_from_db()
    return export


def _write(export: Export, on_progress: ProgressCallback | None) -> FolderResult:
    formatter = FORMATTERS[export.format]
    filters = parse_export_filters(export.filters, label_sources=FinalLabelSource.values)
    critique = bool(formatter.critique_sources)
    selection = export_selection(
        dataset=export.dataset,
        filters=filters,
        labelled_only=formatter.requires_final_label,
        judge_critiques=critique and export.critique_source in ("judge", "both"),
    )
    total = selection.matching().count()
    if total == 0:
        raise ApplicationError(
            "No solution matches this export's filters"
            + (
                " (only solutions with a final label are exported in this format)."
                if formatter.requires_final_label
                else "."
            )
            + " Nothing was written.",
            errors={"filters": ["No solution matches."]},
        )
    Export.objects.filter(pk=export.pk).update(rows_total=total)

    def progress(done: int) -> None:
        Export.objects.filter(pk=export.pk).update(rows_done=done, rows_total=max(total, done))
        if on_progress is not None:
            on_progress(done, max(total, done))

    final_dir = Path(export.output_dir)
    _remove_stale_partials(final_dir)
    partial = final_dir.parent / f".{final_dir.name}.partial-{uuid.uuid4().hex[:12]}"
    partial.mkdir(parents=True)
    try:
        outcome = write_export_folder(
            partial,
            solution_records(
                selection, provenance=export.format == "annotations", critique=critique, chunk_size=EXPORT_CHUNK_SIZE
            ),
            description=_description(export, filters),
            on_progress=progress,
        )
        _refuse_empty(outcome)
        _move_into_place(partial, final_dir, export.pk)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return outcome


def _remove_stale_partials(final_dir: Path) -> None:
    """Delete the temporary folders that earlier, killed attempts of this export left beside its folder."""
    for stale in final_dir.parent.glob(f".{glob.escape(final_dir.name)}.partial-*"):
        shutil.rmtree(stale, ignore_errors=True)


def _refuse_empty(outcome: FolderResult) -> None:
    """Refuse an export whose every solution was left out: a folder without data is of no use."""
    stats = outcome.result.stats
    if stats.rows_written:
        return
    reasons = "; ".join(f"{reason}: {count}" for reason, count in sorted(stats.skipped.items()))
    raise ApplicationError(
        f"{stats.rows_seen} solution(s) matched, but none gave a row ({reasons}). Nothing was written.",
        errors={"filters": ["No row to write."]},
    )


def _move_into_place(partial: Path, final_dir: Path, export_id: int) -> None:
    """Rename the finished folder to its final name, replacing only an empty folder or this export's own."""
    if final_dir.exists():
        manifest = final_dir / MANIFEST_FILE
        if final_dir.is_dir() and not any(final_dir.iterdir()):
            final_dir.rmdir()
        elif manifest.exists() and json.loads(manifest.read_text(encoding="utf-8")).get("export_id") == export_id:
            shutil.rmtree(final_dir)  # an earlier attempt of this same export
        else:
            raise ApplicationError(
                f"{final_dir} already exists and holds other files.", errors={"output_dir": ["Choose a new folder."]}
            )
    partial.rename(final_dir)


def _description(export: Export, filters: ExportFilters) -> ExportDescription:
    dataset = export.dataset
    return ExportDescription(
        export_id=export.pk,
        dataset_name=dataset.name,
        dataset_slug=dataset.slug,
        dataset_description=dataset.description,
        formatter=FORMATTERS[export.format],
        file_format=export.file_format,
        filters=filters.as_dict(),
        ratios=parse_split_ratios(export.split_ratios),
        seed=export.seed,
        protocol={
            "annotations per solution": dataset.annotations_per_solution,
            "max annotations": dataset.max_annotations,
            "agreement mode": dataset.agreement_mode,
            "when max is reached": dataset.on_max_reached,
            "triage": dataset.triage_mode,
            "audit rate": dataset.audit_rate,
            "blind (suggestions hidden)": dataset.blind,
            "rationale required": dataset.rationale_required,
        },
        created_at=export.created_at,
        prmweb_version=prmweb.__version__,
        critique_source=export.critique_source,
    )
