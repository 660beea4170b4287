"""Run history: every dbt invocation recorded once, atomically, never rewritten.

This module loads it (:func:`load_history`, :class:`RunRecord`, :func:`runs_with_target`);
the store that writes it and its layout are :mod:`platform_tools.observe.history_store`,
the column encoding of ``run.json`` :mod:`platform_tools.observe.history_columns`, and the
rows written per model, read from the Delta log, :mod:`platform_tools.observe.delta_log`.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from platform_tools.artifacts._io import paused_gc
from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.run_results import ERROR_STATUSES, RunResults
from platform_tools.artifacts.runs import is_pipeline_command, is_pipeline_run
from platform_tools.errors import ArtifactError
from platform_tools.observe.delta_log import _epoch_ms, rows_written_between
from platform_tools.observe.history_columns import RunColumns
from platform_tools.observe.history_store import (
    RUN_FILE,
    RUN_SCHEMA,
    SUMMARY_FILE,
    SUMMARY_SCHEMA,
    RecordResult,
    manifest_summary,
    publish_run,
    record_run,
    run_document,
)

__all__ = [
    "RUN_FILE",
    "RUN_SCHEMA",
    "SUMMARY_FILE",
    "SUMMARY_SCHEMA",
    "History",
    "NodeRun",
    "RecordResult",
    "RunRecord",
    "load_history",
    "manifest_summary",
    "publish_run",
    "record_run",
    "rows_written_between",
    "run_document",
    "runs_with_target",
]


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
                doc = _load_json((path / RUN_FILE).read_bytes())
                record = RunRecord.from_document(doc, path)
            if is_pipeline_command(record.command):  # recorded by hand or by older tools
                records.append(record)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            problems.append(f"{path / RUN_FILE}: {type(exc).__name__}: {exc}")
    records.sort(key=lambda r: (r.started_at or r.generated_at or "", r.invocation_id))
    if limit is not None and within_days is None:
        records = records[-limit:] if limit > 0 else []
    return History(history_dir, tuple(records), tuple(problems))


def _load_json(raw: bytes) -> Any:
    """orjson's parse; what it rejects is parsed (or rejected, with its message) by ``json``."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


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
