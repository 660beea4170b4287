"""Write-audit-publish (WAP) of public models: the rules shared by the dbt plugin and the tools.

A public model (``access: public``) materialized as a Delta ``table`` or ``incremental`` is
written under a physical name readers do not use, ``<alias>__candidate`` in the model's own
schema; its public name ``<schema>.<alias>`` is a view pinned to the last Delta version of the
candidate whose tests passed (``select <columns> from <candidate> version as of <n>``). The
dbt plugin (:mod:`dbt_gridunion.wap`) writes and audits the candidate and re-points the view
at the end of an invocation whose tests of the model all passed; every publication is recorded
in the Delta table ``platform_catalog.publications``. See ``docs/decisions.md``.

A reader of the Delta *path* ``<warehouse>/<schema>/<alias>__candidate`` gets the newest
written version, audited or not; :func:`published_table` gives the path and the version
readers of the public name get.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CANDIDATE_SUFFIX = "__candidate"
PUBLICATIONS_SCHEMA = "platform_catalog"
PUBLICATIONS_TABLE = "publications"
WAP_MATERIALIZATIONS = frozenset({"table", "incremental"})
DISABLE_VARIABLE = "GRIDUNION_WAP"
"""``GRIDUNION_WAP=0`` turns the mechanism off (for overhead measurements on a lakehouse that
never had it; switching an existing lakehouse over is not supported)."""


def enabled() -> bool:
    """Whether write-audit-publish is on (``GRIDUNION_WAP`` unset or not ``0``/``off``)."""
    return os.environ.get(DISABLE_VARIABLE, "1").strip().lower() not in {"0", "off", "false"}


def is_published_by_view(
    resource_type: str | None,
    access: str | None,
    materialized: str | None,
    file_format: str | None = "delta",
) -> bool:
    """Whether a node is written as a candidate and read through a pinned view."""
    return (  # the environment is read last: most nodes are not public models
        resource_type == "model"
        and str(access or "").lower() == "public"
        and (materialized or "") in WAP_MATERIALIZATIONS
        and (file_format or "delta") == "delta"
        and enabled()
    )


def candidate_identifier(alias: str) -> str:
    """The physical table name of a public model whose public name is ``alias``."""
    return alias + CANDIDATE_SUFFIX


def delta_version(table_path: Path) -> int | None:
    """The newest committed version of the Delta table at ``table_path`` (``None``: no table).

    The commit files ``_delta_log/<20-digit version>.json`` of the newest versions are never
    removed by log clean-up (only those older than the last checkpoint), so the largest name
    is the current version; this reads one directory listing and no file.
    """
    try:
        names = os.listdir(table_path / "_delta_log")
    except OSError:
        return None
    versions = [int(n[:-5]) for n in names if n.endswith(".json") and n[:-5].isdigit()]
    return max(versions) if versions else None


COMPACTION_OPERATION = "OPTIMIZE"


def data_version(table_path: Path) -> int | None:
    """The newest version of the table that changed its data: :func:`delta_version`, skipping
    back over compactions (commits whose ``commitInfo.operation`` is ``OPTIMIZE``: the same
    rows in fewer files, see :mod:`platform_tools.engine.maintenance`). ``None``: no table."""
    newest = delta_version(table_path)
    version = newest
    while version is not None and version > 0:
        try:
            with (table_path / "_delta_log" / f"{version:020d}.json").open("rb") as commit:
                operation = next(
                    (
                        info.get("operation")
                        for info in (json.loads(line).get("commitInfo") for line in commit)
                        if isinstance(info, dict)
                    ),
                    None,
                )
        except (OSError, ValueError):
            return version
        if operation != COMPACTION_OPERATION:
            return version
        version -= 1
    return version


@dataclass(frozen=True, slots=True)
class Publication:
    """The version of a candidate that readers of a public name get."""

    schema: str
    name: str
    candidate: str
    version: int


def read_publications(
    warehouse: Path, schema_suffix: str = ""
) -> dict[tuple[str, str], Publication]:
    """The newest publication per public relation ``(schema, name)``, from the Delta table
    ``<warehouse>/platform_catalog/publications`` (empty when nothing was ever published).
    ``schema_suffix`` is ``.db`` for a Spark-managed warehouse."""
    path = warehouse / f"{PUBLICATIONS_SCHEMA}{schema_suffix}" / PUBLICATIONS_TABLE
    if not (path / "_delta_log").is_dir():
        return {}
    from deltalake import DeltaTable

    rows = DeltaTable(str(path)).to_pyarrow_table().to_pylist()
    rows.sort(key=lambda r: (r["published_at"], r["version"]))
    latest: dict[tuple[str, str], Publication] = {}
    for row in rows:
        key = (str(row["relation_schema"]), str(row["relation_name"]))
        latest[key] = Publication(key[0], key[1], str(row["candidate_name"]), int(row["version"]))
    return latest


def published_table(
    warehouse: Path, schema: str, name: str, schema_suffix: str = ""
) -> tuple[Path, int] | None:
    """``(Delta path, version)`` that readers of ``<schema>.<name>`` get, or ``None`` when the
    relation is not published by write-audit-publish (or nothing passed its audit yet)."""
    publication = read_publications(warehouse, schema_suffix).get((schema, name))
    if publication is None:
        return None
    return warehouse / f"{schema}{schema_suffix}" / publication.candidate, publication.version


def reader_source(
    warehouse: Path, schema: str, table: str, schema_suffix: str = ""
) -> tuple[Path, int | None]:
    """(Delta path, version) that SQL readers of ``schema.table`` get: a public model's
    candidate at the version its view is pinned to, else the table at its current version
    (``None``)."""
    published = published_table(warehouse, schema, table, schema_suffix)
    if published is not None:
        return published
    return warehouse / f"{schema}{schema_suffix}" / table, None


def node_is_published_by_view(node: Mapping[str, Any]) -> bool:
    """:func:`is_published_by_view` for a node of ``manifest.json`` (or dbt's ``graph``)."""
    config = node.get("config") or {}
    return is_published_by_view(
        node.get("resource_type"),
        node.get("access") or config.get("access"),
        config.get("materialized"),
        config.get("file_format"),
    )
