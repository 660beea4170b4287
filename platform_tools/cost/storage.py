"""Storage of the warehouse's Delta tables: bytes, files and rows of the current version."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from platform_tools.artifacts.manifest import Node


@dataclass(frozen=True, slots=True)
class TableStorage:
    path: Path
    bytes: int
    files: int
    rows: int | None


def table_path(warehouse: Path, node: Node) -> Path | None:
    """``<warehouse>/<schema>/<identifier>`` of a node that writes a table (a public model's
    candidate, which holds every version of it, write-audit-publish)."""
    if not node.has_table or not node.schema or not node.physical_alias:
        return None
    return warehouse / node.schema / node.physical_alias


def read_table_storage(path: Path) -> TableStorage | None:
    """Current files of the Delta table at ``path`` (``None`` when there is no table)."""
    if not (path / "_delta_log").is_dir():
        return None
    try:
        return _with_deltalake(path)
    except Exception:  # an unsupported protocol or a broken log: replay the JSON log
        return _replay_log(path)


def _with_deltalake(path: Path) -> TableStorage:
    import pyarrow as pa
    from deltalake import DeltaTable

    actions = pa.table(DeltaTable(str(path)).get_add_actions(flatten=True))
    sizes = actions.column("size_bytes").to_pylist() if actions.num_rows else []
    rows: int | None = None
    if "num_records" in actions.column_names and actions.num_rows:
        counts = actions.column("num_records").to_pylist()
        rows = None if any(c is None for c in counts) else int(sum(counts))
    return TableStorage(path=path, bytes=int(sum(s or 0 for s in sizes)), files=len(sizes),
                        rows=rows if actions.num_rows else 0)


def _replay_log(path: Path) -> TableStorage | None:
    live: dict[str, tuple[int, int | None]] = {}
    log = path / "_delta_log"
    for commit in sorted(log.glob("*.json")):
        try:
            lines = commit.read_text(encoding="utf-8").splitlines()
        except OSError:
            return None
        for line in lines:
            try:
                action = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "add" in action:
                add = action["add"]
                stats = add.get("stats")
                try:
                    records = json.loads(stats).get("numRecords") if stats else None
                except (json.JSONDecodeError, AttributeError):
                    records = None
                live[add["path"]] = (int(add.get("size") or 0), records)
            elif "remove" in action:
                live.pop(action["remove"]["path"], None)
    counts = [r for _, r in live.values()]
    rows = None if any(c is None for c in counts) else int(sum(c or 0 for c in counts))
    return TableStorage(path=path, bytes=sum(s for s, _ in live.values()), files=len(live),
                        rows=rows)


def warehouse_storage(warehouse: Path, nodes: Iterable[Node]) -> dict[str, TableStorage]:
    """Storage of every node's table that exists under ``warehouse``."""
    result: dict[str, TableStorage] = {}
    if not warehouse.is_dir():
        return result
    for node in nodes:
        path = table_path(warehouse, node)
        if path is None:
            continue
        storage = read_table_storage(path)
        if storage is not None:
            result[node.unique_id] = storage
    return result
