"""dbt artifacts (manifest v10-v12, run_results v4-v6, sources v3, catalog v1) parsed once
into small frozen objects (the manifest decoded with msgspec, the others with orjson), plus
the ownership and lineage lookups the commands share."""

from platform_tools.artifacts.catalog import Catalog, CatalogTable, load_catalog
from platform_tools.artifacts.manifest import (
    Column,
    Exposure,
    Group,
    Manifest,
    Node,
    Source,
    load_manifest,
)
from platform_tools.artifacts.ownership import UNASSIGNED, ExposureRef, Impact, Ownership
from platform_tools.artifacts.run_results import NodeResult, RunResults, load_run_results
from platform_tools.artifacts.sources import SourceFreshness, SourcesResults, load_sources
from platform_tools.artifacts.target import (
    Need,
    TargetArtifacts,
    load_target,
    resolve_target_dir,
)

__all__ = [
    "UNASSIGNED",
    "Catalog",
    "CatalogTable",
    "Column",
    "Exposure",
    "ExposureRef",
    "Group",
    "Impact",
    "Manifest",
    "Need",
    "Node",
    "NodeResult",
    "Ownership",
    "RunResults",
    "Source",
    "SourceFreshness",
    "SourcesResults",
    "TargetArtifacts",
    "load_catalog",
    "load_manifest",
    "load_run_results",
    "load_sources",
    "load_target",
    "resolve_target_dir",
]
