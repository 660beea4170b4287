"""Staging's CSV parser: UTF-8 bytes (a BOM is allowed) with a header line -> staged rows.

The header line names the columns (each typed ``string``) and is not a row. Each row's
``_record`` maps the names to the raw cell text (after CSV unquoting; an empty cell is
``""``). A row with the wrong number of fields (or, read line by line, a CSV error) is an
error row: its ``_record`` is ``{"_raw_line": "<the line as landed>"}`` and its
``_parse_error`` says why. A blank file has no rows and no columns. A file that is not
UTF-8, or whose first line is not a header, raises :class:`~.records.CorruptFile`. The
separator is the caller's (staging takes it from
:data:`~platform_tools.landing.dialects.CSV_SEPARATORS`).

Arrow's CSV reader parses the file; when it cannot number the bad rows, the file is parsed
line by line instead (a quoted value cannot span lines there).
"""

from __future__ import annotations

import csv
import re
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from platform_tools.landing.arrowtext import int_array, text_array
from platform_tools.landing.records import (
    BOM,
    CHUNK_ROWS,
    RAW_LINE_KEY,
    CorruptFile,
    ParsedFile,
    dump_record,
    one_line,
    records_from_columns,
)

_BLANK = re.compile(rb"\s*")  # what bytes.strip() removes


def parse_csv(data: bytes, separator: str) -> ParsedFile:
    """Parse CSV bytes with a header line; rows with the wrong field count become errors."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
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
            raise CorruptFile(f"not UTF-8 text: {one_line(str(exc))}") from None
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
    for start in range(0, good, CHUNK_ROWS):
        part = table.slice(start, CHUNK_ROWS)
        texts = [part.column(i).combine_chunks() for i in range(len(names))]
        chunks.append(records_from_columns(names, texts, part.num_rows))
    good_records = pa.chunked_array(chunks, pa.string())
    if not bad:
        return good_records, pa.chunked_array([pa.nulls(good, pa.string())])
    bad_records = text_array([dump_record({RAW_LINE_KEY: text}) for _, text, _ in bad])
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
            records.append(dump_record({RAW_LINE_KEY: line}))
            errors.append(one_line(f"CSV error: {exc}"))
            continue
        if len(fields) != len(names):
            records.append(dump_record({RAW_LINE_KEY: line}))
            errors.append(f"expected {len(names)} fields, got {len(fields)}")
            continue
        records.append(dump_record(dict(zip(names, fields, strict=True))))
        errors.append(None)
    return (
        pa.chunked_array([text_array(records)]),
        pa.chunked_array([text_array(errors)]),
    )


def _empty_parsed(columns: list[tuple[str, str]]) -> ParsedFile:
    empty = pa.chunked_array([], pa.string())
    return ParsedFile(columns, empty, empty)
