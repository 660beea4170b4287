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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from platform_tools.artifacts.manifest import Manifest, load_manifest
from platform_tools.artifacts.ownership import Ownership
from platform_tools.artifacts.run_results import (
    ERROR_STATUSES,
    NodeResult,
    RunResults,
    check_same_invocation,
    load_run_results,
)
from platform_tools.artifacts.runs import command_line, is_pipeline_run
from platform_tools.errors import ArtifactError, PlatformError
from platform_tools.observe.delta_log import _epoch_ms, _rows_written
from platform_tools.observe.history_columns import _pack

RUN_SCHEMA = "platform-tools/history/run/v1"
SUMMARY_SCHEMA = "platform-tools/history/manifest-summary/v1"
RUN_FILE = "run.json"
SUMMARY_FILE = "manifest_summary.json.gz"
STALE_TMP_SECONDS = 24 * 3600

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
