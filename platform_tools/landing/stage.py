"""Staging: landing files -> one uniform, idempotent Parquet layout that dbt reads.

For every landing file ``<system>/<entity>/ingest_date=<d>/<name>`` (names starting with
``.`` or ``_`` are skipped at every level, so ``_truth/`` and temp files are never staged)
this writes ``<staging>/<system>/<entity>/ingest_date=<d>/<name>.parquet`` with exactly the
columns of :data:`STAGED_SCHEMA`:

``_source_file`` (string)
    The landing-relative path, ``/``-separated.
``_ingest_date`` (string)
    ``YYYY-MM-DD`` from the partition folder.
``_row_number`` (int64)
    1-based, in file order. Blank lines are not rows; a CSV header is not a row.
``_record`` (string)
    The row as ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``: each field
    name mapped to its value as text exactly as landed, keys in the file's column order.
    CSV: the raw cell text (after CSV unquoting; an empty cell is ``""``). JSON lines:
    strings as they are, numbers as their literal text (``0.2500`` stays ``"0.2500"``),
    booleans ``true``/``false``, nested values as compact JSON text, ``null`` as JSON null.
    Parquet: strings as they are; integers and decimals as decimal text; floats with
    Python ``repr()``; timestamps ``YYYY-MM-DD HH:MM:SS`` plus ``.ffffff`` only when the
    sub-second part is non-zero (nanosecond columns: 9 digits when needed), time-zone-aware
    ones converted to UTC with a trailing ``Z``; dates ``YYYY-MM-DD``; booleans
    ``true``/``false``; binary as lowercase hex; nested values as compact JSON text; nulls
    as JSON null.
``_parse_error`` (string)
    Null when the row parsed, else a one-line message; ``_record`` then holds
    ``{"_raw_line": "<the line as landed>"}``. A CSV row with the wrong number of fields, a
    JSON line that is not valid JSON or not an object, are such rows.

CSV separators come from :data:`~platform_tools.landing.formats.CSV_SEPARATORS`
(``,`` for nordgrid and any other system, ``;`` for luxpower); files are UTF-8 (a BOM is
allowed). Extensions: ``.csv``; ``.jsonl``/``.ndjson``/``.json`` (JSON lines);
``.parquet``. A file that cannot be read at all (corrupt Parquet, undecodable text, an
unsupported extension) is not staged and is recorded with status ``corrupt``; a stale
staged file of an earlier version of it is removed.

The manifest ``<staging>/_manifest/manifest.parquet`` (one row per landing file seen, sorted
by ``source_file``, rewritten atomically and only when a row changed) has the columns of
:data:`MANIFEST_SCHEMA`. The source file's SHA-256 is the idempotency key: a file whose
hash equals the manifest's is not staged again (when its staged file still exists), so
staging twice, or re-landing an identical file, changes nothing; a staged file that was
deleted is rebuilt (same bytes, same manifest row); a changed file is re-staged and its row
replaced (``staged_at`` is the wall-clock time, UTC, of staging that version). Rows of files
that disappeared from the landing zone are kept (staging never deletes because the landing
zone shrank).

``source_mtime_ns`` spares the hashing: a file whose size and modification time (ns) equal
its row's is unchanged without being read. It is recorded only when the file's mtime is at
least :data:`MTIME_SETTLE_NS` older than the start of staging (a later write within the same
file-system timestamp tick could otherwise keep it); otherwise it is null and the file is
hashed on every run. When a file is hashed and found unchanged (its mtime differs, say after
the landing zone was copied), its row keeps the recorded mtime unless the manifest is being
rewritten anyway, which then records the file's current settled mtime. A manifest written
before the column existed reads as null mtimes and is rewritten with the column.

Files are staged on up to two threads (Arrow, hashing, file I/O and Parquet encoding run
without the GIL); results are collected in file order.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from platform_tools.errors import ArtifactError, UsageError
from platform_tools.landing.arrowtext import (
    IntArray,
    atomic_write_bytes,
    bool_array,
    bool_values,
    concat,
    constant,
    float_array,
    int_array,
    int_values,
    json_quote,
    needs_json_escape,
    optional_int_array,
    parquet_bytes,
    positions,
    take_spans,
    text_array,
    text_scalar,
)
from platform_tools.landing.formats import CSV_SEPARATORS

STAGED_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        ("_source_file", pa.string()),
        ("_ingest_date", pa.string()),
        ("_row_number", pa.int64()),
        ("_record", pa.string()),
        ("_parse_error", pa.string()),
    ]
)
MANIFEST_SCHEMA: Final[pa.Schema] = pa.schema(
    [
        ("system", pa.string()),
        ("entity", pa.string()),
        ("ingest_date", pa.string()),
        ("source_file", pa.string()),
        ("source_bytes", pa.int64()),
        ("source_sha256", pa.string()),
        ("status", pa.string()),
        ("error", pa.string()),
        ("row_count", pa.int64()),
        ("columns_json", pa.string()),
        ("staged_at", pa.timestamp("us", tz="UTC")),
        ("source_mtime_ns", pa.int64()),
    ]
)
MTIME_COLUMN: Final[str] = "source_mtime_ns"
# A landing file's mtime is recorded (and trusted later) only when it is at least this much
# older than the start of staging: a write within the same file-system timestamp tick as the
# recorded one would otherwise go unnoticed.
MTIME_SETTLE_NS: Final[int] = 2_000_000_000
MANIFEST_RELATIVE: Final[str] = "_manifest/manifest.parquet"
STATUS_STAGED: Final[str] = "staged"
STATUS_CORRUPT: Final[str] = "corrupt"
RAW_LINE_KEY: Final[str] = "_raw_line"
CSV_EXTENSIONS: Final[frozenset[str]] = frozenset({".csv"})
JSON_EXTENSIONS: Final[frozenset[str]] = frozenset({".jsonl", ".ndjson", ".json"})
PARQUET_EXTENSIONS: Final[frozenset[str]] = frozenset({".parquet"})
_PARTITION = re.compile(r"ingest_date=(\d{4}-\d{2}-\d{2})")
_CHUNK_ROWS = 262_144
# files staged at once (each holds its bytes and their parse in memory)
_WORKERS = max(1, min(2, os.cpu_count() or 1))
_BOM = b"\xef\xbb\xbf"
_BLANK = re.compile(rb"\s*")  # what bytes.strip() removes


class CorruptFile(Exception):
    """The file cannot be read at all (internal; recorded in the manifest, never raised out)."""


@dataclass(frozen=True)
class LandingFile:
    system: str
    entity: str
    ingest_date: str
    relative: str  # landing-relative, "/"-separated
    path: Path


@dataclass(frozen=True)
class ParsedFile:
    """One landing file as staged rows: JSON records plus per-row parse errors."""

    columns: list[tuple[str, str]]
    records: pa.ChunkedArray
    errors: pa.ChunkedArray

    @property
    def row_count(self) -> int:
        return len(self.records)


@dataclass(frozen=True)
class StageSummary:
    staged: tuple[str, ...]
    rows_staged: int
    unchanged: int
    corrupt_new: tuple[tuple[str, str], ...]
    corrupt_known: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]
    not_in_landing: int
    manifest: Path
    manifest_written: bool = field(default=False)


def _one_line(message: str, limit: int = 300) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "_"))


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def discover(landing: Path) -> tuple[list[LandingFile], list[str]]:
    """Landing files in the ``<system>/<entity>/ingest_date=<d>/<file>`` layout (sorted), and
    the landing-relative paths of files that do not fit it."""
    found: list[LandingFile] = []
    ignored: list[str] = []
    for path in sorted(landing.rglob("*")):
        relative_parts = path.relative_to(landing).parts
        if any(_is_hidden(part) for part in relative_parts) or not path.is_file():
            continue
        relative = "/".join(relative_parts)
        if len(relative_parts) != 4:
            ignored.append(relative)
            continue
        system, entity, partition, _name = relative_parts
        match = _PARTITION.fullmatch(partition)
        if match is None or not _valid_date(match.group(1)):
            ignored.append(relative)
            continue
        found.append(LandingFile(system, entity, match.group(1), relative, path))
    return found, ignored


# -- rendering helpers -------------------------------------------------------------------


class _Raw(str):
    """A JSON number (or NaN/Infinity) kept as its literal text."""


def _nested_json(value: Any) -> str:
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, dict):
        items = (
            json.dumps(k, ensure_ascii=False) + ":" + _nested_json(v) for k, v in value.items()
        )
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_nested_json(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def _json_value_text(value: Any) -> str | None:
    """A JSON-lines value as staged text."""
    if value is None:
        return None
    if isinstance(value, _Raw):
        return str(value)
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    return _nested_json(value)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_DECODER = json.JSONDecoder(parse_int=_Raw, parse_float=_Raw, parse_constant=_Raw)


def _dump_record(record: dict[str, Any]) -> str:
    """``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``."""
    return _ENCODER.encode(record)


def _records_from_columns(names: list[str], texts: list[pa.Array], length: int) -> pa.Array:
    """``{"name":<json text>,...}`` per row from per-column text arrays (nulls -> null).

    One join over all columns; a column without nulls and without a character JSON escapes
    gets its quotes from the neighbouring literals, any other one goes through
    :func:`json_quote`."""
    if not names:
        return constant("{}", length)
    pieces: list[pa.Array | str] = []
    literal = "{"
    for i, (name, text) in enumerate(zip(names, texts, strict=True)):
        literal += ("," if i else "") + json.dumps(name, ensure_ascii=False) + ":"
        if text.null_count == 0 and not needs_json_escape(text):
            pieces += [literal + '"', pc.cast(text, pa.string())]
            literal = '"'
        else:
            pieces += [literal, json_quote(text)]
            literal = ""
    return concat(*pieces, literal + "}")


# -- CSV -----------------------------------------------------------------------------------


def parse_csv(data: bytes, separator: str) -> ParsedFile:
    """Parse CSV bytes with a header line; rows with the wrong field count become errors."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if _BLANK.fullmatch(body):  # (stops at the first non-blank byte)
        return _empty_parsed([])
    header_end = body.find(b"\n")
    header_bytes = (body if header_end < 0 else body[:header_end]).rstrip(b"\r")
    try:
        header_text = header_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"not UTF-8 text: {exc}") from None
    names = next(csv.reader([header_text], delimiter=separator))
    if not header_text.strip() or not names:
        raise CorruptFile("the first line is not a CSV header")
    columns = [(name, "string") for name in names]
    try:
        parsed = _parse_csv_arrow(body, names, separator)
    except pa.ArrowInvalid as exc:
        if "UTF8" in str(exc) or "utf8" in str(exc).lower():
            raise CorruptFile(f"not UTF-8 text: {_one_line(str(exc))}") from None
        parsed = None
    if parsed is None:
        parsed = _parse_csv_python(body, names, separator)
    records, errors = parsed
    return ParsedFile(columns, records, errors)


def _parse_csv_arrow(
    body: bytes, names: list[str], separator: str
) -> tuple[pa.ChunkedArray, pa.ChunkedArray] | None:
    internal = [f"c{i}" for i in range(len(names))]
    bad: list[tuple[int | None, str, int]] = []

    def on_invalid(row: Any) -> str:
        bad.append((row.number, row.text, row.actual_columns))
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(body),
        read_options=pacsv.ReadOptions(column_names=internal, skip_rows=1, use_threads=False),
        parse_options=pacsv.ParseOptions(delimiter=separator, invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(internal, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    good = table.num_rows
    total = good + len(bad)
    bad_numbers = [number - 1 if number is not None else -1 for number, _, _ in bad]
    if bad and (
        min(bad_numbers) < 1
        or max(bad_numbers) > total
        or any(b <= a for a, b in zip(bad_numbers, bad_numbers[1:], strict=False))
    ):
        return None  # row numbers unknown: let the line-by-line parser number them
    chunks = []
    for start in range(0, good, _CHUNK_ROWS):
        part = table.slice(start, _CHUNK_ROWS)
        texts = [part.column(i).combine_chunks() for i in range(len(names))]
        chunks.append(_records_from_columns(names, texts, part.num_rows))
    good_records = pa.chunked_array(chunks, pa.string())
    if not bad:
        return good_records, pa.chunked_array([pa.nulls(good, pa.string())])
    bad_records = text_array([_dump_record({RAW_LINE_KEY: text}) for _, text, _ in bad])
    bad_errors = text_array([f"expected {len(names)} fields, got {count}" for _, _, count in bad])
    is_bad = np.zeros(total, dtype=bool)
    is_bad[np.array(bad_numbers, dtype=np.int64) - 1] = True
    # position of every output row in concat(good, bad)
    order = np.empty(total, dtype=np.int64)
    order[~is_bad] = np.arange(good, dtype=np.int64)
    order[is_bad] = good + np.arange(len(bad), dtype=np.int64)
    take = int_array(order)
    records = pa.chunked_array([*good_records.chunks, bad_records], pa.string()).take(take)
    errors = pa.chunked_array([pa.nulls(good, pa.string()), bad_errors]).take(take)
    return records, errors


def _parse_csv_python(
    body: bytes, names: list[str], separator: str
) -> tuple[pa.ChunkedArray, pa.ChunkedArray]:
    """Line by line (a quoted value cannot span lines here)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"not UTF-8 text: {exc}") from None
    records: list[str] = []
    errors: list[str | None] = []
    for line in text.split("\n")[1:]:
        line = line.rstrip("\r")
        if not line:
            continue
        try:
            fields = next(csv.reader([line], delimiter=separator, strict=True))
        except csv.Error as exc:
            records.append(_dump_record({RAW_LINE_KEY: line}))
            errors.append(_one_line(f"CSV error: {exc}"))
            continue
        if len(fields) != len(names):
            records.append(_dump_record({RAW_LINE_KEY: line}))
            errors.append(f"expected {len(names)} fields, got {len(fields)}")
            continue
        records.append(_dump_record(dict(zip(names, fields, strict=True))))
        errors.append(None)
    return (
        pa.chunked_array([text_array(records)]),
        pa.chunked_array([text_array(errors)]),
    )


# -- JSON lines ---------------------------------------------------------------------------
#
# Every line is staged as the per-line path :func:`_json_line_row` renders it. Most files
# repeat a few *layouts* (the same keys, in the same order, with the same kinds of flat
# values and the same spacing), and lines of a known layout are rendered vectorised: a
# layout is read off the first line not yet placed (in Python), an anchored RE2 pattern of
# it finds every line of that layout (DFA, no captures), and the records are assembled from
# byte ranges of the file located via its quote positions. A layout only admits strings
# without escapes or control characters, JSON numbers, true, false and null, with unique
# keys; every other line (blank, invalid, nested, escaped, duplicate keys, a layout beyond
# the first few) takes the per-line path, so both give the same text for every line.

_JSON_STRING = r'"[^"\\\x00-\x1f]*"'  # no escape, no control character: text as landed
_JSON_BARE = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|true|false"
_SEED_LEAD = re.compile(r" *\{ *")
_SEED_KEY = re.compile(r'"([^"\\\x00-\x1f]*)"( *: *)')
_SEED_VALUE = re.compile(rf"({_JSON_STRING})|({_JSON_BARE})|null")
_SEED_NEXT = re.compile(r' *, *(?=")')
_SEED_END = re.compile(r" *\} *")
_VALUE_KINDS: Final[dict[int, str]] = {1: "string", 2: "bare", 0: "null"}  # by _SEED_VALUE group
_KIND_PATTERN: Final[dict[str, str]] = {
    "string": _JSON_STRING,
    "bare": f"(?:{_JSON_BARE})",
    "null": "null",
}
_MAX_LAYOUTS = 16  # RE2 passes per file; lines of further layouts take the per-line path
_MAX_SEEDS = 64  # lines tried as the seed of a layout
_MAX_VECTOR_BYTES = 2**31 - 1  # 32-bit string offsets
_QUOTE = 0x22
_NEWLINE = 0x0A
_RETURN = 0x0D


@dataclass(frozen=True)
class _JsonField:
    """One ``"key": value`` of a layout, with the exact text around the value."""

    key: str
    colon: str  # from the key's closing quote to the value
    kind: str  # "string", "bare" (number, true, false: staged quoted) or "null"
    after: str  # from the value to the next key's opening quote, or to the end of the line


@dataclass(frozen=True)
class _JsonLayout:
    lead: str
    fields: tuple[_JsonField, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @property
    def quotes(self) -> int:
        return sum(4 if f.kind == "string" else 2 for f in self.fields)

    def pattern(self) -> str:
        """RE2 pattern matching a line of this layout (with its ``\\r\\n``, if any)."""
        parts = ["^", _re2_literal(self.lead)]
        for f in self.fields:
            parts += ['"', _re2_literal(f.key), '"', _re2_literal(f.colon)]
            parts += [_KIND_PATTERN[f.kind], _re2_literal(f.after)]
        parts.append(r"\r?\n?$")
        return "".join(parts)


@dataclass(frozen=True)
class _JsonLines:
    """A JSON-lines body split at ``\\n``: line ``i`` is ``body[start[i]:stop[i]]`` (its
    ``\\n`` excluded), ``end[i]`` excludes a final ``\\r`` as well."""

    body: bytes
    buffer: pa.Buffer
    start: IntArray
    stop: IntArray
    end: IntArray
    array: pa.Array  # line i with its "\n", for pattern matching

    def text(self, i: int) -> str:
        return self.body[self.start[i] : self.stop[i]].decode("utf-8")


@dataclass
class _JsonRows:
    """Staged rows of some lines of a file, by line number."""

    lines: IntArray
    records: pa.Array
    errors: pa.Array
    keys: list[tuple[int, tuple[str, ...]]]  # (line, keys) of rows that add columns


def _re2_literal(text: str) -> str:
    """``text`` as an RE2 pattern matching exactly it (ASCII punctuation hex-escaped)."""
    return "".join(c if not c.isascii() or c.isalnum() else f"\\x{{{ord(c):02x}}}" for c in text)


def _raw_row(line: str, error: str) -> tuple[str, str | None, tuple[str, ...]]:
    return _dump_record({RAW_LINE_KEY: line}), error, ()


def _json_line_row(line: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """One JSON line as ``(record, parse error, keys)``; ``None`` for a blank line."""
    if not line or line.isspace():
        return None
    if line[-1] == "\r":
        line = line[:-1]
    try:
        value = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        return _raw_row(line, _one_line(f"invalid JSON: {exc}"))
    if not isinstance(value, dict):
        return _raw_row(line, "not a JSON object")
    for key, item in value.items():
        if not isinstance(item, str):  # strings and _Raw numbers stay as they are
            value[key] = _json_value_text(item)
    dumped = _dump_record(value)
    try:
        dumped.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate escape
        return _raw_row(line, "invalid unicode escape")
    return dumped, None, tuple(value)


def _rows_by_line(
    texts: Iterable[tuple[int, str]],
) -> _JsonRows:
    """The per-line path over ``(line number, line)`` pairs."""
    numbers: list[int] = []
    records: list[str] = []
    errors: list[str | None] = []
    keys: list[tuple[int, tuple[str, ...]]] = []
    last_keys: tuple[str, ...] | None = None
    for number, line in texts:
        row = _json_line_row(line)
        if row is None:
            continue
        record, error, row_keys = row
        numbers.append(number)
        records.append(record)
        errors.append(error)
        if row_keys and row_keys != last_keys:
            keys.append((number, row_keys))
            last_keys = row_keys
    return _JsonRows(
        np.array(numbers, dtype=np.int64),
        text_array(records),
        text_array(errors),
        keys,
    )


def _seed_layout(line: str) -> _JsonLayout | None:
    """The layout of one line (``\\n`` and a final ``\\r`` removed), if it has one."""
    lead = _SEED_LEAD.match(line)
    if lead is None:
        return None
    fields: list[_JsonField] = []
    position = lead.end()
    while True:
        key = _SEED_KEY.match(line, position)
        value = _SEED_VALUE.match(line, key.end()) if key is not None else None
        if key is None or value is None:
            return None
        kind = _VALUE_KINDS[value.lastindex or 0]
        end = _SEED_END.fullmatch(line, value.end())
        after = end if end is not None else _SEED_NEXT.match(line, value.end())
        if after is None:
            return None
        fields.append(_JsonField(key.group(1), key.group(2), kind, after.group()))
        if end is not None:
            break
        position = after.end()
    if len({f.key for f in fields}) != len(fields):
        return None  # duplicate keys: the last value wins at the first key's place
    return _JsonLayout(lead.group(), tuple(fields))


def _split_json_lines(body: bytes) -> _JsonLines | None:
    """Split at ``\\n`` (raises :class:`CorruptFile` when the body is not UTF-8; ``None``
    if Arrow finds invalid UTF-8 where Python does not, which is not expected)."""
    codes = np.frombuffer(body, dtype=np.uint8)
    newlines = positions(codes, _NEWLINE)
    start = np.concatenate([np.zeros(1, np.int64), newlines + 1])
    stop = np.concatenate([newlines, np.array([len(body)], np.int64)])
    last = codes[np.maximum(stop - 1, 0)] if len(codes) else np.zeros(1, np.uint8)
    has_return = (stop > start) & (last == _RETURN)
    buffer = pa.py_buffer(body)
    offsets = np.concatenate([start, np.array([len(body)], np.int64)]).astype(np.int32)
    array = pa.Array.from_buffers(pa.string(), len(start), [None, pa.py_buffer(offsets), buffer])
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptFile(f"not UTF-8 text: {exc}") from None
        return None
    return _JsonLines(body, buffer, start, stop, stop - has_return, array)


def _find_layouts(lines: _JsonLines) -> tuple[list[tuple[_JsonLayout, IntArray]], IntArray]:
    """Lines by layout (each group in line order), and the lines left to the per-line path."""
    groups: list[tuple[_JsonLayout, IntArray]] = []
    pending = np.arange(len(lines.start), dtype=np.int64)
    left: list[IntArray] = []
    seeds = 0
    while len(pending) and len(groups) < _MAX_LAYOUTS and seeds < _MAX_SEEDS:
        seeds += 1
        seed = int(pending[0])
        layout = _seed_layout(lines.body[lines.start[seed] : lines.end[seed]].decode("utf-8"))
        if layout is None:
            left.append(pending[:1])
            pending = pending[1:]
            continue
        candidates = (
            lines.array
            if len(pending) == len(lines.start)
            else lines.array.take(int_array(pending))
        )
        matched = pc.match_substring_regex(candidates, layout.pattern())  # (lines: no nulls)
        mask = bool_values(matched)
        if not mask[0]:  # the seed must match its own layout
            left.append(pending[:1])
            pending = pending[1:]
            continue
        groups.append((layout, pending[mask]))
        pending = pending[~mask]
    left.append(pending)
    return groups, np.sort(np.concatenate(left))


def _quote_starts(
    lines: _JsonLines, groups: list[tuple[_JsonLayout, IntArray]], others: IntArray, total: int
) -> IntArray | None:
    """Index into the file's quote positions of each line's first quote (``None`` when the
    per-line counts do not add up to ``total``, which a matched layout rules out)."""
    counts = np.zeros(len(lines.start), dtype=np.int64)
    for layout, numbers in groups:
        counts[numbers] = layout.quotes
    for number in others.tolist():
        counts[number] = lines.body.count(b'"', lines.start[number], lines.stop[number])
    if int(counts.sum()) != total:
        return None
    return np.cumsum(counts) - counts


def _render_layout(
    lines: _JsonLines, layout: _JsonLayout, numbers: IntArray, quotes: IntArray, first: IntArray
) -> pa.Array:
    """The staged records of the lines ``numbers`` (all of ``layout``)."""
    count = layout.quotes
    block: IntArray | None = None
    if first[-1] - first[0] == (len(first) - 1) * count:  # no other quote in between: a view
        block = quotes[first[0] : first[0] + len(first) * count].reshape(len(first), count)

    def quote(j: int) -> IntArray:
        """Position of each line's ``j``-th quote."""
        return block[:, j] if block is not None else quotes[first + j]

    pieces: list[pa.Array | str] = []
    text = "{"
    j = 0
    for i, f in enumerate(layout.fields):
        text += ("," if i else "") + json.dumps(f.key, ensure_ascii=False) + ":"
        key_close = quote(j + 1)
        j += 2
        if f.kind == "string":  # the landed string token, quotes included
            pieces += [text, take_spans(lines.buffer, quote(j), quote(j + 1) + 1)]
            text = ""
            j += 2
        elif f.kind == "bare":  # the literal, quoted
            follow = quote(j) if i + 1 < len(layout.fields) else lines.end[numbers]
            start = key_close + 1 + len(f.colon)
            pieces += [text + '"', take_spans(lines.buffer, start, follow - len(f.after))]
            text = '"'
        else:
            text += "null"
    pieces.append(text + "}")
    if len(pieces) == 1:
        return constant(text + "}", len(numbers))
    return concat(*pieces)


def _vector_rows(lines: _JsonLines) -> list[_JsonRows] | None:
    """All lines staged: lines of a layout vectorised, the others by the per-line path
    (``None`` if a self-check fails, which is not expected: then every line goes by the
    per-line path)."""
    groups, others = _find_layouts(lines)
    rows = [_rows_by_line((int(i), lines.text(int(i))) for i in others)]
    if not groups:
        return rows
    quotes = positions(np.frombuffer(lines.body, dtype=np.uint8), _QUOTE)
    starts = _quote_starts(lines, groups, others, len(quotes))
    if starts is None:
        return None
    for layout, numbers in groups:
        records = _render_layout(lines, layout, numbers, quotes, starts[numbers])
        seed = _json_line_row(lines.text(int(numbers[0])))
        if seed is None or seed[0] != records[0].as_py() or seed[2] != layout.keys:
            return None  # the layout renders its seed differently: not expected
        rows.append(
            _JsonRows(
                numbers,
                records,
                pa.nulls(len(numbers), pa.string()),
                [(int(numbers[0]), layout.keys)],
            )
        )
    return rows


def parse_jsonl(data: bytes, *, vectorised: bool = True) -> ParsedFile:
    """Parse JSON lines; a line that is not a JSON object becomes an error row.

    ``vectorised=False`` stages every line by the per-line path (the reference the
    vectorised layouts are tested against)."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    parts: list[_JsonRows] | None = None
    lines = _split_json_lines(body) if vectorised and len(body) <= _MAX_VECTOR_BYTES else None
    if lines is not None:
        parts = _vector_rows(lines)
    if parts is None:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CorruptFile(f"not UTF-8 text: {exc}") from None
        parts = [_rows_by_line(enumerate(text.split("\n")))]
    return _merge_json_rows(parts)


def _merge_json_rows(parts: list[_JsonRows]) -> ParsedFile:
    """One row per staged line, in line order, and the columns in order of appearance."""
    parts = [p for p in parts if len(p.lines)]
    if len(parts) == 1:
        records, errors = parts[0].records, parts[0].errors
    elif not parts:
        records, errors = text_array([]), text_array([])
    else:
        order = int_array(np.argsort(np.concatenate([p.lines for p in parts]), kind="stable"))
        records = pa.chunked_array([p.records for p in parts], pa.string()).take(order)
        errors = pa.chunked_array([p.errors for p in parts], pa.string()).take(order)
        records, errors = records.combine_chunks(), errors.combine_chunks()
    columns: dict[str, None] = {}
    for _, keys in sorted((k for p in parts for k in p.keys), key=lambda k: k[0]):
        for key in keys:
            columns.setdefault(key)
    return ParsedFile(
        [(name, "string") for name in columns],
        pa.chunked_array([records], pa.string()),
        pa.chunked_array([errors], pa.string()),
    )


# -- Parquet ------------------------------------------------------------------------------


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
        raise CorruptFile(f"unreadable Parquet: {_one_line(opening)}") from None
    if len(set(names)) != len(names) or _DATASET_FIELDS & set(names):
        return pq.read_table(pa.BufferReader(data))  # ambiguous names: its own outcome
    return file.read()


def parse_parquet(data: bytes) -> ParsedFile:
    try:
        table = _read_parquet(data)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise CorruptFile(f"unreadable Parquet: {_one_line(str(exc))}") from None
    names = table.column_names
    columns = [(f.name, str(f.type)) for f in table.schema]
    chunks = []
    for start in range(0, table.num_rows, _CHUNK_ROWS):
        part = table.slice(start, _CHUNK_ROWS)
        texts = [_column_text(part.column(i).combine_chunks()) for i in range(len(names))]
        chunks.append(_records_from_columns(names, texts, part.num_rows))
    records = pa.chunked_array(chunks, pa.string())
    return ParsedFile(columns, records, pa.chunked_array([pa.nulls(len(records), pa.string())]))


def _empty_parsed(columns: list[tuple[str, str]]) -> ParsedFile:
    empty = pa.chunked_array([], pa.string())
    return ParsedFile(columns, empty, empty)


def parse_file(file: LandingFile, data: bytes) -> ParsedFile:
    """Parse one landing file by its extension (raises :class:`CorruptFile`)."""
    suffix = Path(file.relative).suffix.lower()
    if suffix in CSV_EXTENSIONS:
        return parse_csv(data, CSV_SEPARATORS.get(file.system, ","))
    if suffix in JSON_EXTENSIONS:
        return parse_jsonl(data)
    if suffix in PARQUET_EXTENSIONS:
        return parse_parquet(data)
    raise CorruptFile(f"unsupported file type {suffix or '(none)'!r}")


def staged_table(file: LandingFile, parsed: ParsedFile) -> pa.Table:
    n = parsed.row_count
    return pa.table(
        [
            constant(file.relative, n),
            constant(file.ingest_date, n),
            int_array(np.arange(1, n + 1, dtype=np.int64)),
            parsed.records,
            parsed.errors,
        ],
        schema=STAGED_SCHEMA,
    )


def staged_path(staging: Path, relative: str) -> Path:
    """Where the staged Parquet of a landing file goes."""
    return staging / f"{relative}.parquet"


# -- manifest -----------------------------------------------------------------------------


def manifest_path(staging: Path) -> Path:
    return staging / MANIFEST_RELATIVE


@dataclass(frozen=True)
class Manifest:
    """The manifest rows by ``source_file``; ``legacy`` when it predates ``source_mtime_ns``."""

    rows: dict[str, dict[str, Any]]
    legacy: bool = False


def read_manifest(staging: Path) -> Manifest:
    """The manifest (no rows when there is no manifest yet)."""
    path = manifest_path(staging)
    if not path.exists():
        return Manifest({})
    try:
        table = pq.ParquetFile(path).read()
    except (pa.ArrowException, OSError) as exc:
        raise ArtifactError(
            f"staging manifest {path} is unreadable ({_one_line(str(exc), 120)}); "
            "delete it to re-stage every landing file"
        ) from None
    legacy = MTIME_COLUMN not in table.column_names
    if legacy:  # written before the column existed: unknown
        table = table.append_column(MTIME_COLUMN, pa.nulls(table.num_rows, pa.int64()))
    missing = set(MANIFEST_SCHEMA.names) - set(table.column_names)
    if missing:
        raise ArtifactError(
            f"staging manifest {path} lacks columns {sorted(missing)}; "
            "delete it to re-stage every landing file"
        )
    table = table.select(MANIFEST_SCHEMA.names).cast(MANIFEST_SCHEMA)
    columns = {name: table.column(name) for name in table.column_names}
    columns["staged_at"] = columns["staged_at"].cast(pa.int64())  # see _from_micros
    values = {name: column.to_pylist() for name, column in columns.items()}
    values["staged_at"] = [_from_micros(v) for v in values["staged_at"]]
    rows = [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]
    return Manifest({row["source_file"]: row for row in rows}, legacy)


_EPOCH: Final[datetime] = datetime(1970, 1, 1, tzinfo=UTC)


def _from_micros(micros: int | None) -> datetime | None:
    """A UTC timestamp from microseconds (pyarrow's own conversion would import pandas)."""
    return None if micros is None else _EPOCH + timedelta(microseconds=micros)


def _to_micros(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    if moment.tzinfo is None:  # as pyarrow reads a naive time for a UTC column
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def manifest_table(rows: dict[str, dict[str, Any]]) -> pa.Table:
    """The manifest rows sorted by ``source_file``, as a table of :data:`MANIFEST_SCHEMA`."""
    ordered = [rows[key] for key in sorted(rows)]
    arrays: list[pa.Array] = []
    for field_ in MANIFEST_SCHEMA:
        values = [row[field_.name] for row in ordered]
        if field_.name == "staged_at":
            arrays.append(optional_int_array([_to_micros(v) for v in values]).cast(field_.type))
        elif pa.types.is_integer(field_.type):
            arrays.append(optional_int_array(values))
        else:
            arrays.append(text_array(values))
    return pa.table(arrays, schema=MANIFEST_SCHEMA)


def _manifest_row(
    file: LandingFile,
    source: _Source,
    status: str,
    error: str | None,
    parsed: ParsedFile | None,
    staged_at: datetime,
    mtime_ns: int | None,
) -> dict[str, Any]:
    return {
        "system": file.system,
        "entity": file.entity,
        "ingest_date": file.ingest_date,
        "source_file": file.relative,
        "source_bytes": len(source.data),
        "source_sha256": source.sha256,
        "status": status,
        "error": error,
        "row_count": parsed.row_count if parsed is not None else 0,
        "columns_json": json.dumps(
            [list(c) for c in parsed.columns] if parsed is not None else [],
            ensure_ascii=False,
        ),
        "staged_at": staged_at,
        MTIME_COLUMN: mtime_ns,
    }


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# -- staging ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    data: bytes
    sha256: str


@dataclass(frozen=True)
class _Outcome:
    """What staging one landing file did."""

    row: dict[str, Any] | None = None  # its new manifest row (None: the known row stays)
    rows_staged: int | None = None  # set when the file was (re-)staged
    corrupt: str | None = None  # set when it was newly recorded as corrupt
    confirmed_mtime_ns: int | None = None  # its hash matched its row: mtime to record


def _sha256_of(path: Path) -> str:
    """SHA-256 of a file, streamed (an unchanged large file is not held in memory)."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _read_source(path: Path) -> _Source:
    data = path.read_bytes()
    return _Source(data, hashlib.sha256(data).hexdigest())


def _unchanged_by_stat(known: dict[str, Any], stat: os.stat_result) -> bool:
    return known[MTIME_COLUMN] == stat.st_mtime_ns and known["source_bytes"] == stat.st_size


def _stage_file(
    file: LandingFile,
    staging: Path,
    known: dict[str, Any] | None,
    settled_before_ns: int,
    now: Callable[[], datetime],
) -> _Outcome:
    """Stage one landing file unless its manifest row shows it unchanged (see module doc)."""
    stat = file.path.stat()  # before reading: a later write gets a later mtime
    # a more recent mtime could be shared by a write still to come: neither recorded nor trusted
    mtime_ns = stat.st_mtime_ns if stat.st_mtime_ns < settled_before_ns else None
    target = staged_path(staging, file.relative)
    output_ok = known is not None and (known["status"] == STATUS_CORRUPT or target.is_file())
    if known is not None and output_ok and _unchanged_by_stat(known, stat):
        return _Outcome()
    if (
        known is not None
        and output_ok
        and known["source_bytes"] == stat.st_size
        and _sha256_of(file.path) == known["source_sha256"]
    ):
        return _Outcome(confirmed_mtime_ns=mtime_ns)
    source = _read_source(file.path)
    try:
        parsed = parse_file(file, source.data)
    except CorruptFile as exc:
        message = _one_line(str(exc))
        target.unlink(missing_ok=True)
        row = _manifest_row(file, source, STATUS_CORRUPT, message, None, now(), mtime_ns)
        return _Outcome(row, corrupt=message)
    atomic_write_bytes(target, parquet_bytes(staged_table(file, parsed)))
    if known is not None and known["source_sha256"] == source.sha256:
        # a lost staged file: rebuilt, its row as it was
        row = _manifest_row(
            file, source, STATUS_STAGED, None, parsed, known["staged_at"], known[MTIME_COLUMN]
        )
        return _Outcome(row, rows_staged=parsed.row_count, confirmed_mtime_ns=mtime_ns)
    row = _manifest_row(file, source, STATUS_STAGED, None, parsed, now(), mtime_ns)
    return _Outcome(row, rows_staged=parsed.row_count)


def _stage_files(
    files: list[LandingFile],
    staging: Path,
    previous: dict[str, dict[str, Any]],
    now: Callable[[], datetime],
) -> list[_Outcome]:
    """:func:`_stage_file` of every file, in file order, on up to :data:`_WORKERS` threads
    (Arrow, hashing, file I/O and Parquet encoding release the GIL)."""
    settled_before_ns = time.time_ns() - MTIME_SETTLE_NS

    def stage_one(file: LandingFile) -> _Outcome:
        return _stage_file(file, staging, previous.get(file.relative), settled_before_ns, now)

    with ThreadPoolExecutor(_WORKERS) as pool:
        return list(pool.map(stage_one, files))


def stage(landing: Path, staging: Path, *, now: Callable[[], datetime] = _utc_now) -> StageSummary:
    """Stage every new or changed landing file and rewrite the manifest (see module doc)."""
    if not landing.is_dir():
        raise ArtifactError(
            f"landing directory {landing} does not exist; run `platform-tools landing "
            "generate` or pass --landing DIR"
        )
    landing_resolved = landing.resolve()
    staging_resolved = staging.resolve()
    if staging_resolved == landing_resolved or landing_resolved in staging_resolved.parents:
        raise UsageError(
            f"--staging {staging} is inside the landing zone {landing}; choose a directory "
            "outside it (default: <lakehouse>/staging)"
        )
    if staging.exists() and not staging.is_dir():
        raise UsageError(f"--staging {staging} is a file; give a directory")
    manifest = read_manifest(staging)
    previous = manifest.rows
    rows = dict(previous)
    files, ignored = discover(landing)
    staged: list[str] = []
    rows_staged = 0
    unchanged = 0
    corrupt_new: list[tuple[str, str]] = []
    confirmed: dict[str, int] = {}
    outcomes = _stage_files(files, staging, previous, now)
    for file, outcome in zip(files, outcomes, strict=True):
        if outcome.row is not None:
            rows[file.relative] = outcome.row
        if outcome.confirmed_mtime_ns is not None:
            confirmed[file.relative] = outcome.confirmed_mtime_ns
        if outcome.corrupt is not None:
            corrupt_new.append((file.relative, outcome.corrupt))
        elif outcome.rows_staged is not None:
            staged.append(file.relative)
            rows_staged += outcome.rows_staged
        else:
            unchanged += 1
    written = False
    if rows != previous or manifest.legacy or not manifest_path(staging).exists():
        for key, mtime_ns in confirmed.items():  # rewritten anyway: record confirmed mtimes
            rows[key] = {**rows[key], MTIME_COLUMN: mtime_ns}
        atomic_write_bytes(manifest_path(staging), parquet_bytes(manifest_table(rows)))
        written = True
    seen = {f.relative for f in files}
    new_corrupt = {path for path, _ in corrupt_new}
    corrupt_known = tuple(
        (key, str(row["error"]))
        for key, row in sorted(rows.items())
        if row["status"] == STATUS_CORRUPT and key not in new_corrupt and key in seen
    )
    return StageSummary(
        staged=tuple(staged),
        rows_staged=rows_staged,
        unchanged=unchanged,
        corrupt_new=tuple(corrupt_new),
        corrupt_known=corrupt_known,
        ignored=tuple(ignored),
        not_in_landing=sum(1 for key in rows if key not in seen),
        manifest=manifest_path(staging),
        manifest_written=written,
    )
