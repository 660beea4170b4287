"""Vectorised text building on Arrow arrays, plus atomic, byte-stable file writes.

Everything the generator and the staging step write goes through :func:`atomic_write_bytes`
(temp file in the target directory, then ``os.replace``), and every Parquet file is encoded
with :data:`PARQUET_WRITE_OPTIONS`, so equal inputs give byte-identical files.
"""

from __future__ import annotations

import json
import os
import tempfile
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


def to_text(values: IntArray) -> pa.Array:
    """Decimal text of integers."""
    return pc.cast(pa.array(values, pa.int64()), pa.string())


def zpad(values: IntArray, width: int) -> pa.Array:
    """Zero-padded decimal text of non-negative integers."""
    return pc.utf8_lpad(to_text(values), width=width, padding="0")


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literal strings."""
    return pc.binary_join_element_wise(*parts, "")


def join(parts: list[pa.Array | str], separator: str) -> pa.Array:
    """Element-wise join of string arrays (and literals) with a separator."""
    return pc.binary_join_element_wise(*parts, separator)


def constant(text: str, length: int) -> pa.Array:
    """A string array holding ``text`` ``length`` times."""
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


def json_quote(values: pa.Array, *, escape: bool = True) -> pa.Array:
    """JSON text of each string (``null`` for nulls), identical to
    ``json.dumps(value, ensure_ascii=False)``.

    ``escape=False`` skips escaping, for values known to hold no ``"``, ``\\`` or control
    character (the generator's own synthetic values).
    """
    values = pc.cast(values, pa.string())
    if not escape:
        return pc.fill_null(concat('"', values, '"'), "null")
    escaped = pc.replace_substring(values, "\\", "\\\\")
    escaped = pc.replace_substring(escaped, '"', '\\"')
    quoted = concat('"', escaped, '"')
    has_control = pc.fill_null(pc.match_substring_regex(values, _CONTROL_CHARS), False)
    if pc.any(has_control).as_py():
        python_values = values.to_pylist()
        flags = has_control.to_pylist()
        patched = quoted.to_pylist()
        for i, flag in enumerate(flags):
            if flag:
                patched[i] = json.dumps(python_values[i], ensure_ascii=False)
        quoted = pa.array(patched, pa.string())
    return pc.fill_null(quoted, "null")


def lines_to_bytes(lines: pa.Array) -> bytes:
    """UTF-8 bytes of the lines, each terminated by ``\\n``."""
    if len(lines) == 0:
        return b""
    if lines.null_count:
        raise ValueError("a text line is null")
    terminated = pc.cast(concat(lines, "\n"), pa.large_string())
    offsets = np.frombuffer(
        terminated.buffers()[1], dtype=np.int64, count=len(terminated) + 1,
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
