"""The ``--target-dir`` convention shared by every command (resolving it; the option itself is
:func:`platform_tools.cliutil.add_target_dir_argument`), and loading a target at once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from platform_tools.artifacts.catalog import Catalog, load_catalog
from platform_tools.artifacts.manifest import Manifest, load_manifest
from platform_tools.artifacts.run_results import RunResults, load_run_results
from platform_tools.artifacts.sources import SourcesResults, load_sources
from platform_tools.errors import ArtifactError

DEFAULT_TARGET_DIR = "target"
TARGET_DIR_ENV = "DBT_TARGET_PATH"

MANIFEST = "manifest.json"
RUN_RESULTS = "run_results.json"
SOURCES = "sources.json"
CATALOG = "catalog.json"


class Need(Enum):
    """How much a command needs one artifact."""

    REQUIRED = "required"
    OPTIONAL = "optional"  # loaded (and checked) when the file exists
    SKIP = "skip"


def resolve_target_dir(value: Path | None) -> Path:
    """The target directory a command reads: the flag, else ``$DBT_TARGET_PATH``, else
    ``./target``."""
    if value is not None:
        return value
    return Path(os.environ.get(TARGET_DIR_ENV) or DEFAULT_TARGET_DIR)


def check_target_dir(target_dir: Path) -> None:
    """Raise :class:`ArtifactError` unless ``target_dir`` is a directory (one line saying
    what it is instead: missing, or a file such as ``manifest.json`` itself)."""
    if target_dir.is_dir():
        return
    if target_dir.exists():
        raise ArtifactError(
            f"{target_dir}: --target-dir is a file, not a directory; pass the directory "
            f"holding {MANIFEST} (here {target_dir.parent})"
        )
    raise ArtifactError(
        f"{target_dir}: target directory not found; run dbt first or pass --target-dir"
    )


@dataclass(frozen=True)
class TargetArtifacts:
    """The artifacts of one dbt target directory, each parsed once."""

    target_dir: Path
    manifest: Manifest
    run_results: RunResults | None
    sources: SourcesResults | None
    catalog: Catalog | None


def load_target(
    target_dir: Path,
    *,
    run_results: Need = Need.OPTIONAL,
    sources: Need = Need.OPTIONAL,
    catalog: Need = Need.OPTIONAL,
) -> TargetArtifacts:
    """Load ``manifest.json`` and the other artifacts of ``target_dir`` as asked.

    ``run_results.json`` must come from the same dbt invocation as the manifest;
    ``sources.json`` and ``catalog.json`` are written by other commands and are not checked
    against it.
    """
    check_target_dir(target_dir)
    manifest = load_manifest(target_dir / MANIFEST)

    def wanted(name: str, need: Need) -> Path | None:
        path = target_dir / name
        if need is Need.SKIP or (need is Need.OPTIONAL and not path.exists()):
            return None
        return path

    rr_path = wanted(RUN_RESULTS, run_results)
    src_path = wanted(SOURCES, sources)
    cat_path = wanted(CATALOG, catalog)
    return TargetArtifacts(
        target_dir=target_dir,
        manifest=manifest,
        run_results=load_run_results(rr_path, manifest) if rr_path else None,
        sources=load_sources(src_path) if src_path else None,
        catalog=load_catalog(cat_path) if cat_path else None,
    )
