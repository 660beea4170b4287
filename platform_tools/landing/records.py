"""What staging's parsers share: the parsed file, the corrupt-file signal, and the
``_record`` text.

A ``_record`` is ``json.dumps(record, ensure_ascii=False, separators=(",", ":"))`` of a row's
field names mapped to their values as text, keys in the file's column order; an error row's
is ``{"_raw_line": "<the line as landed>"}`` (:data:`RAW_LINE_KEY`). It is built either per
row (:func:`dump_record`) or for many rows at once from per-column text arrays
(:func:`records_from_columns`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc

from platform_tools.landing.arrowtext import concat, constant, json_quote, needs_json_escape

RAW_LINE_KEY: Final[str] = "_raw_line"
CHUNK_ROWS = 262_144
BOM = b"\xef\xbb\xbf"


class CorruptFile(Exception):
    """The file cannot be read at all (internal; recorded in the manifest, never raised out)."""


@dataclass(frozen=True)
class ParsedFile:
    """One landing file as staged rows: JSON records plus per-row parse errors."""

    columns: list[tuple[str, str]]
    records: pa.ChunkedArray
    errors: pa.ChunkedArray

    @property
    def row_count(self) -> int:
        return len(self.records)


def one_line(message: str, limit: int = 300) -> str:
    text = " ".join(str(message).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def dump_record(record: dict[str, Any]) -> str:
    """``json.dumps(record, ensure_ascii=False, separators=(",", ":"))``."""
    return _ENCODER.encode(record)


def records_from_columns(names: list[str], texts: list[pa.Array], length: int) -> pa.Array:
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
