"""Delta table upkeep the embedded engine does not do itself: compaction and checkpoints.

Sail commits every write as a new JSON entry in a table's ``_delta_log`` with the new data
files, and never writes a checkpoint or merges small files. A table appended to every day
(bronze, the incremental silver models, the platform's own catalog tables) therefore makes
every later read replay one more log entry and open more small files: build time grew with
the lakehouse's age (the 60-day soak, ``docs/benchmarks.md``). Spark's Delta Lake writes a
checkpoint every ``delta.checkpointInterval`` (10) commits on its own, and compacts with
``OPTIMIZE`` or auto compaction; this module does the same for the embedded engine with the
``deltalake`` library:

* a table is **due** when ``CHECKPOINT_INTERVAL`` commits were made since its last
  checkpoint, or those commits added ``SMALL_FILES`` files or more (read from the commit
  files since the checkpoint: a directory listing and a few small reads per table);
* a due table is **compacted** (``optimize.compact``: the small files of each partition
  rewritten as one, a commit with ``dataChange: false`` and operation ``OPTIMIZE``, so readers
  of any version get the same rows), then **checkpointed** at its new version.

Nothing is deleted: the files a compaction replaces stay on disk (older versions, and the
public views pinned to them by write-audit-publish, keep reading them); removing them is a
``VACUUM`` with a retention longer than the oldest pinned version (not automated).

:func:`upkeep` is run by the dbt plugin after every writing command on the embedded engine
(under the writer lock) and by ``platform-tools engine maintain``; a table whose upkeep
fails is left as it was (a Delta commit is atomic) and reported, never failing the build.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from platform_tools.engine.catalog import table_dirs

CHECKPOINT_INTERVAL: Final[int] = 10
"""Commits after which a table is checkpointed (Delta Lake's default ``checkpointInterval``)."""
SMALL_FILES: Final[int] = 32
"""Data files added since the last checkpoint after which a table is compacted early."""
LOG_DIR: Final[str] = "_delta_log"
LAST_CHECKPOINT: Final[str] = "_last_checkpoint"


@dataclass(frozen=True, slots=True)
class Upkeep:
    """What happened to one table."""

    table: str  # <schema>/<table>, relative to the warehouse
    files_before: int
    files_after: int
    checkpoint_version: int | None
    error: str | None = None

    def line(self) -> str:
        if self.error:
            return f"{self.table}: not maintained ({self.error}); the table is unchanged"
        return (
            f"{self.table}: {self.files_before} -> {self.files_after} data files, "
            f"checkpoint at version {self.checkpoint_version}"
        )


def last_checkpoint(log: Path) -> int | None:
    """The version of the table's newest checkpoint (``_last_checkpoint``), if any."""
    try:
        return int(json.loads((log / LAST_CHECKPOINT).read_bytes())["version"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def commits_since_checkpoint(table: Path) -> list[Path]:
    """The commit files newer than the table's last checkpoint, oldest first."""
    log = table / LOG_DIR
    try:
        names = os.listdir(log)
    except OSError:
        return []
    since = last_checkpoint(log)
    floor = -1 if since is None else since
    versions = sorted(
        int(name[:-5]) for name in names if name.endswith(".json") and name[:-5].isdigit()
    )
    return [log / f"{v:020d}.json" for v in versions if v > floor]


def is_due(
    table: Path, interval: int = CHECKPOINT_INTERVAL, small_files: int = SMALL_FILES
) -> bool:
    """Whether the table has ``interval`` commits, or ``small_files`` added data files,
    since its last checkpoint."""
    commits = commits_since_checkpoint(table)
    if len(commits) >= interval:
        return True
    added = 0
    for commit in commits:
        try:
            added += commit.read_bytes().count(b'{"add":')
        except OSError:
            continue
    return added >= small_files


def maintain_table(table: Path, warehouse: Path) -> Upkeep:
    """Compact the table's small files and checkpoint it (one table, always)."""
    from deltalake import DeltaTable

    name = table.relative_to(warehouse).as_posix()
    try:
        delta = DeltaTable(str(table))
        before = len(delta.file_uris())
        if before > 1:
            delta.optimize.compact()
            delta = DeltaTable(str(table))
        delta.create_checkpoint()
        return Upkeep(name, before, len(delta.file_uris()), delta.version())
    except Exception as exc:  # deltalake raises several unrelated types; report, never fail
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return Upkeep(name, 0, 0, None, f"{type(exc).__name__}: {first}"[:300])


def upkeep(
    warehouse: Path,
    *,
    force: bool = False,
    on_table: Callable[[Upkeep], None] | None = None,
) -> list[Upkeep]:
    """Maintain every due table of the warehouse (every table with ``force``)."""
    done: list[Upkeep] = []
    for table in table_dirs(warehouse):
        if force or is_due(table):
            result = maintain_table(table, warehouse)
            done.append(result)
            if on_table is not None:
                on_table(result)
    return done
