"""Writers: records -> files under `data/`, named so that `datasets.load_dataset(folder)` finds the splits.

Files are `data/<split>-<shard>-of-<shards>.<ext>` (the Hugging Face Hub's sharded naming) with ext
`jsonl`, `jsonl.gz` or `parquet`. Rows are written as they come: JSONL about 1 MiB of lines at a time,
Parquet in row groups of `batch_rows`; a split rolls over to a new shard every `rows_per_shard` rows. Each
file is hashed and measured while it is written; shards get their final `-of-` names on `close()`. Empty
splits get no file.
"""

import contextlib
import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from annotations.exporters.schema import Columns, arrow_schema

if TYPE_CHECKING:  # pyarrow loads when a Parquet shard opens, not with the URL conf
    import pyarrow as pa

FILE_FORMATS = ("jsonl", "jsonl.gz", "parquet")


@dataclass(frozen=True)
class WrittenFile:
    """One file of an export: path relative to the export folder, split, rows, size and sha256."""

    path: str
    split: str
    rows: int
    bytes: int
    sha256: str

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "split": self.split, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class _Shard(Protocol):
    rows: int
    file: "_HashingFile"

    def write(self, record: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


class _HashingFile:
    """A binary file opened for writing that hashes and counts the bytes as they go out (no second read)."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("wb")
        self._digest = hashlib.sha256()
        self.bytes = 0

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        self.bytes += len(data)
        return self._file.write(data)

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    @property
    def closed(self) -> bool:
        return self._file.closed

    def sha256(self) -> str:
        return self._digest.hexdigest()


# One encoder for every line: json.dumps(record, ensure_ascii=False) would build a new one per call; records
# are fresh trees of dicts and lists, so the circular-reference check is skipped (it changes no byte).
_ENCODE = json.JSONEncoder(ensure_ascii=False, check_circular=False).encode
_JSONL_BUFFER_CHARS = 1 << 20


class _JsonlShard:
    """One JSON object per line, UTF-8; gzip with a fixed header time so equal content gives equal bytes.

    Lines are gathered and written about 1 MiB at a time; the file's sha256 and size are taken as it is written.
    """

    def __init__(self, path: Path, *, compress: bool) -> None:
        self.rows = 0
        self.file = _HashingFile(path)
        self._out: _HashingFile | gzip.GzipFile = (
            gzip.GzipFile(filename="", mode="wb", fileobj=self.file, mtime=0) if compress else self.file  # type: ignore[arg-type]
        )
        self._lines: list[str] = []
        self._chars = 0

    def write(self, record: dict[str, Any]) -> None:
        line = _ENCODE(record)
        self._lines.append(line)
        self._chars += len(line)
        self.rows += 1
        if self._chars >= _JSONL_BUFFER_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._lines:
            self._lines.append("")  # the newline after the last line
            self._out.write("\n".join(self._lines).encode("utf-8"))
            self._lines = []
            self._chars = 0

    def close(self) -> None:
        try:
            self._flush()
            if self._out is not self.file:
                # A sync flush, then the end of the stream and the trailer: the bytes a text stream over the
                # gzip stream wrote on closing, so that a gzip export keeps its bytes (and its sha256).
                self._out.flush()
                self._out.close()
        finally:
            self.file.close()


class _ParquetShard:
    """Parquet written in row groups of `batch_rows` rows; only one batch is held in memory."""

    def __init__(self, path: Path, *, schema: "pa.Schema", batch_rows: int) -> None:
        import pyarrow.parquet as pq

        self.rows = 0
        self.file = _HashingFile(path)
        self._schema = schema
        self._batch_rows = batch_rows
        self._batch: list[dict[str, Any]] = []
        self._writer = pq.ParquetWriter(self.file, schema, compression="zstd")

    def write(self, record: dict[str, Any]) -> None:
        self._batch.append(record)
        self.rows += 1
        if len(self._batch) >= self._batch_rows:
            self._flush()

    def _flush(self) -> None:
        if self._batch:
            import pyarrow as pa

            self._writer.write_table(pa.Table.from_pylist(self._batch, schema=self._schema))
            self._batch = []

    def close(self) -> None:
        try:
            self._flush()
            self._writer.close()
        finally:
            self.file.close()


@dataclass
class _OpenShard:
    path: Path
    shard: _Shard


class SplitFolderWriter:
    """Write records into per-split shard files under `<root>/data/`."""

    def __init__(
        self,
        root: Path,
        *,
        file_format: str,
        columns: Columns,
        rows_per_shard: int = 100_000,
        batch_rows: int = 2_000,
    ) -> None:
        if file_format not in FILE_FORMATS:
            raise ValueError(f"file format must be one of {', '.join(FILE_FORMATS)}")
        self.root = root
        self.file_format = file_format
        self.columns = columns
        self.rows_per_shard = rows_per_shard
        self.batch_rows = batch_rows
        self._open: dict[str, _OpenShard] = {}
        self._done: dict[str, list[tuple[Path, _Shard]]] = {}
        (root / "data").mkdir(parents=True, exist_ok=True)

    def write(self, split: str, record: dict[str, Any]) -> None:
        """Append one record to a split, starting a new shard when the current one is full."""
        current = self._open.get(split)
        if current is None:
            current = self._open[split] = self._start(split)
        current.shard.write(record)
        if current.shard.rows >= self.rows_per_shard:
            self._finish(split)

    def close(self) -> list[WrittenFile]:
        """Close every shard, give them their final names, and return them with sizes and hashes."""
        for split in list(self._open):
            self._finish(split)
        written = []
        for split in sorted(self._done):
            shards = self._done[split]
            for index, (path, shard) in enumerate(shards):
                final = path.with_name(f"{split}-{index:05d}-of-{len(shards):05d}.{self.file_format}")
                path.rename(final)
                written.append(
                    WrittenFile(
                        path=final.relative_to(self.root).as_posix(),
                        split=split,
                        rows=shard.rows,
                        bytes=shard.file.bytes,  # counted and hashed as written: no second read
                        sha256=shard.file.sha256(),
                    )
                )
        return written

    def abort(self) -> None:
        """Close open shards without finishing them (the caller removes the folder)."""
        for current in self._open.values():
            with contextlib.suppress(Exception):  # already failing; closing is best effort
                current.shard.close()
        self._open.clear()

    def _start(self, split: str) -> _OpenShard:
        index = len(self._done.get(split, []))
        path = self.root / "data" / f"{split}-{index:05d}.partial"
        shard: _Shard
        if self.file_format == "parquet":
            shard = _ParquetShard(path, schema=arrow_schema(self.columns), batch_rows=self.batch_rows)
        else:
            shard = _JsonlShard(path, compress=self.file_format == "jsonl.gz")
        return _OpenShard(path=path, shard=shard)

    def _finish(self, split: str) -> None:
        current = self._open.pop(split)
        current.shard.close()
        self._done.setdefault(split, []).append((current.path, current.shard))
