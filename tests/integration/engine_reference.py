"""The Sail side of the engine-equivalence tests (`test_spark_target`, `test_spark_cluster`).

One small world (two days with every fault, then an incremental third day) is generated in
``work/landing_full`` and built on Sail with the stock `dbt build`; every other engine lands the
same days from it and must produce the same public models and snapshot rows.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import (
    ProjectRun,
    assert_ok,
    engine_env,
    platform_tools,
    public_tables,
    table_contents,
)

DAYS = ["2024-10-26", "2024-10-27"]
NEXT_DAY = "2024-10-28"
GENERATE = ["landing", "generate", "--meters", "40", "--days", "3", "--seed", "5"]

SnapshotRows = dict[str, Counter[tuple[Any, ...]]]


@dataclass(frozen=True)
class SailReference:
    """What Sail built: public models and snapshot current rows after ``DAYS`` and after
    ``NEXT_DAY``; ``work/landing_full`` is the generated zone the other engines land from."""

    work: Path
    tables: dict[str, Any]
    snapshots: SnapshotRows
    next_day_tables: dict[str, Any]
    next_day_snapshots: SnapshotRows


def missing_java_or_jars() -> str | None:
    """Why the JVM engines cannot run here (the one-line message), or None."""
    from platform_tools.engine.jvm import delta_jars, java_home
    from platform_tools.errors import PlatformError

    try:
        java_home()
        delta_jars()
    except PlatformError as exc:
        return exc.message
    return None


def snapshot_current_rows(
    target_dir: Path, warehouse: Path, schema_suffix: str = ""
) -> SnapshotRows:
    """Each snapshot's current rows (``dbt_valid_to`` null), without the ``dbt_*`` columns,
    which record when this platform saw a change."""
    from deltalake import DeltaTable

    manifest = json.loads((target_dir / "manifest.json").read_text())
    result = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "snapshot":
            continue
        path = warehouse / f"{node['schema']}{schema_suffix}" / node["alias"]
        data = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
        result[node["alias"]] = Counter(
            tuple(sorted((k, v) for k, v in row.items() if not k.startswith("dbt_")))
            for row in data
            if row["dbt_valid_to"] is None
        )
    return result


def build_sail_reference(work: Path) -> SailReference:
    """Generate the world in ``work`` and build it on Sail, day by day; the engine stops."""
    assert_ok(platform_tools(engine_env(work / "unused", 1), *GENERATE, "--out",
                             str(work / "landing_full")))  # fmt: skip
    sail = ProjectRun.beside(work, "sail")

    def built() -> tuple[dict[str, Any], SnapshotRows]:
        target, warehouse = sail.work / "target", sail.lakehouse / "warehouse"
        return table_contents(public_tables(target, warehouse)), snapshot_current_rows(
            target, warehouse
        )

    try:
        sail.land(DAYS)
        assert_ok(sail.dbt("build"))
        tables, snapshots = built()
        sail.land([NEXT_DAY])
        assert_ok(sail.dbt("build"))
        next_tables, next_snapshots = built()
    finally:
        server.down(EngineConfig(lakehouse=sail.lakehouse, port=sail.port,
                                 session_id=DEFAULT_SESSION_ID))  # fmt: skip
    shutil.rmtree(sail.work, ignore_errors=True)
    return SailReference(work, tables, snapshots, next_tables, next_snapshots)
