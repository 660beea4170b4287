"""Delta table upkeep the embedded engine does not do itself: compaction (and checkpoints).

Sail commits every write as a new JSON entry in a table's ``_delta_log`` with new data files.
Sail 0.7 writes a checkpoint every ten commits, but it never merges small files: a table
appended to every day (bronze, the incremental silver models, the snapshots, the platform's
own catalog tables) gains files with every build, and every later read opens all of them
(after 60 days of the soak each bronze table had 53 one-day files and ``snp_contracts`` 72 for
381 rows). Spark's Delta Lake compacts with ``OPTIMIZE`` or auto compaction; this module does
the same for the embedded engine with the ``deltalake`` library:

* a table is **due** when compacting it would remove ``MERGEABLE_FILES`` files or more: the
  small files (under ``TARGET_FILE_SIZE``) of each partition beyond the first. A table whose
  last checkpoint plus the commits since it hold fewer active files than that is not due
  without reading more (a directory listing and a few small reads per table); otherwise its
  file list is read (the checkpoint and the commits since), so a table partitioned by day,
  one file per partition, is never rewritten for nothing. A table with ``CHECKPOINT_INTERVAL``
  commits since its last checkpoint (the engine did not write one) is due as well;
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from platform_tools.engine.catalog import table_dirs

CHECKPOINT_INTERVAL: Final[int] = 10
"""Commits after which a table is checkpointed (Delta Lake's default ``checkpointInterval``)."""
MERGEABLE_FILES: Final[int] = 10
"""Files a compaction would remove (small files beyond one per partition) that make a table due."""
TARGET_FILE_SIZE: Final[int] = 100 * 1024 * 1024
"""A data file under this size is small: compaction merges it (``deltalake``'s default target)."""
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


def checkpoint_record(log: Path) -> Mapping[str, Any]:
    """The table's ``_last_checkpoint`` (``version``, ``numOfAddFiles``…); empty if none."""
    try:
        record = json.loads((log / LAST_CHECKPOINT).read_bytes())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def _whole(record: Mapping[str, Any], key: str) -> int | None:
    try:
        return int(record[key])
    except (KeyError, TypeError, ValueError):
        return None


def last_checkpoint(log: Path) -> int | None:
    """The version of the table's newest checkpoint (``_last_checkpoint``), if any."""
    return _whole(checkpoint_record(log), "version")


def _commits_after(log: Path, version: int | None) -> list[Path]:
    """The commit files of ``log`` newer than ``version`` (all when ``None``), oldest first."""
    try:
        names = os.listdir(log)
    except OSError:
        return []
    floor = -1 if version is None else version
    versions = sorted(
        int(name[:-5]) for name in names if name.endswith(".json") and name[:-5].isdigit()
    )
    return [log / f"{v:020d}.json" for v in versions if v > floor]


def commits_since_checkpoint(table: Path) -> list[Path]:
    """The commit files newer than the table's last checkpoint, oldest first."""
    log = table / LOG_DIR
    return _commits_after(log, last_checkpoint(log))


def active_files_upper_bound(
    checkpoint: Mapping[str, Any], commits: list[Path]
) -> int | None:
    """Active data files at the last checkpoint (its record) plus those added by ``commits``,
    the commits since it (``None``: unknown).

    An upper bound: files removed since the checkpoint are not subtracted (a replaced table
    would otherwise need its commits parsed).
    """
    files = _whole(checkpoint, "numOfAddFiles")
    if files is None:
        if commits and commits[0].name != f"{0:020d}.json":
            return None  # commits before these are not in view
        files = 0
    for commit in commits:
        try:
            files += commit.read_bytes().count(b'{"add":')
        except OSError:
            return None
    return files


def mergeable_files(table: Path) -> int:
    """Files a compaction would remove: small files beyond the first in each partition."""
    from deltalake import DeltaTable

    actions = DeltaTable(str(table)).get_add_actions(flatten=True)
    columns = [
        actions.column(c).to_pylist() for c in actions.column_names if c.startswith("partition.")
    ]
    partition_of = list(zip(*columns, strict=True)) if columns else [()] * actions.num_rows
    small: dict[tuple[object, ...], int] = {}
    for partition, size in zip(partition_of, actions.column("size_bytes").to_pylist(), strict=True):
        if size < TARGET_FILE_SIZE:
            small[partition] = small.get(partition, 0) + 1
    return sum(n - 1 for n in small.values())


def is_due(
    table: Path, interval: int = CHECKPOINT_INTERVAL, mergeable: int = MERGEABLE_FILES
) -> bool:
    """Whether compacting the table would remove ``mergeable`` files or more, or it has
    ``interval`` commits since its last checkpoint."""
    log = table / LOG_DIR
    checkpoint = checkpoint_record(log)  # read once: its version and its file count
    commits = _commits_after(log, _whole(checkpoint, "version"))
    if len(commits) >= interval:
        return True
    bound = active_files_upper_bound(checkpoint, commits)
    if bound is not None and bound <= mergeable:
        return False
    try:
        return mergeable_files(table) >= mergeable
    except Exception:  # an unreadable table: let maintain_table name it
        return True


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
