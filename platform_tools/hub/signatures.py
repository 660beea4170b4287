"""Cheap fingerprints of the landing zone and of the dbt project, compared between polls."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

# dbt_project.yml keys naming folders whose files dbt parses, and dbt's defaults for them
PROJECT_PATH_KEYS: dict[str, list[str]] = {
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "test-paths": ["tests"],
    "analysis-paths": ["analyses"],
    "docs-paths": [],
}
# files at the project root (and profiles.yml in the profiles directory) that dbt reads
PROJECT_ROOT_FILES = ("dbt_project.yml", "packages.yml", "dependencies.yml", "selectors.yml")
PACKAGES_KEY = "packages-install-path"
PACKAGES_DEFAULT = "dbt_packages"

Signature = tuple[tuple[str, int, int], ...]


def landing_signature(landing: Path) -> Signature:
    """(landing-relative path, size, mtime in ns) of every file the stage step would read.

    The files are those of :func:`platform_tools.landing.stage.discover`: names starting
    with ``.`` or ``_`` are skipped at every level, so a writer lands a file under such a
    temporary name and renames it when it is complete.
    """
    from platform_tools.landing.stage import discover

    if not landing.is_dir():
        return ()
    entries: list[tuple[str, int, int]] = []
    for file in discover(landing)[0]:
        try:
            stat = file.path.stat()
        except OSError:  # removed between the listing and the stat
            continue
        entries.append((file.relative, stat.st_size, stat.st_mtime_ns))
    return tuple(entries)


def _project_paths(project_dir: Path) -> list[Path]:
    try:
        config: Any = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        config = {}
    if not isinstance(config, dict):
        config = {}
    folders: list[str] = []
    for key, default in PROJECT_PATH_KEYS.items():
        value = config.get(key, default)
        folders.extend(value if isinstance(value, list) else [str(value)])
    folders.append(str(config.get(PACKAGES_KEY, PACKAGES_DEFAULT)))
    return [project_dir / folder for folder in dict.fromkeys(folders)]


def _walk(folder: Path) -> Iterable[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            yield Path(root) / name


def project_fingerprint(project_dir: Path, profiles_dir: Path) -> str:
    """A digest of the size and mtime of every file dbt parses in ``project_dir``.

    Equal digests mean the parsed manifest still describes the project; a changed, added or
    removed model, macro, YAML, seed, snapshot or test file (or profiles.yml) changes it.
    """
    digest = hashlib.sha256()
    candidates = [project_dir / name for name in PROJECT_ROOT_FILES]
    candidates.append(profiles_dir / "profiles.yml")
    for folder in _project_paths(project_dir):
        candidates.extend(sorted(_walk(folder)))
    for path in candidates:
        try:
            stat = path.stat()
        except OSError:
            continue
        digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()
