"""The writers' bytes: one `json.dumps` line per record (gzip as a text stream over it wrote it), sizes and
hashes taken while writing, whatever the write batches and shards."""

import gzip
import hashlib
import io
import json

import datasets
import pytest

from annotations.exporters import FORMATTERS
from annotations.exporters import writers as writers_module
from annotations.exporters.schema import hf_features
from annotations.exporters.writers import SplitFolderWriter

RECORDS = [
    {
        "id": f"s-{index}",
        "problem": 'Évaluer \u2028 «x» "quoted" \\boxed{1} ' + "ü" * index,
        "steps": ["1 + 1 = 2", "tab\there", "nul\u0000 and emoji 🙂"],
        "labels": [True, False, None],
        "score": [0.1, 1e-05, 2.0, 1.5e300],
        "nested": {"b": 1, "a": [{"role": "user", "content": "x" * (index * 97)}]},
    }
    for index in range(40)
]


def _text_stream_bytes(records: list[dict], *, compress: bool) -> bytes:
    """Return the bytes of a UTF-8 text stream of `json.dumps(record, ensure_ascii=False)` lines, gzipped or not."""
    raw = io.BytesIO()
    binary = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else raw
    text = io.TextIOWrapper(binary, encoding="utf-8", newline="\n")  # type: ignore[arg-type]
    for record in records:
        text.write(json.dumps(record, ensure_ascii=False))
        text.write("\n")
    text.flush()
    if compress:
        binary.close()
    return raw.getvalue()


@pytest.mark.parametrize("file_format", ["jsonl", "jsonl.gz"])
@pytest.mark.parametrize("buffer_chars", [1, 500, 1 << 20])
def test_jsonl_shards_hold_one_json_dumps_line_per_record(tmp_path, monkeypatch, file_format, buffer_chars):
    monkeypatch.setattr(writers_module, "_JSONL_BUFFER_CHARS", buffer_chars)
    writer = SplitFolderWriter(tmp_path, file_format=file_format, columns=(), rows_per_shard=15)
    for record in RECORDS:
        writer.write("train", record)
    files = writer.close()
    assert [item.rows for item in files] == [15, 15, 10]
    for index, item in enumerate(files):
        expected = _text_stream_bytes(RECORDS[index * 15 : (index + 1) * 15], compress=file_format == "jsonl.gz")
        assert (tmp_path / item.path).read_bytes() == expected


@pytest.mark.parametrize("file_format", ["jsonl", "jsonl.gz", "parquet"])
def test_recorded_sizes_and_hashes_are_those_of_the_files(tmp_path, file_format):
    records = [{"prompt": record["problem"], "completions": record["steps"], "labels": [True]} for record in RECORDS]
    writer = SplitFolderWriter(tmp_path, file_format=file_format, columns=FORMATTERS["trl"].columns, rows_per_shard=7)
    for index, record in enumerate(records):
        writer.write(("train", "test")[index % 2], record)
    files = writer.close()
    assert sum(item.rows for item in files) == len(records)
    assert len(files) == 6
    for item in files:
        data = (tmp_path / item.path).read_bytes()
        assert (item.bytes, item.sha256) == (len(data), hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("name", list(FORMATTERS))
def test_card_features_are_what_datasets_reads_from_the_arrow_schema(name):
    formatter = FORMATTERS[name]
    features = datasets.Features.from_arrow_schema(formatter.schema)
    assert hf_features(formatter.columns) == features._to_yaml_list()
