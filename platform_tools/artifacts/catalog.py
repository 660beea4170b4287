"""``catalog.json`` (schema v1, written by ``dbt docs generate``) as small frozen objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tools.artifacts._io import as_dict, as_str, read_artifact
from platform_tools.errors import ArtifactError


@dataclass(frozen=True, slots=True)
class CatalogColumn:
    name: str
    type: str | None
    index: int


@dataclass(frozen=True, slots=True)
class CatalogTable:
    unique_id: str
    schema: str | None
    name: str | None
    type: str | None
    columns: tuple[CatalogColumn, ...]

    @classmethod
    def from_node(cls, raw: Mapping[str, Any]) -> CatalogTable:
        metadata = as_dict(raw.get("metadata"))
        columns = []
        for position, (name, col) in enumerate(as_dict(raw.get("columns")).items()):
            col = as_dict(col)
            index = col.get("index")
            columns.append(
                CatalogColumn(
                    name=str(col.get("name") or name),
                    type=as_str(col.get("type")),
                    index=int(index) if isinstance(index, int) else position,
                )
            )
        columns.sort(key=lambda c: c.index)
        return cls(
            unique_id=str(raw["unique_id"]),
            schema=as_str(metadata.get("schema")),
            name=as_str(metadata.get("name")),
            type=as_str(metadata.get("type")),
            columns=tuple(columns),
        )


@dataclass(frozen=True)
class Catalog:
    path: Path
    invocation_id: str | None
    nodes: Mapping[str, CatalogTable]
    sources: Mapping[str, CatalogTable]

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path) -> Catalog:
        current = "nodes"
        try:
            nodes = {}
            for current, raw in as_dict(data.get("nodes")).items():
                nodes[current] = CatalogTable.from_node(as_dict(raw) | {"unique_id": current})
            sources = {}
            for current, raw in as_dict(data.get("sources")).items():
                sources[current] = CatalogTable.from_node(as_dict(raw) | {"unique_id": current})
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(
                f"{path}: unexpected structure at {current!r} ({type(exc).__name__}: {exc}); "
                "re-run `dbt docs generate`"
            ) from None
        return cls(
            path=path,
            invocation_id=as_str(as_dict(data.get("metadata")).get("invocation_id")),
            nodes=nodes,
            sources=sources,
        )


def load_catalog(path: Path) -> Catalog:
    """Load and check ``catalog.json`` (v1)."""
    return Catalog.from_dict(read_artifact(path, "catalog"), path)
