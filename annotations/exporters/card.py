"""The dataset card (`README.md` with a Hub YAML header) and `manifest.json` of an export folder."""

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from annotations.exporters.base import Formatter
from annotations.exporters.pipeline import PipelineResult
from annotations.exporters.schema import hf_features
from annotations.exporters.splits import SPLITS, SplitRatios
from annotations.exporters.writers import WrittenFile

_EXAMPLE_TEXT_CHARS = 300


@dataclass(frozen=True)
class ExportDescription:
    """Everything about an export except its rows: what, from where, how, when, by which version."""

    export_id: int | None
    dataset_name: str
    dataset_slug: str
    dataset_description: str
    formatter: Formatter
    file_format: str
    filters: dict[str, Any]
    ratios: SplitRatios
    seed: int
    protocol: dict[str, Any]
    created_at: datetime
    prmweb_version: str
    critique_source: str = ""


def card_header(description: ExportDescription, files: list[WrittenFile]) -> dict[str, Any]:
    """Return the card's YAML header: one `default` config whose splits are the non-empty ones."""
    splits = [split for split in SPLITS if any(item.split == split for item in files)]
    return {
        "pretty_name": f"{description.dataset_name} ({description.formatter.name})",
        "tags": ["process-reward-model", "math", "prmweb"],
        "configs": [
            {
                "config_name": "default",
                "data_files": [{"split": split, "path": f"data/{split}-*"} for split in splits],
            }
        ],
        "dataset_info": {"features": hf_features(description.formatter.columns)},
    }


def _label_order(name: str) -> tuple[float, str]:
    """Sort key of a label count's name: all correct (-1) first, then by error step number, then the rest."""
    if name == "all correct (-1)":
        return -1, name
    step = name.removeprefix("error at step ")
    return (int(step), name) if step.isdigit() else (float("inf"), name)


def labels_by_step(labels: Counter[str]) -> dict[str, int]:
    """Return the label counts ordered by step number ("error at step 2" before "error at step 10")."""
    return dict(sorted(labels.items(), key=lambda item: _label_order(item[0])))


def _table(title: str, counts: Counter[str] | dict[str, int], *, keep_order: bool = False) -> str:
    rows = list(counts.items()) if keep_order else sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    lines = [f"| {title} | rows |", "| --- | ---: |", *(f"| {name} | {count} |" for name, count in rows)]
    return "\n".join(lines) if rows else f"No {title} (no rows)."


def _shorten(value: Any) -> Any:
    if isinstance(value, str) and len(value) > _EXAMPLE_TEXT_CHARS:
        return value[:_EXAMPLE_TEXT_CHARS] + "…"
    if isinstance(value, list):
        return [_shorten(item) for item in value]
    if isinstance(value, dict):
        return {key: _shorten(item) for key, item in value.items()}
    return value


def _critique_section(description: ExportDescription, sources: Counter[str]) -> list[str]:
    if not description.formatter.critique_sources:
        return []
    return [
        f"## Critique sources\n\nCritique source: `{description.critique_source}` (human: explanations written by "
        "people; judge: LLM-judge critiques whose verdict equals the final label; both: a row of each). "
        "Each row's `source` says who wrote it.\n\n" + _table("source", sources)
    ]


def render_card(description: ExportDescription, result: PipelineResult) -> str:
    """Return the dataset card: YAML header, then counts, labels, sources, protocol, generators and loading."""
    stats = result.stats
    import yaml

    header = yaml.safe_dump(card_header(description, result.files), sort_keys=False, allow_unicode=True)
    split_lines = [
        f"| {split} | {stats.rows_by_split[split]} | {stats.problems_by_split[split]} |"
        f" {getattr(description.ratios, split):g} |"
        for split in SPLITS
    ]
    protocol = "\n".join(f"- {key}: {value}" for key, value in description.protocol.items())
    example = json.dumps(_shorten(stats.example), ensure_ascii=False, indent=2) if stats.example else "(no rows)"
    skipped = (
        "\n".join(f"- {reason}: {count}" for reason, count in sorted(stats.skipped.items()))
        if stats.skipped
        else "None."
    )
    sections = [
        f"---\n{header}---",
        f"# {description.dataset_name}: `{description.formatter.name}` export",
        description.dataset_description.strip() or "Process-supervision labels exported from prmweb.",
        f"Format: **{description.formatter.name}**. {description.formatter.description}\n\n"
        f"Files: `{description.file_format}` under `data/`; `manifest.json` lists every file with its sha256.\n"
        f"Exported {description.created_at.isoformat()} by prmweb {description.prmweb_version}"
        + (f" (export #{description.export_id})" if description.export_id else "")
        + f" from dataset `{description.dataset_slug}`.",
        "## Splits\n\nBy problem: no problem appears in two splits (seeded hash of the problem, "
        f"seed {description.seed}). Splits without rows have no files.\n\n"
        "| split | rows | problems | ratio |\n| --- | ---: | ---: | ---: |\n" + "\n".join(split_lines),
        "## Labels\n\nLabel = 0-based index of the earliest wrong step, -1 when every step is correct. "
        "Steps are numbered from 0 in these files and from 1 in the prmweb interface: `error at step 2` "
        "(label 2) is the third step, shown there as Step 3. "
        "Training formats keep the steps up to and including the earliest error.\n\n"
        + _table("label", labels_by_step(stats.labels), keep_order=True),
        "## Sources of labels\n\n" + _table("source", stats.sources),
        "## Generators\n\n" + _table("generator", stats.generators),
        "## Subsets\n\n" + _table("subset", stats.subsets),
        "## Annotation protocol\n\n" + (protocol or "Not recorded."),
        "## Filters\n\n```json\n" + json.dumps(description.filters, indent=2, sort_keys=True) + "\n```",
        *_critique_section(description, stats.critique_sources),
        "## Skipped rows\n\n" + skipped,
        "## Example record\n\n```json\n" + example + "\n```",
        "## Loading\n\n```python\nfrom datasets import load_dataset\n\n"
        'dataset = load_dataset("path/to/this/folder")  # DatasetDict with the splits above\n```',
    ]
    return "\n\n".join(sections) + "\n"


def build_manifest(description: ExportDescription, result: PipelineResult, extra_files: list[WrittenFile]) -> dict:
    """Return the manifest: what was exported, with which filters, the counts and every file's sha256."""
    stats = result.stats
    critique = (
        {
            "critique_source": description.critique_source,
            "critique_sources": dict(sorted(stats.critique_sources.items())),
        }
        if description.formatter.critique_sources
        else {}
    )
    return {
        "prmweb_version": description.prmweb_version,
        "export_id": description.export_id,
        "dataset": description.dataset_slug,
        "format": description.formatter.name,
        "file_format": description.file_format,
        "created_at": description.created_at.isoformat(),
        "filters": description.filters,
        "split_ratios": description.ratios.as_dict(),
        "seed": description.seed,
        "row_counts": stats.row_counts(),
        "problem_counts": stats.problem_counts(),
        "rows_total": stats.rows_written,
        "rows_skipped": dict(sorted(stats.skipped.items())),
        "label_counts": labels_by_step(stats.labels),
        "label_sources": dict(sorted(stats.sources.items())),
        "generators": dict(sorted(stats.generators.items())),
        **critique,
        "files": [item.as_dict() for item in [*result.files, *extra_files]],
    }
