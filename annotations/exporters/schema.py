"""Record schemas as plain data: the one description behind a format's Arrow schema and its card's features.

A schema is a tuple of `(name, type)` columns; a type is a scalar name (`STRING`, `INT64`, `FLOAT64`,
`BOOL`), `ListOf(type)` or `Struct(columns)`; every value may be null. `arrow_schema` builds the Arrow
schema (pyarrow loads only then: Parquet files need it, JSONL exports and their cards do not);
`hf_features` gives the `dataset_info.features` of a Hugging Face dataset card.
"""

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

STRING = "string"
INT64 = "int64"
FLOAT64 = "float64"
BOOL = "bool"


@dataclass(frozen=True)
class ListOf:
    """A list whose items all have one type."""

    item: "ColumnType"


@dataclass(frozen=True)
class Struct:
    """An object with named fields, in this order."""

    columns: "Columns"


ColumnType = str | ListOf | Struct
Columns = tuple[tuple[str, ColumnType], ...]


def _arrow_type(column_type: ColumnType) -> "pa.DataType":
    import pyarrow as pa

    if isinstance(column_type, ListOf):
        return pa.list_(_arrow_type(column_type.item))
    if isinstance(column_type, Struct):
        return pa.struct([(name, _arrow_type(item)) for name, item in column_type.columns])
    scalars = {STRING: pa.string(), INT64: pa.int64(), FLOAT64: pa.float64(), BOOL: pa.bool_()}
    return scalars[column_type]


@functools.cache
def arrow_schema(columns: Columns) -> "pa.Schema":
    """Return the columns as an Arrow schema (built once per schema; imports pyarrow)."""
    import pyarrow as pa

    return pa.schema([(name, _arrow_type(column_type)) for name, column_type in columns])


def _feature_type(column_type: ColumnType) -> dict[str, Any]:
    if isinstance(column_type, ListOf):
        return {"list": _feature_type(column_type.item)}
    if isinstance(column_type, Struct):
        return {"struct": [_feature(name, item) for name, item in column_type.columns]}
    return {"dtype": column_type}


def _feature(name: str, column_type: ColumnType) -> dict[str, Any]:
    feature = _feature_type(column_type)
    if "list" in feature:  # the card writes a list of scalars or structs without the inner wrapper
        inner = feature["list"]
        feature = {"list": inner.get("dtype") or inner.get("struct") or inner}
    return {"name": name, **feature}


def hf_features(columns: Columns) -> list[dict[str, Any]]:
    """Return the columns as the `dataset_info.features` list of a Hugging Face dataset card."""
    return [_feature(name, column_type) for name, column_type in columns]
