"""Staging's JSON-lines parser: UTF-8 bytes (a BOM is allowed), one JSON object a line.

Lines are split at ``\\n`` (a final ``\\r`` is not part of the line); blank lines are not
rows. Each object's ``_record`` keeps its keys in order and its values as text: strings as
they are, numbers as their literal text (``0.2500`` stays ``"0.2500"``), booleans
``true``/``false``, nested values as compact JSON text, ``null`` as JSON null. A line that
is not valid JSON or not an object is an error row: its ``_record`` is
``{"_raw_line": "<the line as landed>"}`` and its ``_parse_error`` says why. The columns
are the keys in order of first appearance, each typed ``string``. A file that is not UTF-8
raises :class:`~.records.CorruptFile`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import (
    IntArray,
    bool_values,
    concat,
    constant,
    int_array,
    positions,
    take_spans,
    text_array,
)
from platform_tools.landing.records import (
    BOM,
    RAW_LINE_KEY,
    CorruptFile,
    ParsedFile,
    dump_record,
    one_line,
)


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


_DECODER = json.JSONDecoder(parse_int=_Raw, parse_float=_Raw, parse_constant=_Raw)


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
    return dump_record({RAW_LINE_KEY: line}), error, ()


def _json_line_row(line: str) -> tuple[str, str | None, tuple[str, ...]] | None:
    """One JSON line as ``(record, parse error, keys)``; ``None`` for a blank line."""
    if not line or line.isspace():
        return None
    if line[-1] == "\r":
        line = line[:-1]
    try:
        value = _DECODER.decode(line)
    except json.JSONDecodeError as exc:
        return _raw_row(line, one_line(f"invalid JSON: {exc}"))
    if not isinstance(value, dict):
        return _raw_row(line, "not a JSON object")
    for key, item in value.items():
        if not isinstance(item, str):  # strings and _Raw numbers stay as they are
            value[key] = _json_value_text(item)
    dumped = dump_record(value)
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
    body = data[len(BOM) :] if data.startswith(BOM) else data
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
