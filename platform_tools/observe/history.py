"""Run history: every dbt invocation recorded once, atomically, never rewritten.

Layout (``<lakehouse>/_history``, see ``docs/platform_tools.md``)::

    _history/
      runs/
        <invocation_id>/
          run.json               one row per executed node, column-oriented (RUN_SCHEMA);
                                 (columns encoded as strings, see _pack)
          manifest_summary.json.gz  gzip-compressed JSON: team, domain, layer, tier, SLA...
                                    of those nodes as they were then (SUMMARY_SCHEMA)

A run directory is first written under ``runs/.tmp-<id>-<pid>-<random>/`` and then renamed
into place, so readers never see half a run and two processes recording the same invocation
cannot both win: the rename of the loser fails and it drops its copy. Recording an invocation
that is already there is a no-op. Failed runs (error statuses) are recorded like any other.

:func:`record_run` is safe to call from an ``atexit`` handler: it never raises (unless
``strict``), prints nothing, and costs a few milliseconds plus one small read of each built
table's newest Delta log entries (rows written per model).
"""

from __future__ import annotations

import gzip
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from platform_tools.artifacts._io import paused_gc
from platform_tools.artifacts.manifest import Manifest, load_manifest
from platform_tools.artifacts.ownership import Ownership
from platform_tools.artifacts.run_results import (
    ERROR_STATUSES,
    NodeResult,
    RunResults,
    check_same_invocation,
    load_run_results,
)
from platform_tools.artifacts.runs import (
    command_line,
    is_pipeline_command,
    is_pipeline_run,
)
from platform_tools.errors import ArtifactError, PlatformError

RUN_SCHEMA = "platform-tools/history/run/v1"
SUMMARY_SCHEMA = "platform-tools/history/manifest-summary/v1"
RUN_FILE = "run.json"
SUMMARY_FILE = "manifest_summary.json.gz"
STALE_TMP_SECONDS = 24 * 3600
CLOCK_SLACK_MS = 2000

Status = Literal["recorded", "already-recorded", "skipped", "failed"]


@dataclass(frozen=True)
class RecordResult:
    """What :func:`record_run` did."""

    status: Status
    invocation_id: str | None = None
    path: Path | None = None
    nodes: int = 0
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.status in ("recorded", "already-recorded", "skipped")

    def describe(self) -> str:
        if self.status == "recorded":
            return f"recorded run {self.invocation_id} ({self.nodes} nodes) in {self.path}"
        if self.status == "already-recorded":
            return f"run {self.invocation_id} was already recorded in {self.path}"
        return f"{self.status}: {self.reason}"


# --------------------------------------------------------------------------------------
# Recording
# --------------------------------------------------------------------------------------
def record_run(
    target_dir: Path,
    history_dir: Path,
    *,
    warehouse: Path | None = None,
    strict: bool = False,
) -> RecordResult:
    """Record the invocation in ``target_dir`` under ``history_dir/runs/<invocation_id>/``.

    ``warehouse`` (default ``history_dir/../warehouse``) is where the Delta tables live; rows
    written per model are read from their logs. Without ``strict``, no exception escapes:
    problems come back as a ``failed`` (or ``skipped``) result.
    """
    try:
        return _record(target_dir, history_dir, warehouse, strict)
    except Exception as exc:  # an atexit hook must never raise
        if strict:
            raise
        reason = exc.message if isinstance(exc, PlatformError) else f"{type(exc).__name__}: {exc}"
        return RecordResult("failed", reason=reason)


def _record(
    target_dir: Path, history_dir: Path, warehouse: Path | None, strict: bool
) -> RecordResult:
    run_results_path = target_dir / "run_results.json"
    manifest_path = target_dir / "manifest.json"
    if not run_results_path.exists():
        if strict:
            raise ArtifactError(f"{run_results_path}: not found; run `dbt build` first")
        return RecordResult("skipped", reason=f"{run_results_path} not found")
    try:
        run_results = load_run_results(run_results_path)
        invocation = run_results.invocation_id
        if not invocation:
            raise ArtifactError(f"{run_results_path}: has no metadata.invocation_id")
        final = history_dir / "runs" / invocation
        if final.exists():
            return RecordResult("already-recorded", invocation, final)
        if not is_pipeline_run(run_results):
            return RecordResult(
                "skipped", invocation,
                reason=f"`{command_line(run_results.command)}` does not run the pipeline",
            )
        if not run_results.results:
            return RecordResult("skipped", invocation, reason="run_results.json has no results")
        manifest = load_manifest(manifest_path)
        check_same_invocation(run_results, manifest)
    except ArtifactError as exc:
        if strict:
            raise
        return RecordResult("skipped", reason=exc.message)
    lakehouse_warehouse = warehouse or history_dir.parent / "warehouse"
    run_doc = run_document(run_results, manifest, lakehouse_warehouse)
    summary_doc = manifest_summary(manifest, [r.unique_id for r in run_results.results])
    return publish_run(history_dir, run_doc, summary_doc)


def publish_run(
    history_dir: Path, run_doc: Mapping[str, Any], summary_doc: Mapping[str, Any]
) -> RecordResult:
    """Write a run directory atomically (no-op when the invocation is already there)."""
    invocation = str(run_doc["invocation_id"])
    nodes = len(run_doc["nodes"]["unique_id"])
    runs = history_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    final = runs / invocation
    if final.exists():
        return RecordResult("already-recorded", invocation, final)
    _clean_stale_tmp(runs)
    tmp = runs / f".tmp-{invocation}-{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        _write_synced(tmp / SUMMARY_FILE, summary_doc)
        packed = dict(run_doc)
        packed["nodes"] = {
            name: _pack(name, values) for name, values in run_doc["nodes"].items()
            if name in ("unique_id", "status", "execution_time")
            or any(v is not None for v in values)
        }
        _write_synced(tmp / RUN_FILE, packed)
        try:
            os.rename(tmp, final)
        except OSError:
            if final.exists():
                return RecordResult("already-recorded", invocation, final)
            raise
        _fsync_dir(runs)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return RecordResult("recorded", invocation, final, nodes)


def _write_synced(path: Path, doc: Mapping[str, Any]) -> None:
    data = json.dumps(doc, separators=(",", ":")).encode()
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=5, mtime=0)
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _clean_stale_tmp(runs: Path) -> None:
    """Remove temporary directories of recordings that crashed more than a day ago."""
    now = time.time()
    for entry in runs.glob(".tmp-*"):
        try:
            if now - entry.stat().st_mtime > STALE_TMP_SECONDS:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            continue


def run_document(
    run_results: RunResults, manifest: Manifest, warehouse: Path | None
) -> dict[str, Any]:
    """The ``run.json`` content: one column per field, one row per executed node.

    Node times are offsets in seconds from the run's ``started_at`` (``start_s``,
    ``end_s``); columns that would hold only nulls are left out.
    """
    results = run_results.results
    started = run_results.started_at or _first_start(results)
    origin = _epoch_ms(started)
    rows_written = [
        _rows_written(result, manifest, warehouse) if warehouse is not None else None
        for result in results
    ]
    counts: dict[str, int] = {}
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    failed = any(r.status in ERROR_STATUSES for r in results)

    def offset(timestamp: str | None) -> float | None:
        moment = _epoch_ms(timestamp)
        if moment is None or origin is None:
            return None
        return round((moment - origin) / 1000, 3)

    columns: dict[str, list[Any]] = {
        "unique_id": [r.unique_id for r in results],
        "status": [r.status for r in results],
        "execution_time": [round(r.execution_time, 3) for r in results],
        "start_s": [offset(r.started_at) for r in results],
        "end_s": [offset(r.completed_at) for r in results],
        "rows_affected": [r.rows_affected for r in results],
        "rows_written": rows_written,
        "failures": [r.failures for r in results],
        "message": [None if r.is_ok else r.message for r in results],
    }
    return {
        "schema": RUN_SCHEMA,
        "invocation_id": run_results.invocation_id,
        "command": run_results.command,
        "invocation_command": run_results.invocation_command,
        "project": manifest.metadata.project_name,
        "dbt_version": manifest.metadata.dbt_version,
        "started_at": started,
        "generated_at": run_results.generated_at,
        "elapsed_time": run_results.elapsed_time,
        "recorded_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "status": "error" if failed else "success",
        "counts": counts,
        "nodes": {
            name: values for name, values in columns.items()
            if name in ("unique_id", "status", "execution_time")
            or any(v is not None for v in values)
        },
    }


# Column encoding in run.json. A JSON parser reads one long string far faster than
# thousands of short values, and most reports need only a few columns, so every column is
# stored as one string and decoded on first use:
#   unique_id, status       space-joined strings (a JSON string without escapes)
#   execution_time, start_s, end_s, rows_affected, rows_written, failures
#                           comma-joined numbers, an empty field for null
#   message                 an object {row index: text} holding only the non-null rows
# A plain JSON list is accepted for any column.
_TEXT = frozenset({"unique_id", "status"})
_FLOATS = frozenset({"execution_time", "start_s", "end_s"})
_INTS = frozenset({"rows_affected", "rows_written", "failures"})
_SPARSE = frozenset({"message"})


def _pack(name: str, values: list[Any]) -> Any:
    if name in _TEXT and all(" " not in v for v in values):
        return " ".join(values)
    if name in _FLOATS or name in _INTS:
        return ",".join("" if v is None else repr(v) for v in values)
    if name in _SPARSE:
        return {str(i): v for i, v in enumerate(values) if v is not None}
    return values


def _unpack(name: str, value: Any, size: int | None) -> list[Any]:
    if isinstance(value, list):
        column = value
    elif isinstance(value, str) and name in _TEXT:
        column = _split_shared(value)
    elif isinstance(value, str) and (name in _FLOATS or name in _INTS):
        parts = value.split(",") if value else []
        convert: Any = float if name in _FLOATS else int
        if "" in parts:
            column = [convert(p) if p else None for p in parts]
        else:
            column = list(map(convert, parts))
    elif isinstance(value, dict) and size is not None:
        column = [None] * size
        for index, text in value.items():
            column[int(index)] = text
    else:
        raise ValueError(f"column {name} has an unknown encoding")
    if size is not None and len(column) != size:
        raise ValueError(f"column {name} has {len(column)} rows, not {size}")
    return column


_SHARED: dict[str, list[str]] = {}
_SHARED_MAX = 16


def _split_shared(value: str) -> list[str]:
    """Split a joined column; runs with the same node list share one list object (runs of
    one project usually have identical node lists, and the analyses key on identity)."""
    column = _SHARED.get(value)
    if column is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        column = _SHARED[value] = value.split(" ") if value else []
    return column


class RunColumns(Mapping[str, list[Any]]):
    """The node columns of a run, decoded on first access."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = raw
        self._decoded: dict[str, list[Any]] = {}
        self.size = len(self["unique_id"])

    def __getitem__(self, name: str) -> list[Any]:
        column = self._decoded.get(name)
        if column is None:
            if name not in self._raw:
                raise KeyError(name)
            size = None if name == "unique_id" else self.size
            column = self._decoded[name] = _unpack(name, self._raw[name], size)
        return column

    def remember(self, name: str, values: list[Any]) -> None:
        """Keep a derived column (e.g. all nulls) for the next access."""
        self._decoded[name] = values

    def check(self, *names: str) -> None:
        """Decode these columns now (raising ValueError when one is malformed)."""
        for name in names:
            self.__getitem__(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)


def _first_start(results: Iterable[NodeResult]) -> str | None:
    starts = sorted(r.started_at for r in results if r.started_at)
    return starts[0] if starts else None


def manifest_summary(manifest: Manifest, unique_ids: Iterable[str]) -> dict[str, Any]:
    """What later reports need to know about the nodes of a run, as it was at the time."""
    ownership = Ownership(manifest)
    nodes: dict[str, Any] = {}
    for uid in unique_ids:
        node = manifest.nodes.get(uid)
        if node is None:
            continue
        tested = ownership.tested_node(node) if node.resource_type in ("test",
                                                                         "unit_test") else None
        nodes[uid] = {
            "label": node.label,
            "resource_type": node.resource_type,
            "team": ownership.charged_team(uid),
            "domain": (tested or node).domain,
            "layer": (tested or node).layer,
            "tier": (tested or node).tier,
            "sla_freshness_hours": node.sla_freshness_hours,
            "access": node.access,
            "materialized": node.materialized,
            "relation": [node.schema, node.alias] if node.has_table else None,
            "tested_node": tested.unique_id if tested else None,
        }
    return {
        "schema": SUMMARY_SCHEMA,
        "invocation_id": manifest.invocation_id,
        "project": manifest.metadata.project_name,
        "nodes": nodes,
    }


# --------------------------------------------------------------------------------------
# Rows written, from the Delta log
# --------------------------------------------------------------------------------------
def _epoch_ms(timestamp: str | None) -> int | None:
    if not timestamp:
        return None
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def _rows_written(result: NodeResult, manifest: Manifest, warehouse: Path) -> int | None:
    node = manifest.nodes.get(result.unique_id)
    if node is None or not node.has_table or not result.is_ok or not node.schema:
        return None
    begin, end = _epoch_ms(result.started_at), _epoch_ms(result.completed_at)
    if begin is None or end is None:
        return None
    log_dir = warehouse / node.schema / (node.physical_alias or node.name) / "_delta_log"
    return rows_written_between(log_dir, begin - CLOCK_SLACK_MS, end + CLOCK_SLACK_MS)


def rows_written_between(log_dir: Path, begin_ms: int, end_ms: int) -> int | None:
    """Rows written by the Delta commits of ``log_dir`` whose timestamp is in the window.

    Per commit: ``MERGE`` counts inserted + updated + deleted target rows; other operations
    count ``operationMetrics.numOutputRows`` (Sail writes it), else the ``numRecords`` stats
    of the files the commit adds. 0 when no commit falls in the window (nothing changed);
    ``None`` when the table has no log.
    """
    try:
        names = sorted(
            (e.name for e in os.scandir(log_dir) if e.name.endswith(".json")), reverse=True
        )
    except OSError:
        return None
    total: int | None = 0 if names else None
    for name in names:
        commit = _read_commit(log_dir / name)
        if commit is None:
            continue
        stamp, rows = commit
        if stamp is None:
            continue
        if stamp < begin_ms:
            break
        if stamp <= end_ms and rows is not None:
            total = (total or 0) + rows
    return total


def _read_commit(path: Path) -> tuple[int | None, int | None] | None:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    stamp: int | None = None
    metrics: Mapping[str, Any] = {}
    operation = ""
    added: int | None = None
    for line in lines:
        try:
            action = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "commitInfo" in action:
            info = action["commitInfo"] or {}
            raw_stamp = info.get("timestamp")
            stamp = int(raw_stamp) if isinstance(raw_stamp, int | float) else None
            metrics = info.get("operationMetrics") or {}
            operation = str(info.get("operation") or "")
        elif "add" in action:
            stats = (action["add"] or {}).get("stats")
            try:
                records = json.loads(stats).get("numRecords") if stats else None
            except (json.JSONDecodeError, AttributeError):
                records = None
            if isinstance(records, int):
                added = (added or 0) + records
    return stamp, _commit_rows(operation, metrics, added)


def _commit_rows(operation: str, metrics: Mapping[str, Any], added: int | None) -> int | None:
    def metric(name: str) -> int | None:
        value = metrics.get(name)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    if operation.upper() == "MERGE":
        parts = [metric(k) for k in ("numTargetRowsInserted", "numTargetRowsUpdated",
                                     "numTargetRowsDeleted")]
        if any(p is not None for p in parts):
            return sum(p or 0 for p in parts)
    for key in ("numOutputRows", "numUpdatedRows", "numDeletedRows"):
        value = metric(key)
        if value is not None:
            return value
    return added


# --------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class NodeRun:
    unique_id: str
    status: str
    execution_time: float
    started_at: str | None
    completed_at: str | None
    rows_affected: int | None
    rows_written: int | None
    failures: int | None
    message: str | None

    @property
    def is_error(self) -> bool:
        return self.status in ERROR_STATUSES


def _iso(origin_ms: int | None, offset: float | None) -> str | None:
    if origin_ms is None or offset is None:
        return None
    moment = datetime.fromtimestamp((origin_ms + offset * 1000) / 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class RunRecord:
    """One recorded invocation; ``columns`` holds the node rows column by column."""

    path: Path
    invocation_id: str
    command: str | None
    invocation_command: str | None
    started_at: str | None
    generated_at: str | None
    elapsed_time: float
    status: str
    counts: Mapping[str, int]
    columns: Mapping[str, list[Any]] = field(repr=False)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any], path: Path) -> RunRecord:
        if doc.get("schema") != RUN_SCHEMA:
            raise ValueError(f"unknown schema {doc.get('schema')!r}")
        columns = RunColumns(doc["nodes"])
        columns.check("status", "execution_time")
        return cls(
            path=path,
            invocation_id=str(doc["invocation_id"]),
            command=doc.get("command"),
            invocation_command=doc.get("invocation_command"),
            started_at=doc.get("started_at"),
            generated_at=doc.get("generated_at"),
            elapsed_time=float(doc.get("elapsed_time") or 0.0),
            status=str(doc.get("status") or "success"),
            counts=dict(doc.get("counts") or {}),
            columns=columns,
        )

    @property
    def size(self) -> int:
        return len(self.columns["unique_id"])

    @property
    def failed(self) -> bool:
        return self.status == "error"

    @property
    def origin_ms(self) -> int | None:
        return _epoch_ms(self.started_at)

    def column(self, name: str) -> list[Any]:
        """A column, or a list of ``None`` when the run stored none."""
        values = self.columns.get(name)
        if values is None:
            values = [None] * self.size
            if isinstance(self.columns, RunColumns):
                self.columns.remember(name, values)
        return values

    def time_at(self, offset: float | None) -> str | None:
        """The ISO time of an offset in seconds from the run's start."""
        return _iso(self.origin_ms, offset)

    def nodes(self) -> Iterator[NodeRun]:
        origin = self.origin_ms
        for uid, status, spent, start, end, affected, written, failures, message in zip(
            self.columns["unique_id"], self.columns["status"], self.columns["execution_time"],
            self.column("start_s"), self.column("end_s"), self.column("rows_affected"),
            self.column("rows_written"), self.column("failures"), self.column("message"),
            strict=True,
        ):
            yield NodeRun(uid, status, float(spent or 0.0), _iso(origin, start),
                          _iso(origin, end), affected, written, failures, message)

    def summary(self) -> dict[str, Any]:
        """The manifest summary recorded with the run (read on demand)."""
        try:
            doc = json.loads(gzip.decompress((self.path / SUMMARY_FILE).read_bytes()))
        except (OSError, EOFError, json.JSONDecodeError):
            return {}
        nodes = doc.get("nodes") if isinstance(doc, dict) else None
        return nodes if isinstance(nodes, dict) else {}


@dataclass(frozen=True)
class History:
    """Recorded runs, oldest first, plus the run directories that could not be read."""

    history_dir: Path
    runs: tuple[RunRecord, ...]
    problems: tuple[str, ...] = ()

    @property
    def latest(self) -> RunRecord | None:
        return self.runs[-1] if self.runs else None


DAY_SECONDS = 86400.0


def load_history(
    history_dir: Path, *, limit: int | None = None, within_days: float | None = None
) -> History:
    """Read the recorded runs, oldest first; unreadable runs are listed in ``problems``.

    With ``limit`` and/or ``within_days`` only part of a long history is parsed: the
    ``limit`` most recently recorded runs, and the runs recorded within ``within_days`` (plus
    a day) of the most recent one (by the modification time of their ``run.json``, which
    is written once, when the run is recorded). Without either, every run is read.
    """
    runs_dir = history_dir / "runs"
    records: list[RunRecord] = []
    problems: list[str] = []
    try:
        candidates: list[tuple[float, str, Path]] = []
        for entry in os.scandir(runs_dir):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            path = Path(entry.path)
            try:
                stamp = (path / RUN_FILE).stat().st_mtime
            except OSError:
                stamp = 0.0
            candidates.append((stamp, entry.name, path))
    except FileNotFoundError:
        return History(history_dir, ())
    except OSError as exc:
        raise ArtifactError(f"{runs_dir}: cannot be read ({exc.strerror})") from None
    candidates.sort(reverse=True)
    if candidates and (limit is not None or within_days is not None):
        newest = candidates[0][0]
        keep: set[int] = set()
        if limit is not None:
            keep.update(range(min(max(limit, 0), len(candidates))))
        if within_days is not None:
            oldest = newest - (within_days + 1) * DAY_SECONDS
            keep.update(i for i, (stamp, _, _) in enumerate(candidates) if stamp >= oldest)
        candidates = [c for i, c in enumerate(candidates) if i in keep]
    for _, _, path in candidates:
        try:
            with paused_gc():
                doc = json.loads((path / RUN_FILE).read_bytes())
                record = RunRecord.from_document(doc, path)
            if is_pipeline_command(record.command):  # recorded by hand or by older tools
                records.append(record)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path / RUN_FILE}: {type(exc).__name__}: {exc}")
    records.sort(key=lambda r: (r.started_at or r.generated_at or "", r.invocation_id))
    if limit is not None and within_days is None:
        records = records[-limit:] if limit > 0 else []
    return History(history_dir, tuple(records), tuple(problems))


def runs_with_target(
    history: History, run_results: RunResults | None, manifest: Manifest, target_dir: Path,
    warehouse: Path | None,
) -> list[RunRecord]:
    """The recorded runs plus the target's run when it is not recorded yet, oldest first."""
    runs = list(history.runs)
    if run_results is None or not is_pipeline_run(run_results):
        return runs
    if run_results.results and run_results.invocation_id not in {
        r.invocation_id for r in runs
    }:
        usable = warehouse if warehouse is not None and warehouse.is_dir() else None
        doc = run_document(run_results, manifest, usable)
        runs.append(RunRecord.from_document(doc, target_dir))
        runs.sort(key=lambda r: (r.started_at or r.generated_at or "", r.invocation_id))
    return runs
