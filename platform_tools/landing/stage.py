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
    How each format's values are written as text is documented with its parser:
    :mod:`.parse_csv`, :mod:`.parse_jsonl`, :mod:`.parse_parquet`.
``_parse_error`` (string)
    Null when the row parsed, else a one-line message; ``_record`` then holds
    ``{"_raw_line": "<the line as landed>"}``. A CSV row with the wrong number of fields, a
    JSON line that is not valid JSON or not an object, are such rows.

Files are parsed by their extension: ``.csv`` (:mod:`.parse_csv`);
``.jsonl``/``.ndjson``/``.json`` (JSON lines, :mod:`.parse_jsonl`); ``.parquet``
(:mod:`.parse_parquet`). CSV separators come from
:data:`~platform_tools.landing.dialects.CSV_SEPARATORS` (``,`` for nordgrid and any other
system, ``;`` for luxpower); text files are UTF-8 (a BOM is allowed). A file that cannot be
read at all (corrupt Parquet, undecodable text, an unsupported extension) is not staged and
is recorded with status ``corrupt``; a stale staged file of an earlier version of it is
removed.

The manifest ``<staging>/_manifest/manifest.parquet`` (one row per landing file seen, sorted
by ``source_file``, rewritten atomically and only when a row changed) has the columns of
:data:`MANIFEST_SCHEMA`. The source file's SHA-256 is the idempotency key: a file whose
hash equals the manifest's is not staged again (when its staged file still exists), so
staging twice, or re-landing an identical file, changes nothing; a staged file that was
deleted is rebuilt (same bytes, same manifest row); a changed file is re-staged and its row
replaced (``staged_at`` is the wall-clock time, UTC, of staging that version).

A file that disappeared from the landing zone is **withdrawn**: its row is kept as history
with status ``withdrawn`` (hash, error and counts as they were) and its staged Parquet is
removed, so bronze never tries to load it again — a bad file the source takes back stops
blocking builds, and what was loaded from it earlier stays in bronze (append-only). A
withdrawn file that lands again is staged as new.

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

import hashlib
import json
import os
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from platform_tools.errors import ArtifactError, UsageError
from platform_tools.landing.arrowtext import (
    atomic_write_bytes,
    constant,
    int_array,
    optional_int_array,
    parquet_bytes,
    text_array,
)
from platform_tools.landing.dialects import CSV_SEPARATORS
from platform_tools.landing.parse_csv import parse_csv
from platform_tools.landing.parse_jsonl import parse_jsonl
from platform_tools.landing.parse_parquet import parse_parquet
from platform_tools.landing.records import CorruptFile, ParsedFile, one_line
from platform_tools.progress import NoProgress, Progress

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
STATUS_WITHDRAWN: Final[str] = "withdrawn"
CSV_EXTENSIONS: Final[frozenset[str]] = frozenset({".csv"})
JSON_EXTENSIONS: Final[frozenset[str]] = frozenset({".jsonl", ".ndjson", ".json"})
PARQUET_EXTENSIONS: Final[frozenset[str]] = frozenset({".parquet"})
_PARTITION = re.compile(r"ingest_date=(\d{4}-\d{2}-\d{2})")
# files staged at once (each holds its bytes and their parse in memory)
_WORKERS = max(1, min(2, os.cpu_count() or 1))


@dataclass(frozen=True)
class LandingFile:
    system: str
    entity: str
    ingest_date: str
    relative: str  # landing-relative, "/"-separated
    path: Path


@dataclass(frozen=True)
class StageSummary:
    staged: tuple[str, ...]
    rows_staged: int
    unchanged: int
    corrupt_new: tuple[tuple[str, str], ...]
    corrupt_known: tuple[tuple[str, str], ...]
    ignored: tuple[str, ...]
    withdrawn: tuple[str, ...]  # newly withdrawn by this run
    manifest: Path
    manifest_written: bool = field(default=False)


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


# -- staged files -------------------------------------------------------------------------


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
            f"staging manifest {path} is unreadable ({one_line(str(exc), 120)}); "
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
        message = one_line(str(exc))
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
    progress: Progress,
) -> list[_Outcome]:
    """:func:`_stage_file` of every file, in file order, on up to :data:`_WORKERS` threads
    (Arrow, hashing, file I/O and Parquet encoding release the GIL)."""
    settled_before_ns = time.time_ns() - MTIME_SETTLE_NS

    def stage_one(file: LandingFile) -> _Outcome:
        known = previous.get(file.relative)
        if known is not None and known["status"] == STATUS_WITHDRAWN:
            known = None  # landed again: a new file
        outcome = _stage_file(file, staging, known, settled_before_ns, now)
        progress.advance()
        return outcome

    progress.start(len(files), "staging", "file")
    try:
        with ThreadPoolExecutor(_WORKERS) as pool:
            return list(pool.map(stage_one, files))
    finally:
        progress.close()


def stage(
    landing: Path,
    staging: Path,
    *,
    now: Callable[[], datetime] = _utc_now,
    progress: Progress | None = None,
) -> StageSummary:
    """Stage every new or changed landing file and rewrite the manifest (see module doc);
    ``progress`` hears of each file (the CLI draws a bar on a terminal)."""
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
    outcomes = _stage_files(files, staging, previous, now, progress or NoProgress())
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
    seen = {f.relative for f in files}
    withdrawn = sorted(
        key for key, row in rows.items() if key not in seen and row["status"] != STATUS_WITHDRAWN
    )
    for key in withdrawn:
        rows[key] = {**rows[key], "status": STATUS_WITHDRAWN}
        staged_path(staging, key).unlink(missing_ok=True)
    written = False
    if rows != previous or manifest.legacy or not manifest_path(staging).exists():
        for key, mtime_ns in confirmed.items():  # rewritten anyway: record confirmed mtimes
            rows[key] = {**rows[key], MTIME_COLUMN: mtime_ns}
        atomic_write_bytes(manifest_path(staging), parquet_bytes(manifest_table(rows)))
        written = True
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
        withdrawn=tuple(withdrawn),
        manifest=manifest_path(staging),
        manifest_written=written,
    )
