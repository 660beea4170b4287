"""Rows a dbt node wrote, read from the newest entries of its table's Delta log (for the
run history)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.run_results import NodeResult

CLOCK_SLACK_MS = 2000


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
