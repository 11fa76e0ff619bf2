"""Write a complete export folder: data files, dataset card and manifest."""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from annotations.exporters.card import ExportDescription, build_manifest, render_card
from annotations.exporters.pipeline import PipelineResult, run_pipeline
from annotations.exporters.records import SolutionRecord
from annotations.exporters.writers import SplitFolderWriter, WrittenFile, file_sha256

CARD_FILE = "README.md"
MANIFEST_FILE = "manifest.json"


@dataclass(frozen=True)
class FolderResult:
    """The pipeline's result plus every file in the folder (data, card, manifest)."""

    result: PipelineResult
    files: list[WrittenFile]


def _describe(folder: Path, name: str) -> WrittenFile:
    path = folder / name
    return WrittenFile(path=name, split="", rows=0, bytes=path.stat().st_size, sha256=file_sha256(path))


def write_export_folder(
    folder: Path,
    rows: Iterable[SolutionRecord],
    *,
    description: ExportDescription,
    on_progress: Callable[[int], None] | None = None,
    rows_per_shard: int = 100_000,
    batch_rows: int = 2_000,
) -> FolderResult:
    """Stream rows into `folder/data/`, then write `README.md` and `manifest.json` (which hashes the others)."""
    writer = SplitFolderWriter(
        folder,
        file_format=description.file_format,
        columns=description.formatter.columns,
        rows_per_shard=rows_per_shard,
        batch_rows=batch_rows,
    )
    result = run_pipeline(
        rows,
        formatter=description.formatter,
        writer=writer,
        seed=description.seed,
        ratios=description.ratios,
        on_progress=on_progress,
        critique_source=description.critique_source,
    )
    (folder / CARD_FILE).write_text(render_card(description, result), encoding="utf-8")
    card = _describe(folder, CARD_FILE)
    manifest = build_manifest(description, result, [card])
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return FolderResult(result=result, files=[*result.files, card, _describe(folder, MANIFEST_FILE)])
