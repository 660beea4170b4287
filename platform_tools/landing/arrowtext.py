"""Vectorised text building on Arrow arrays, plus atomic, byte-stable file writes.

Everything the generator and the staging step write goes through :func:`atomic_write_bytes`
(temp file in the target directory, then ``os.replace``), and every Parquet file is encoded
with :data:`PARQUET_WRITE_OPTIONS`, so equal inputs give byte-identical files. Arrays and
scalars built from Python or NumPy values go through helpers that do not make pyarrow import
pandas (see :func:`text_array`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

IntArray = npt.NDArray[np.int64]

# Fixed Parquet writer settings: the same table always encodes to the same bytes (with the
# same pyarrow version, which pyproject.toml pins).
PARQUET_WRITE_OPTIONS: dict[str, Any] = {
    "compression": "snappy",
    "use_dictionary": True,
    "write_statistics": True,
    "version": "2.6",
    "data_page_size": 1024 * 1024,
    "row_group_size": 1024 * 1024,
}

_CONTROL_CHARS = r"[\x00-\x1f]"
_SCAN_BYTES = 1 << 20  # byte scans go in slices of this size (they stay in the CPU cache)


# pyarrow imports pandas (about half a second) the first time it converts a Python or NumPy
# object (pa.array(), pa.scalar(), a compute function given such a value), to check whether
# it is a pandas one. The staging step builds its arrays and scalars with the helpers below,
# straight from buffers, and so does not pay for that import.


def int_array(values: npt.ArrayLike, kind: pa.DataType | None = None) -> pa.Array:
    """Integers without nulls as an Arrow array of ``kind`` (default int64; any type stored
    as int64, such as a timestamp)."""
    data = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(kind or pa.int64(), len(data), [None, pa.py_buffer(data)])


def float_array(values: npt.ArrayLike) -> pa.Array:
    """Floats without nulls as a float64 array."""
    data = np.ascontiguousarray(values, dtype=np.float64)
    return pa.Array.from_buffers(pa.float64(), len(data), [None, pa.py_buffer(data)])


def optional_int_array(values: Sequence[int | None]) -> pa.Array:
    """Integers (``None``: null) as an int64 array."""
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    data = np.fromiter((0 if v is None else v for v in values), np.int64, len(values))
    return pa.Array.from_buffers(
        pa.int64(), len(values), [_validity(missing), pa.py_buffer(data)], int(missing.sum())
    )


def bool_array(values: npt.ArrayLike) -> pa.Array:
    """Booleans without nulls as an Arrow array."""
    flags = np.asarray(values, dtype=bool)
    bits = np.packbits(flags, bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(flags), [None, pa.py_buffer(bits)])


def bool_values(values: pa.Array) -> npt.NDArray[np.bool_]:
    """A boolean Arrow array as a NumPy array (nulls read as false)."""
    if values.null_count:
        values = pc.fill_null(values, bool_array([False])[0])
    bits = np.frombuffer(values.buffers()[1], dtype=np.uint8)
    unpacked = np.unpackbits(bits, count=values.offset + len(values), bitorder="little")
    return unpacked[values.offset :].astype(bool)


def int_values(values: pa.Array) -> IntArray:
    """An int64 Arrow array without nulls as a NumPy array (a view of its buffer)."""
    if values.null_count:
        raise ValueError("int_values() of an array with nulls")
    data = values.buffers()[1]
    return np.frombuffer(data, dtype=np.int64, count=len(values), offset=values.offset * 8)


def text_array(values: Sequence[str | None]) -> pa.Array:
    """Strings (``None``: null) as a string array, like ``pa.array(values, pa.string())``."""
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), np.int64, len(encoded)), out=offsets[1:])
    if offsets[-1] >= 2**31:  # beyond 32-bit offsets: pyarrow's own conversion
        return pa.array(values, pa.string())
    missing = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    buffers = [
        _validity(missing),
        pa.py_buffer(offsets.astype(np.int32)),
        pa.py_buffer(b"".join(encoded)),
    ]
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, int(missing.sum()))


def text_scalar(text: str) -> pa.Scalar:
    """A string scalar."""
    return text_array([text])[0]


def _validity(missing: npt.NDArray[np.bool_]) -> pa.Buffer | None:
    if not missing.any():
        return None
    return pa.py_buffer(np.packbits(~missing, bitorder="little"))


def _arrow_args(parts: Sequence[pa.Array | str]) -> list[pa.Array | pa.Scalar]:
    return [text_scalar(p) if isinstance(p, str) else p for p in parts]


def to_text(values: IntArray) -> pa.Array:
    """Decimal text of integers."""
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def zpad(values: IntArray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative integers."""
    return pc.utf8_lpad(to_text(values), width=width, padding="0")


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    return pc.binary_join_element_wise(*_arrow_args([*parts, ""]))


def join(parts: list[pa.Array | str], separator: str) -> pa.Array:
    """Element-wise join of string arrays (and literals) with a separator."""
    return pc.binary_join_element_wise(*_arrow_args([*parts, separator]))


def constant(text: str, length: int) -> pa.Array:
    """A string array holding ``text`` ``length`` times."""
    if length * len(text.encode("utf-8")) < 2**31:
        return pa.repeat(text_scalar(text), length)
    return pa.array(np.full(length, text, dtype=object), pa.string())


def choose(mask: npt.NDArray[np.bool_], when_true: pa.Array | str, otherwise: pa.Array) -> pa.Array:
    """``when_true`` where ``mask`` holds, else ``otherwise`` (vectorised)."""
    if not mask.any():
        return otherwise
    return pc.if_else(pa.array(mask, pa.bool_()), when_true, otherwise)


def format_epoch_seconds(epoch_s: IntArray, fmt: str) -> pa.Array:
    """``strftime`` of naive epoch seconds (no time-zone database involved)."""
    return pc.strftime(pa.array(epoch_s, pa.timestamp("s")), format=fmt)


def format_fixed(scaled: IntArray, decimals: int, decimal_mark: str) -> pa.Array:
    """Fixed-point text of integers scaled by ``10**decimals`` (exact, no float rounding).

    ``format_fixed([1234, -5], 3, ",")`` gives ``["1,234", "-0,005"]``.
    """
    factor = 10**decimals
    magnitude = np.abs(scaled)
    sign = np.where(scaled < 0, "-", "").astype(object)
    return concat(
        pa.array(sign, pa.string()),
        to_text(magnitude // factor),
        decimal_mark,
        zpad(magnitude % factor, decimals),
    )


def needs_json_escape(values: pa.Array) -> bool:
    """Whether any string holds a character ``json.dumps`` escapes (``"``, ``\\``, control).

    Looks at the whole character data of the array, so it may say yes needlessly (for a
    sliced array), never no wrongly."""
    data = pc.cast(values, pa.string()).buffers()[2]
    if data is None:
        return False
    codes = np.frombuffer(data, dtype=np.uint8)
    for start in range(0, len(codes), _SCAN_BYTES):
        part = codes[start : start + _SCAN_BYTES]
        hits = part < 0x20
        hits |= part == 0x22
        hits |= part == 0x5C
        if hits.any():
            return True
    return False


def json_quote(values: pa.Array, *, escape: bool = True) -> pa.Array:
    """JSON text of each string (``null`` for nulls), identical to
    ``json.dumps(value, ensure_ascii=False)``.

    ``escape=False`` skips escaping, for values known to hold no ``"``, ``\\`` or control
    character (the generator's own synthetic values).
    """
    values = pc.cast(values, pa.string())
    if not escape:
        return pc.fill_null(concat('"', values, '"'), text_scalar("null"))
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    quoted = concat('"', escaped, '"')
    has_control = pc.fill_null(
        pc.match_substring_regex(values, _CONTROL_CHARS), bool_array([False])[0]
    )
    if pc.any(has_control).as_py():
        python_values = values.to_pylist()
        flags = has_control.to_pylist()
        patched = quoted.to_pylist()
        for i, flag in enumerate(flags):
            if flag:
                patched[i] = json.dumps(python_values[i], ensure_ascii=False)
        quoted = text_array(patched)
    return pc.fill_null(quoted, text_scalar("null"))


def positions(codes: npt.NDArray[np.uint8], value: int) -> IntArray:
    """Ascending indexes of ``value`` in a byte array."""
    found = [
        np.flatnonzero(codes[start : start + _SCAN_BYTES] == value) + start
        for start in range(0, len(codes), _SCAN_BYTES)
    ]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


def take_spans(data: pa.Buffer, starts: IntArray, stops: IntArray) -> pa.Array:
    """The UTF-8 text ``data[starts[i]:stops[i]]`` of each span as a string array.

    Spans must be in ascending order and must not overlap (``stops[i] <= starts[i + 1]``);
    ``data`` must be shorter than 2 GiB."""
    count = len(starts)
    if count == 0:
        return text_array([])
    # spans and the gaps between them, alternately, as one array over `data`; keep the spans
    bounds = np.empty(2 * count + 1, dtype=np.int32)
    bounds[0:-1:2] = starts
    bounds[1:-1:2] = stops
    bounds[-1] = stops[-1]
    alternating = pa.Array.from_buffers(pa.string(), 2 * count, [None, pa.py_buffer(bounds), data])
    return alternating.take(int_array(np.arange(0, 2 * count, 2, dtype=np.int64)))


def lines_to_bytes(lines: pa.Array) -> bytes:
    """UTF-8 bytes of the lines, each terminated by ``\\n``."""
    if len(lines) == 0:
        return b""
    if lines.null_count:
        raise ValueError("a text line is null")
    terminated = pc.cast(concat(lines, "\n"), pa.large_string())
    offsets = np.frombuffer(
        terminated.buffers()[1],
        dtype=np.int64,
        count=len(terminated) + 1,
        offset=terminated.offset * 8,
    )
    start, end = int(offsets[0]), int(offsets[-1])
    return bytes(terminated.buffers()[2].slice(start, end - start).to_pybytes())


def text_file_bytes(header: str | None, lines: pa.Array) -> bytes:
    """A text file: an optional header line, then the lines."""
    head = (header + "\n").encode("utf-8") if header is not None else b""
    return head + lines_to_bytes(lines)


def parquet_bytes(table: pa.Table) -> bytes:
    """The Parquet encoding of ``table`` with the fixed writer settings."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **PARQUET_WRITE_OPTIONS)
    return bytes(sink.getvalue().to_pybytes())


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temp file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
