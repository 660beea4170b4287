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
hash equals the manifest's is not read again (when its staged file still exists), so
staging twice, or re-landing an identical file, changes nothing; a staged file that was
deleted is rebuilt (same bytes, same manifest row); a changed file is re-staged and its row
replaced (``staged_at`` is the wall-clock time, UTC, of staging that version). Rows of files
that disappeared from the landing zone are kept (staging never deletes because the landing
zone shrank).
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from platform_tools.errors import ArtifactError, UsageError
from platform_tools.landing.arrowtext import (
    atomic_write_bytes,
    concat,
    constant,
    join,
    json_quote,
    parquet_bytes,
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
    ]
)
MANIFEST_RELATIVE: Final[str] = "_manifest/manifest.parquet"
STATUS_STAGED: Final[str] = "staged"
STATUS_CORRUPT: Final[str] = "corrupt"
RAW_LINE_KEY: Final[str] = "_raw_line"
CSV_EXTENSIONS: Final[frozenset[str]] = frozenset({".csv"})
JSON_EXTENSIONS: Final[frozenset[str]] = frozenset({".jsonl", ".ndjson", ".json"})
PARQUET_EXTENSIONS: Final[frozenset[str]] = frozenset({".parquet"})
_PARTITION = re.compile(r"ingest_date=(\d{4}-\d{2}-\d{2})")
_CHUNK_ROWS = 262_144
_BOM = b"\xef\xbb\xbf"


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
    """``{"name":<json text>,...}`` per row from per-column text arrays (nulls -> null)."""
    if not names:
        return constant("{}", length)
    fragments: list[pa.Array | str] = [
        concat(json.dumps(name, ensure_ascii=False) + ":", json_quote(text))
        for name, text in zip(names, texts, strict=True)
    ]
    return concat("{", join(fragments, ","), "}")


# -- CSV -----------------------------------------------------------------------------------


def parse_csv(data: bytes, separator: str) -> ParsedFile:
    """Parse CSV bytes with a header line; rows with the wrong field count become errors."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    if not body.strip():
        return _empty_parsed([])
    header_bytes = body.split(b"\n", 1)[0].rstrip(b"\r")
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
    bad_records = pa.array(
        [_dump_record({RAW_LINE_KEY: text}) for _, text, _ in bad], pa.string()
    )
    bad_errors = pa.array(
        [f"expected {len(names)} fields, got {count}" for _, _, count in bad], pa.string()
    )
    is_bad = np.zeros(total, dtype=bool)
    is_bad[np.array(bad_numbers, dtype=np.int64) - 1] = True
    # position of every output row in concat(good, bad)
    order = np.empty(total, dtype=np.int64)
    order[~is_bad] = np.arange(good, dtype=np.int64)
    order[is_bad] = good + np.arange(len(bad), dtype=np.int64)
    records = pa.chunked_array([*good_records.chunks, bad_records], pa.string()).take(order)
    errors = pa.chunked_array([pa.nulls(good, pa.string()), bad_errors]).take(order)
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
        pa.chunked_array([pa.array(records, pa.string())]),
        pa.chunked_array([pa.array(errors, pa.string())]),
    )


# -- JSON lines ---------------------------------------------------------------------------


def parse_jsonl(data: bytes, *, check_unicode: bool = False) -> ParsedFile:
    """Parse JSON lines; a line that is not a JSON object becomes an error row."""
    body = data[len(_BOM) :] if data.startswith(_BOM) else data
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFile(f"not UTF-8 text: {exc}") from None
    columns: dict[str, None] = {}
    last_keys: tuple[str, ...] = ()
    records: list[str] = []
    errors: list[str | None] = []
    for line in text.split("\n"):
        if not line or line.isspace():
            continue
        if line[-1] == "\r":
            line = line[:-1]
        try:
            value = _DECODER.decode(line)
        except json.JSONDecodeError as exc:
            records.append(_dump_record({RAW_LINE_KEY: line}))
            errors.append(_one_line(f"invalid JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            records.append(_dump_record({RAW_LINE_KEY: line}))
            errors.append("not a JSON object")
            continue
        for key, item in value.items():
            if not isinstance(item, str):  # strings and _Raw numbers stay as they are
                value[key] = _json_value_text(item)
        dumped = _dump_record(value)
        if check_unicode:
            try:
                dumped.encode("utf-8")
            except UnicodeEncodeError:
                records.append(_dump_record({RAW_LINE_KEY: line}))
                errors.append("invalid unicode escape")
                continue
        keys = tuple(value)
        if keys != last_keys:
            for key in keys:
                columns.setdefault(key)
            last_keys = keys
        records.append(dumped)
        errors.append(None)
    try:
        record_array = pa.array(records, pa.string())
    except (UnicodeEncodeError, pa.ArrowException):
        if check_unicode:
            raise
        return parse_jsonl(data, check_unicode=True)  # a lone surrogate escape somewhere
    return ParsedFile(
        [(name, "string") for name in columns],
        pa.chunked_array([record_array]),
        pa.chunked_array([pa.array(errors, pa.string())]),
    )


# -- Parquet ------------------------------------------------------------------------------


def _timestamp_text(column: pa.Array) -> pa.Array:
    unit = column.type.unit
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[unit]
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    raw = pc.fill_null(pc.cast(column, pa.int64()), 0).to_numpy()
    seconds = raw // per_second
    fraction = raw - seconds * per_second
    text = pc.strftime(pa.array(seconds, pa.timestamp("s")), format="%Y-%m-%d %H:%M:%S")
    if unit != "s":
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
        text = concat(text, pa.array(suffix.astype(object), pa.string()))
    if column.type.tz is not None:
        text = concat(text, "Z")
    return pc.if_else(pa.array(valid), text, pa.nulls(len(column), pa.string()))


def _python_text(column: pa.Array, render: Callable[[Any], str]) -> pa.Array:
    return pa.array(
        [None if v is None else render(v) for v in column.to_pylist()], pa.string()
    )


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
        return _python_text(column, repr)
    if pa.types.is_boolean(kind):
        return pc.if_else(column, "true", "false")
    if pa.types.is_timestamp(kind):
        return _timestamp_text(column)
    if pa.types.is_date(kind):
        return pc.cast(pc.cast(column, pa.date32()), pa.string())
    if pa.types.is_null(kind):
        return pa.nulls(len(column), pa.string())
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind) or pa.types.is_fixed_size_binary(
        kind
    ):
        return _python_text(column, lambda v: bytes(v).hex())
    if pa.types.is_nested(kind):
        return _python_text(
            column,
            lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"), default=str),
        )
    return _python_text(column, str)


def parse_parquet(data: bytes) -> ParsedFile:
    try:
        table = pq.read_table(pa.BufferReader(data))
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
            pa.array(np.arange(1, n + 1, dtype=np.int64), pa.int64()),
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


def read_manifest(staging: Path) -> dict[str, dict[str, Any]]:
    """The manifest rows by ``source_file`` (empty when there is no manifest yet)."""
    path = manifest_path(staging)
    if not path.exists():
        return {}
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ArtifactError(
            f"staging manifest {path} is unreadable ({_one_line(str(exc), 120)}); "
            "delete it to re-stage every landing file"
        ) from None
    missing = set(MANIFEST_SCHEMA.names) - set(table.column_names)
    if missing:
        raise ArtifactError(
            f"staging manifest {path} lacks columns {sorted(missing)}; "
            "delete it to re-stage every landing file"
        )
    table = table.select(MANIFEST_SCHEMA.names).cast(MANIFEST_SCHEMA)
    return {row["source_file"]: row for row in table.to_pylist()}


def manifest_table(rows: dict[str, dict[str, Any]]) -> pa.Table:
    ordered = [rows[key] for key in sorted(rows)]
    return pa.Table.from_pylist(ordered, schema=MANIFEST_SCHEMA)


def _manifest_row(
    file: LandingFile,
    data: bytes,
    sha: str,
    status: str,
    error: str | None,
    parsed: ParsedFile | None,
    staged_at: datetime,
) -> dict[str, Any]:
    return {
        "system": file.system,
        "entity": file.entity,
        "ingest_date": file.ingest_date,
        "source_file": file.relative,
        "source_bytes": len(data),
        "source_sha256": sha,
        "status": status,
        "error": error,
        "row_count": parsed.row_count if parsed is not None else 0,
        "columns_json": json.dumps(
            [list(c) for c in parsed.columns] if parsed is not None else [],
            ensure_ascii=False,
        ),
        "staged_at": staged_at,
    }


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def stage(
    landing: Path, staging: Path, *, now: Callable[[], datetime] = _utc_now
) -> StageSummary:
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
    previous = read_manifest(staging)
    rows = dict(previous)
    files, ignored = discover(landing)
    staged: list[str] = []
    rows_staged = 0
    unchanged = 0
    corrupt_new: list[tuple[str, str]] = []
    for file in files:
        data = file.path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        target = staged_path(staging, file.relative)
        known = previous.get(file.relative)
        if (
            known is not None
            and known["source_sha256"] == sha
            and (known["status"] == STATUS_CORRUPT or target.is_file())
        ):
            unchanged += 1
            continue
        try:
            parsed = parse_file(file, data)
        except CorruptFile as exc:
            message = _one_line(str(exc))
            target.unlink(missing_ok=True)
            rows[file.relative] = _manifest_row(
                file, data, sha, STATUS_CORRUPT, message, None, now()
            )
            corrupt_new.append((file.relative, message))
            continue
        atomic_write_bytes(target, parquet_bytes(staged_table(file, parsed)))
        # an unchanged source whose staged file was lost keeps its manifest row as it was
        same_source = known is not None and known["source_sha256"] == sha
        staged_at = known["staged_at"] if known is not None and same_source else now()
        rows[file.relative] = _manifest_row(
            file, data, sha, STATUS_STAGED, None, parsed, staged_at
        )
        staged.append(file.relative)
        rows_staged += parsed.row_count
    written = False
    if rows != previous or not manifest_path(staging).exists():
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
