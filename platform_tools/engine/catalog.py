"""Rebuild the engine's session catalog from the lakehouse directory.

Sail keeps table metadata in memory, per Spark Connect session. The lakehouse directory is the
source of truth instead:

* every table is a Delta table at ``<lakehouse>/warehouse/<schema>/<table>`` (the project's
  ``location_clause`` override puts it there), so tables are found by scanning for
  ``_delta_log`` directories and registered with the schema read from their Delta log;
* views have no files, so the ``view`` materialization records each definition in the Delta
  table ``platform_catalog.relations`` (``macros/system/view_registry.sql``); dropping a
  relation records a tombstone there. When a table directory and a registry row name the same
  relation, the newer of the two wins (a model switched from table to view or back).

After a rebuild a marker view ``platform_catalog.catalog_ready`` exists in the session; its
absence tells :func:`ensure_catalog` that the session is new and needs a rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from platform_tools.engine.config import EngineConfig

if TYPE_CHECKING:  # pragma: no cover
    from pyspark.sql import SparkSession

REGISTRY_SCHEMA = "platform_catalog"
REGISTRY_TABLE = "relations"
READY_VIEW = "catalog_ready"

_PRIMITIVES = {
    "string": "STRING",
    "long": "BIGINT",
    "integer": "INT",
    "short": "SMALLINT",
    "byte": "TINYINT",
    "float": "FLOAT",
    "double": "DOUBLE",
    "boolean": "BOOLEAN",
    "binary": "BINARY",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "timestamp_ntz": "TIMESTAMP_NTZ",
}


@dataclass(frozen=True)
class LakehouseTable:
    """A Delta table found in the warehouse directory."""

    schema: str
    name: str
    location: Path
    columns_ddl: str
    committed_at: dt.datetime
    partition_columns: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegistryEntry:
    """A row of ``platform_catalog.relations``: a view definition or a drop tombstone."""

    schema: str
    name: str
    relation_type: str
    definition: str
    recorded_at: dt.datetime


@dataclass
class RebuildReport:
    """What a catalog rebuild registered, and what it could not."""

    tables: int = 0
    views: int = 0
    problems: list[str] = field(default_factory=list)

    def describe(self) -> str:
        text = f"catalog rebuilt: {self.tables} tables, {self.views} views"
        if self.problems:
            text += f", {len(self.problems)} not restored ({'; '.join(self.problems[:3])})"
        return text


def quote(identifier: str) -> str:
    """Quote an identifier with backticks."""
    return "`" + identifier.replace("`", "``") + "`"


def delta_type_to_ddl(delta_type: Any) -> str:
    """Translate a Delta Lake schema type (the JSON form of the transaction log) to Spark DDL."""
    if isinstance(delta_type, str):
        if delta_type.startswith("decimal"):
            return delta_type.upper()
        try:
            return _PRIMITIVES[delta_type]
        except KeyError:
            raise ValueError(f"unsupported Delta type {delta_type!r}") from None
    kind = delta_type.get("type")
    if kind == "array":
        return f"ARRAY<{delta_type_to_ddl(delta_type['elementType'])}>"
    if kind == "map":
        key = delta_type_to_ddl(delta_type["keyType"])
        value = delta_type_to_ddl(delta_type["valueType"])
        return f"MAP<{key}, {value}>"
    if kind == "struct":
        inner = ", ".join(
            f"{quote(f['name'])}: {delta_type_to_ddl(f['type'])}" for f in delta_type["fields"]
        )
        return f"STRUCT<{inner}>"
    raise ValueError(f"unsupported Delta type {delta_type!r}")


def schema_json_to_ddl(schema_json: str) -> str:
    """Column list for ``CREATE TABLE`` from a Delta schema JSON document."""
    fields = json.loads(schema_json)["fields"]
    parts = []
    for column in fields:
        not_null = "" if column.get("nullable", True) else " NOT NULL"
        parts.append(f"{quote(column['name'])} {delta_type_to_ddl(column['type'])}{not_null}")
    return ", ".join(parts)


def _as_utc(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromtimestamp(float(value) / 1000.0, tz=dt.UTC)


def table_dirs(warehouse: Path) -> Iterator[Path]:
    """The directory of every Delta table below ``warehouse/<schema>/<table>``, sorted."""
    if not warehouse.is_dir():
        return
    for schema_dir in sorted(p for p in warehouse.iterdir() if p.is_dir()):
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            if (table_dir / "_delta_log").is_dir():
                yield table_dir


def scan_tables(warehouse: Path) -> list[LakehouseTable]:
    """Every Delta table below ``warehouse/<schema>/<table>``."""
    from deltalake import DeltaTable

    found: list[LakehouseTable] = []
    for table_dir in table_dirs(warehouse):
        try:
            table = DeltaTable(str(table_dir))
            history = table.history(1)
            committed = _as_utc(history[0]["timestamp"]) if history else _mtime(table_dir)
            ddl = schema_json_to_ddl(table.schema().to_json())
            partitioned = tuple(table.metadata().partition_columns)
        except Exception:  # an unreadable or empty log: leave it to a later build
            continue
        found.append(
            LakehouseTable(
                table_dir.parent.name, table_dir.name, table_dir, ddl, committed, partitioned
            )
        )
    return found


def damaged_tables(warehouse: Path) -> list[Path]:
    """Table folders below ``warehouse/<schema>/<table>`` that hold data files but no Delta
    commit (``_delta_log`` deleted or emptied): the engine can read them no longer."""
    damaged: list[Path] = []
    if not warehouse.is_dir():
        return damaged
    for schema_dir in sorted(p for p in warehouse.iterdir() if p.is_dir()):
        for table_dir in sorted(p for p in schema_dir.iterdir() if p.is_dir()):
            log = table_dir / "_delta_log"
            committed = log.is_dir() and any(
                f.suffix == ".json" or f.name.endswith(".checkpoint.parquet")
                for f in log.iterdir()
            )
            if not committed and next(table_dir.rglob("*.parquet"), None) is not None:
                damaged.append(table_dir)
    return damaged


def damaged_tables_message(warehouse: Path, damaged: list[Path]) -> str:
    """One line naming the damaged tables (at most three) and what to do."""
    names = [f"{p.parent.name}.{p.name} ({p})" for p in damaged[:3]]
    more = f" and {len(damaged) - 3} more" if len(damaged) > 3 else ""
    first = damaged[0].name
    verb = "holds" if len(damaged) == 1 else "hold"
    return (
        f"Delta log missing: {', '.join(names)}{more} {verb} data files but no _delta_log "
        f"commit, so no engine can read it; restore the _delta_log folder from a backup, or "
        f"delete the table folder and rebuild it (`dbt build --full-refresh --select {first}`)"
    )


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)


def read_registry(warehouse: Path) -> list[RegistryEntry]:
    """Rows of ``platform_catalog.relations``, read straight from its Delta log."""
    from deltalake import DeltaTable

    location = warehouse / REGISTRY_SCHEMA / REGISTRY_TABLE
    if not (location / "_delta_log").is_dir():
        return []
    rows = DeltaTable(str(location)).to_pyarrow_table().to_pylist()
    latest: dict[tuple[str, str], RegistryEntry] = {}
    for row in rows:
        entry = RegistryEntry(
            schema=row["relation_schema"],
            name=row["relation_name"],
            relation_type=row["relation_type"],
            definition=row["definition"] or "",
            recorded_at=_as_utc(row["recorded_at"]),
        )
        key = (entry.schema, entry.name)
        if key not in latest or latest[key].recorded_at < entry.recorded_at:
            latest[key] = entry
    return list(latest.values())


@dataclass(frozen=True)
class CatalogPlan:
    """Which tables to register and which views to re-create."""

    tables: list[LakehouseTable]
    views: list[RegistryEntry]


def plan(tables: Iterable[LakehouseTable], registry: Iterable[RegistryEntry]) -> CatalogPlan:
    """Resolve tables against registry rows: the newer record of a relation wins."""
    by_key: dict[tuple[str, str], LakehouseTable | RegistryEntry] = {}
    for table in tables:
        by_key[(table.schema, table.name)] = table
    for entry in registry:
        key = (entry.schema, entry.name)
        existing = by_key.get(key)
        if existing is None or existing_time(existing) < entry.recorded_at:
            by_key[key] = entry
    chosen_tables = [v for v in by_key.values() if isinstance(v, LakehouseTable)]
    views = [
        v for v in by_key.values() if isinstance(v, RegistryEntry) and v.relation_type == "view"
    ]
    views.sort(key=lambda v: v.recorded_at)
    return CatalogPlan(tables=chosen_tables, views=views)


def existing_time(item: LakehouseTable | RegistryEntry) -> dt.datetime:
    return item.committed_at if isinstance(item, LakehouseTable) else item.recorded_at


_clients: dict[str, SparkSession] = {}


def connect(cfg: EngineConfig, new_client: bool = False) -> SparkSession:
    """A Spark Connect client of the shared session, failing fast when the engine is gone.

    pyspark's default retry policy waits up to ten minutes for a server that went away; a
    local engine that died is not coming back by itself, so clients give up after about two
    seconds and the next command restarts it. One client is kept per engine URL (pyspark's
    ``getOrCreate`` would hand back a client of another engine started earlier in the same
    process); the newest becomes the process default, which dbt-spark's ``session`` method
    reuses.
    """
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    url = cfg.remote_url
    session = None if new_client else _clients.get(url)
    if session is None:
        session = SparkSession.builder.remote(url).create()
        client = getattr(session, "client", None)
        if client is not None:
            client.set_retry_policies(
                [
                    DefaultPolicy(
                        max_retries=5, initial_backoff=50, max_backoff=1000, backoff_multiplier=2.0
                    )
                ]
            )
        if not new_client:
            _clients[url] = session
    # Delta timestamps carry the writer's session time zone; every client of the shared
    # session (dbt's profile too) uses UTC so that re-registered schemas match the logs.
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


def catalog_is_ready(spark: SparkSession) -> bool:
    """Whether this session's catalog was rebuilt (a new session has no registry schema)."""
    try:
        rows = spark.sql(f"show views in {REGISTRY_SCHEMA} like '{READY_VIEW}'").collect()
    except Exception as exc:
        if "not found" in str(exc).lower():
            return False
        raise
    return bool(rows)


def rebuild(spark: SparkSession, cfg: EngineConfig) -> RebuildReport:
    """Register every lakehouse table and re-create every recorded view in the session."""
    report = RebuildReport()
    resolved = plan(scan_tables(cfg.warehouse), read_registry(cfg.warehouse))
    schemas = {t.schema for t in resolved.tables} | {v.schema for v in resolved.views}
    for schema in sorted(schemas | {REGISTRY_SCHEMA}):
        spark.sql(f"create schema if not exists {quote(schema)}").collect()
    for table in resolved.tables:
        name = f"{quote(table.schema)}.{quote(table.name)}"
        location = str(table.location).replace("'", "\\'")
        # Sail refuses a declaration whose columns or partitioning differ from the log
        partitioned = (
            f"partitioned by ({', '.join(quote(c) for c in table.partition_columns)}) "
            if table.partition_columns
            else ""
        )
        try:
            spark.sql(
                f"create table if not exists {name} ({table.columns_ddl}) "
                f"using delta {partitioned}location '{location}'"
            ).collect()
        except Exception as exc:
            # the declared schema did not match the log exactly: register without one (the
            # table is readable, but the catalog shows no columns until it is rebuilt)
            report.problems.append(f"{table.schema}.{table.name}: {str(exc).splitlines()[0][:160]}")
            spark.sql(
                f"create table if not exists {name} using delta location '{location}'"
            ).collect()
        report.tables += 1
    pending = list(resolved.views)
    while pending:
        failed: list[tuple[RegistryEntry, str]] = []
        for view in pending:
            name = f"{quote(view.schema)}.{quote(view.name)}"
            try:
                spark.sql(f"create or replace view {name} as {view.definition}").collect()
                report.views += 1
            except Exception as exc:  # a view over a view not re-created yet
                failed.append((view, str(exc).splitlines()[0][:200]))
        if len(failed) == len(pending):
            report.problems.extend(f"{v.schema}.{v.name}: {why}" for v, why in failed)
            break
        pending = [v for v, _ in failed]
    spark.sql(
        f"create or replace view {REGISTRY_SCHEMA}.{READY_VIEW} as "
        f"select timestamp'{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M:%S}' as rebuilt_at"
    ).collect()
    return report


def ensure_catalog(cfg: EngineConfig, force: bool = False) -> RebuildReport | None:
    """Rebuild the catalog when the session is new (or when ``force`` is set)."""
    spark = connect(cfg)
    if not force and catalog_is_ready(spark):
        return None
    return rebuild(spark, cfg)
