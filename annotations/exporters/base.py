"""What an export format is: a name, a record schema, and how a solution becomes its records (pure)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from annotations.exporters.records import SolutionRecord
from annotations.exporters.schema import Columns, arrow_schema

if TYPE_CHECKING:
    import pyarrow as pa


class UnrepresentableRow(ValueError):
    """This solution cannot be written in this format (the message says why)."""


@dataclass(frozen=True)
class FormattedRows:
    """The records one solution gives in a format, and why records it could have given were left out."""

    records: list[dict[str, Any]]
    skipped: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Formatter:
    """A named export format: how a solution becomes a record (or records), and the records' schema.

    Most formats give one record per solution (`to_record`). The critic formats give one per critique
    source (`to_records`, with the export's critique source: one of `critique_sources`, the first being
    the default), and say which they left out and why. `columns` describe the records (see `schema`):
    the Arrow schema is built from them on first use (pyarrow loads only for exports that need it).
    """

    name: str
    description: str
    columns: Columns
    requires_final_label: bool
    to_record: Callable[[SolutionRecord], dict[str, Any]] | None = None
    to_records: Callable[[SolutionRecord, str], FormattedRows] | None = None
    critique_sources: tuple[str, ...] = ()

    @property
    def schema(self) -> "pa.Schema":
        """Return the records' Arrow schema (built once per format; imports pyarrow)."""
        return arrow_schema(self.columns)

    def format(self, row: SolutionRecord) -> dict[str, Any]:
        """Return the record for one solution; raise UnrepresentableRow when the format cannot hold it."""
        if self.requires_final_label and row.final_label is None:
            raise UnrepresentableRow("no final label")
        if self.to_record is None:
            raise TypeError(f"format {self.name!r} gives several records per solution: call records()")
        return self.to_record(row)

    def records(self, row: SolutionRecord, *, critique_source: str = "") -> FormattedRows:
        """Return every record of one solution in this format, and the reasons for those left out."""
        if self.to_records is None:
            try:
                return FormattedRows([self.format(row)])
            except UnrepresentableRow as exc:
                return FormattedRows([], [str(exc)])
        if self.requires_final_label and row.final_label is None:
            return FormattedRows([], ["no final label"])
        return self.to_records(row, critique_source or self.critique_sources[0])
