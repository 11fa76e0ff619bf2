"""The export pipeline: rows -> formatter -> writer, with split assignment and running statistics.

Nothing here holds more than one row (and one Parquet batch) at a time: counters grow with the number of
distinct generators, subsets and label values, never with the number of rows.
"""

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from annotations.exporters.base import Formatter
from annotations.exporters.records import SolutionRecord
from annotations.exporters.splits import SPLITS, SplitRatios, assign_split
from annotations.exporters.writers import SplitFolderWriter, WrittenFile


@dataclass
class ExportStats:
    """What was exported: rows and problems per split, labels, their sources, generators, skipped rows."""

    rows_seen: int = 0
    rows_by_split: Counter[str] = field(default_factory=Counter)
    problems_by_split: Counter[str] = field(default_factory=Counter)
    labels: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    generators: Counter[str] = field(default_factory=Counter)
    subsets: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    critique_sources: Counter[str] = field(default_factory=Counter)
    example: dict[str, Any] | None = None

    @property
    def rows_written(self) -> int:
        return sum(self.rows_by_split.values())

    def add(self, row: SolutionRecord, split: str, *, critique_source: str | None = None) -> None:
        self.rows_by_split[split] += 1
        if critique_source is not None:
            self.critique_sources[critique_source] += 1
        final = row.final_label
        if final is None:
            self.labels["unlabelled"] += 1
            self.sources["none"] += 1
        else:
            self.labels["all correct (-1)" if final.label == -1 else f"error at step {final.label}"] += 1
            self.sources[final.source] += 1
        self.generators[row.generator or "(unknown)"] += 1
        self.subsets[row.subset or "(none)"] += 1

    def row_counts(self) -> dict[str, int]:
        return {split: self.rows_by_split[split] for split in SPLITS}

    def problem_counts(self) -> dict[str, int]:
        return {split: self.problems_by_split[split] for split in SPLITS}


@dataclass(frozen=True)
class PipelineResult:
    stats: ExportStats
    files: list[WrittenFile]


def run_pipeline(
    rows: Iterable[SolutionRecord],
    *,
    formatter: Formatter,
    writer: SplitFolderWriter,
    seed: int,
    ratios: SplitRatios,
    on_progress: Callable[[int], None] | None = None,
    progress_every: int = 1000,
    critique_source: str = "",
) -> PipelineResult:
    """Format and write every row into its problem's split; return the statistics and the files.

    Rows should arrive grouped by problem (the export service orders them so) for the per-split problem
    counts to be exact; the split of a row never depends on the order. `on_progress(rows_seen)` is
    called every `progress_every` rows and once at the end. On any error the writer is aborted.
    `critique_source` goes to the critic formats (which may give several records per solution).
    """
    stats = ExportStats()
    last_problem: str | None = None
    split_of: tuple[str | None, str] = (None, "")  # the last problem's split: rows come grouped by problem
    try:
        for row in rows:
            stats.rows_seen += 1
            if split_of[0] != row.problem_key:
                split_of = (row.problem_key, assign_split(row.problem_key, seed=seed, ratios=ratios))
            split = split_of[1]
            formatted = formatter.records(row, critique_source=critique_source)
            for reason in formatted.skipped:
                stats.skipped[reason] += 1
            for record in formatted.records:
                writer.write(split, record)
                stats.add(row, split, critique_source=record["source"] if formatter.critique_sources else None)
                if stats.example is None:
                    stats.example = record
            if formatted.records and row.problem_key != last_problem:
                stats.problems_by_split[split] += 1
                last_problem = row.problem_key
            if on_progress is not None and stats.rows_seen % progress_every == 0:
                on_progress(stats.rows_seen)
        files = writer.close()
    except BaseException:
        writer.abort()
        raise
    if on_progress is not None:
        on_progress(stats.rows_seen)
    return PipelineResult(stats=stats, files=files)
