"""Staging's Parquet reader: every column of a Parquet file as staged text.

The columns are the file's, named with their Arrow types; no row has a parse error. Each
row's ``_record`` maps the column names to text: strings as they are; integers and
decimals as decimal text; floats with Python ``repr()``; timestamps ``YYYY-MM-DD HH:MM:SS``
plus ``.ffffff`` only when the sub-second part is non-zero (nanosecond columns: 9 digits
when needed), time-zone-aware ones converted to UTC with a trailing ``Z``; dates
``YYYY-MM-DD``; booleans ``true``/``false``; binary as lowercase hex; nested values as
compact JSON text; nulls as JSON null. Dictionary columns are decoded first; values of any
other type are ``str()`` of pyarrow's Python value. A file pyarrow cannot read raises
:class:`~.records.CorruptFile`.

Reading a file imports neither ``pyarrow.dataset`` nor pandas; only columns rendered from
Python values whose form pandas changes (nested and other types) let pyarrow import pandas.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from platform_tools.landing.arrowtext import (
    IntArray,
    bool_array,
    bool_values,
    concat,
    float_array,
    int_array,
    int_values,
    text_array,
    text_scalar,
)
from platform_tools.landing.records import (
    CHUNK_ROWS,
    CorruptFile,
    ParsedFile,
    one_line,
    records_from_columns,
)


def _timestamp_text(column: pa.Array) -> pa.Array:
    unit = column.type.unit
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    raw = int_values(pc.fill_null(pc.cast(column, pa.int64()), int_array([0])[0]))
    seconds = raw // per_second
    fraction = raw - seconds * per_second
    text = _seconds_text(seconds)
    if unit != "s" and fraction.any():  # (an all-zero fraction adds nothing)
        if unit == "ns":
            micro_exact = fraction % 1000 == 0
            frac_text = np.where(
                micro_exact,
                np.char.zfill((fraction // 1000).astype(str), 6),
                np.char.zfill(fraction.astype(str), 9),
            )
        else:
            frac_text = np.char.zfill((fraction * (1_000_000 // per_second)).astype(str), 6)
        suffix = np.where(fraction != 0, np.char.add(".", frac_text), "")
        text = concat(text, text_array(suffix.tolist()))
    if column.type.tz is not None:
        text = concat(text, "Z")
    return pc.if_else(column.is_valid(), text, pa.nulls(len(column), pa.string()))


_CAST_SECONDS = (-62_135_596_800, 253_402_300_799)  # 0001-01-01 .. 9999-12-31 23:59:59


def _seconds_text(seconds: IntArray) -> pa.Array:
    """``%Y-%m-%d %H:%M:%S`` of epoch seconds; Arrow's cast to string writes the same for
    years 1 to 9999, much faster than ``strftime``."""
    timestamps = int_array(seconds, pa.timestamp("s"))
    if len(seconds) and _CAST_SECONDS[0] <= seconds.min() and seconds.max() <= _CAST_SECONDS[1]:
        return pc.cast(timestamps, pa.string())
    return pc.strftime(timestamps, format="%Y-%m-%d %H:%M:%S")


def _python_text(
    column: pa.Array, render: Callable[[Any], str], *, pandas_free: bool = False
) -> pa.Array:
    """``render`` of each value as pyarrow converts it to Python. ``pandas_free``: values
    whose Python form does not depend on pandas being loaded (floats, bytes)."""
    if not pandas_free:
        _load_pandas_conversions()
    return text_array([None if v is None else render(v) for v in column.to_pylist()])


def _float_text(column: pa.Array) -> pa.Array:
    """``repr()`` of each float (nulls stay null). Arrow writes the same shortest round-trip
    digits; where it writes them positionally and ``repr()`` would too (magnitude 1e-4 up to
    Arrow's own exponent threshold, or zero), ``repr()`` is Arrow's text with ``.0`` added to
    whole numbers. Other values (exponents, nan, inf) are rendered by ``repr()`` itself."""
    if pa.types.is_float16(column.type):
        return _python_text(column, repr, pandas_free=True)
    doubles = pc.cast(column, pa.float64())  # float32 values are repr()'d as doubles too
    text = pc.cast(doubles, pa.string())
    whole = pc.invert(pc.match_substring(text, "."))
    text = pc.if_else(whole, concat(text, ".0"), text)
    exact = pc.and_(
        pc.invert(pc.match_substring_regex(text, "[en]")),  # no exponent, nan or inf
        pc.or_(pc.greater_equal(pc.abs(doubles), float_array([1e-4])[0]), whole),
    )
    odd = bool_values(pc.invert(pc.fill_null(exact, bool_array([True])[0])))
    if not odd.any():
        return text
    rows = np.flatnonzero(odd)
    values = doubles.take(int_array(rows)).to_pylist()
    texts = text_array([repr(v) for v in values])
    return pc.replace_with_mask(text, bool_array(odd), texts)


def _load_pandas_conversions() -> None:
    """Let pyarrow import pandas (if installed), as its first conversion of a Python value
    does: it then turns nanosecond timestamps and durations into pandas objects, whose text
    is what staging has always written for them."""
    pa.scalar(0)


def _column_text(column: pa.Array) -> pa.Array:
    """Canonical text of one Parquet column (nulls stay null)."""
    kind = column.type
    if pa.types.is_dictionary(kind):
        return _column_text(column.dictionary_decode())
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_integer(kind) or pa.types.is_decimal(kind):
        return pc.cast(column, pa.string())
    if pa.types.is_floating(kind):
        return _float_text(column)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, text_scalar("true"), text_scalar("false"))
    if pa.types.is_timestamp(kind):
        return _timestamp_text(column)
    if pa.types.is_date(kind):
        return pc.cast(pc.cast(column, pa.date32()), pa.string())
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
    ):
        return _python_text(column, lambda v: bytes(v).hex(), pandas_free=True)
    if pa.types.is_nested(kind):
        return _python_text(
            column,
            lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str),
        )
    return _python_text(column, str)


# pq.read_table reads through pyarrow.dataset, which adds these fields while scanning
_DATASET_FIELDS: Final[frozenset[str]] = frozenset(
    {"__fragment_index", "__batch_index", "__last_in_fragment", "__filename"}
)
# Failures to read a Parquet footer; pyarrow.dataset reports them prefixed with the source
_FOOTER_ERRORS = re.compile(
    r"Parquet file size is |Parquet magic bytes not found|Couldn't deserialize thrift"
)


def _read_parquet(data: bytes) -> pa.Table:
    """What ``pq.read_table(pa.BufferReader(data))`` returns or raises, without importing
    pyarrow.dataset (and with it pandas) for a readable file or an unreadable footer; other
    cases are left to ``pq.read_table`` itself."""
    try:
        file = pq.ParquetFile(pa.BufferReader(data))
        names = file.schema_arrow.names
    except (pa.ArrowException, OSError, ValueError) as exc:
        if _FOOTER_ERRORS.match(str(exc)) is None:
            return pq.read_table(pa.BufferReader(data))
        opening = f"Could not open Parquet input source '<Buffer>': {exc}"
        raise CorruptFile(f"unreadable Parquet: {one_line(opening)}") from None
    if len(set(names)) != len(names) or _DATASET_FIELDS & set(names):
        return pq.read_table(pa.BufferReader(data))  # ambiguous names: its own outcome
    return file.read()


def parse_parquet(data: bytes) -> ParsedFile:
    try:
        table = _read_parquet(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CorruptFile(f"unreadable Parquet: {one_line(str(exc))}") from None
    names = table.column_names
    columns = [(f.name, str(f.type)) for f in table.schema]
    chunks = []
    for start in range(0, table.num_rows, CHUNK_ROWS):
        part = table.slice(start, CHUNK_ROWS)
        texts = [_column_text(part.column(i).combine_chunks()) for i in range(len(names))]
        chunks.append(records_from_columns(names, texts, part.num_rows))
    records = pa.chunked_array(chunks, pa.string())
    return ParsedFile(columns, records, pa.chunked_array([pa.nulls(len(records), pa.string())]))
