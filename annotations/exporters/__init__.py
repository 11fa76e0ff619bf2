"""Label exporters: pure formatters and writers (no Django), joined by a streaming pipeline.

rows (`SolutionRecord`) -> formatter (`FORMATTERS[name]`) -> writer (`SplitFolderWriter`) -> a folder that
`datasets.load_dataset(folder)` reads, with a dataset card and a manifest (`write_export_folder`).
"""

from annotations.exporters.formatters import FORMATTERS, Formatter, UnrepresentableRow
from annotations.exporters.records import (
    AnnotationRecord,
    FinalLabelRecord,
    SolutionRecord,
    SuggestionRecord,
    training_steps,
)
from annotations.exporters.splits import SPLITS, SplitRatios, assign_split, parse_split_ratios
from annotations.exporters.writers import FILE_FORMATS

__all__ = [
    "FILE_FORMATS",
    "FORMATTERS",
    "SPLITS",
    "AnnotationRecord",
    "FinalLabelRecord",
    "Formatter",
    "SolutionRecord",
    "SplitRatios",
    "SuggestionRecord",
    "UnrepresentableRow",
    "assign_split",
    "parse_split_ratios",
    "training_steps",
]
