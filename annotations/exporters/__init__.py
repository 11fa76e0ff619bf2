"""Label exporters: pure formatters and writers (no Django), joined by a streaming pipeline.

rows (`SolutionRecord`) -> formatter (`FORMATTERS[name]`) -> writer (`SplitFolderWriter`) -> a folder that
`datasets.load_dataset(folder)` reads, with a dataset card and a manifest (`write_export_folder`).
"""

from annotations.exporters.base import FormattedRows, Formatter, UnrepresentableRow
from annotations.exporters.critic import CRITIQUE_SOURCES
from annotations.exporters.formatters import FORMATTERS
from annotations.exporters.records import (
    AnnotationRecord,
    FinalLabelRecord,
    JudgeCritiqueRecord,
    SolutionRecord,
    SuggestionRecord,
    training_steps,
)
from annotations.exporters.splits import SPLITS, SplitRatios, assign_split, parse_split_ratios
from annotations.exporters.writers import FILE_FORMATS

__all__ = [
    "CRITIQUE_SOURCES",
    "FILE_FORMATS",
    "FORMATTERS",
    "SPLITS",
    "AnnotationRecord",
    "FinalLabelRecord",
    "FormattedRows",
    "Formatter",
    "JudgeCritiqueRecord",
    "SolutionRecord",
    "SplitRatios",
    "SuggestionRecord",
    "UnrepresentableRow",
    "assign_split",
    "parse_split_ratios",
    "training_steps",
]
