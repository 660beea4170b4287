"""Delta table upkeep (platform_tools/engine/maintenance.py) on real Delta tables, and the
engine's memory limit (GRIDUNION_ENGINE_RECYCLE_MB)."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from platform_tools import wap
from platform_tools.engine import maintenance, server
from platform_tools.engine.config import (
    DEFAULT_RECYCLE_MB,
    DEFAULT_SESSION_ID,
    EngineConfig,
    recycle_limit_from_env,
)
from platform_tools.engine.maintenance import upkeep
from platform_tools.errors import UsageError


def _append(path: Path, times: int, partitions: int = 1) -> None:
    for i in range(times):
        rows = pa.table({"part": [p for p in range(partitions)], "v": [i] * partitions})
        write_deltalake(str(path), rows, mode="append", partition_by=["part"])


def _rows(path: Path, version: int | None = None) -> list[tuple[int, int]]:
    table = DeltaTable(str(path), version=version).to_pyarrow_table()
    return sorted(zip(table["part"].to_pylist(), table["v"].to_pylist(), strict=True))


def test_a_table_with_ten_commits_is_compacted_and_checkpointed(tmp_path: Path) -> None:
    table = tmp_path / "silver" / "slv_daily"
    _append(table, 10)
    before = _rows(table)
    assert maintenance.is_due(table)

    done = upkeep(tmp_path)

    assert [(r.table, r.files_before, r.files_after, r.error) for r in done] == [
        ("silver/slv_daily", 10, 1, None)
    ]
    assert done[0].checkpoint_version == 10  # the compaction is version 10
    assert maintenance.last_checkpoint(table / "_delta_log") == 10
    assert _rows(table) == before
    assert _rows(table, version=9) == before  # older versions still read their own files
    assert not maintenance.is_due(table)
    assert upkeep(tmp_path) == []  # nothing due twice


def test_many_small_files_in_a_partition_make_a_table_due_before_ten_commits(
    tmp_path: Path,
) -> None:
    table = tmp_path / "bronze" / "brz_wide"
    _append(table, 2, partitions=maintenance.MERGEABLE_FILES)  # two files in each partition
    assert maintenance.mergeable_files(table) == maintenance.MERGEABLE_FILES
    assert maintenance.is_due(table)
    few = tmp_path / "bronze" / "brz_narrow"
    _append(few, 2, partitions=2)
    assert not maintenance.is_due(few)

    done = {r.table: r for r in upkeep(tmp_path)}

    assert set(done) == {"bronze/brz_wide"}
    assert done["bronze/brz_wide"].files_after == maintenance.MERGEABLE_FILES  # one per partition
    forced = {r.table for r in upkeep(tmp_path, force=True)}
    assert forced == {"bronze/brz_wide", "bronze/brz_narrow"}


def test_a_table_checkpointed_by_the_engine_is_still_compacted(tmp_path: Path) -> None:
    # Sail writes a checkpoint every ten commits itself but never merges files: a table
    # appended to once a build must become due by its files, not by its commit count
    table = tmp_path / "bronze" / "brz_daily"
    for day in range(maintenance.MERGEABLE_FILES + 2):
        _append(table, 1)
        if day % maintenance.CHECKPOINT_INTERVAL == maintenance.CHECKPOINT_INTERVAL - 1:
            DeltaTable(str(table)).create_checkpoint()
    assert len(maintenance.commits_since_checkpoint(table)) < maintenance.CHECKPOINT_INTERVAL
    before = _rows(table)
    assert maintenance.is_due(table)

    (done,) = upkeep(tmp_path)

    assert (done.files_before, done.files_after) == (maintenance.MERGEABLE_FILES + 2, 1)
    assert _rows(table) == before
    assert not maintenance.is_due(table)


def test_one_file_per_partition_is_never_rewritten(tmp_path: Path) -> None:
    table = tmp_path / "gold" / "fct_by_day"
    _append(table, 1, partitions=4 * maintenance.MERGEABLE_FILES)  # 40 partitions, 1 file each
    assert maintenance.mergeable_files(table) == 0
    assert not maintenance.is_due(table)
    assert upkeep(tmp_path) == []
    assert wap.delta_version(table) == 0


def test_a_broken_table_is_reported_and_the_others_are_maintained(tmp_path: Path) -> None:
    broken = tmp_path / "gold" / "a_broken"
    (broken / "_delta_log").mkdir(parents=True)
    for version in range(maintenance.CHECKPOINT_INTERVAL):
        (broken / "_delta_log" / f"{version:020d}.json").write_text("not json\n")
    healthy = tmp_path / "gold" / "b_healthy"
    _append(healthy, maintenance.CHECKPOINT_INTERVAL)

    done = {r.table: r for r in upkeep(tmp_path)}

    assert done["gold/a_broken"].error
    assert "not maintained" in done["gold/a_broken"].line()
    assert done["gold/b_healthy"].error is None
    assert maintenance.last_checkpoint(healthy / "_delta_log") == maintenance.CHECKPOINT_INTERVAL


def test_the_data_version_skips_compactions(tmp_path: Path) -> None:
    table = tmp_path / "gold" / "fct_a__candidate"
    _append(table, 3)
    assert wap.data_version(table) == wap.delta_version(table) == 2
    upkeep(tmp_path, force=True)
    assert wap.delta_version(table) == 3
    assert wap.data_version(table) == 2  # the compaction changed no row
    _append(table, 1)
    assert wap.data_version(table) == wap.delta_version(table) == 4
    assert wap.data_version(tmp_path / "missing") is None


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "2GB"])
def test_a_bad_recycle_limit_names_the_variable(raw: str) -> None:
    with pytest.raises(UsageError, match="GRIDUNION_ENGINE_RECYCLE_MB"):
        recycle_limit_from_env({"GRIDUNION_ENGINE_RECYCLE_MB": raw})
    assert recycle_limit_from_env({}) == DEFAULT_RECYCLE_MB
    assert recycle_limit_from_env({"GRIDUNION_ENGINE_RECYCLE_MB": " 512 "}) == 512
    assert recycle_limit_from_env({"GRIDUNION_ENGINE_RECYCLE_MB": "0"}) is None  # never


def test_an_engine_that_is_not_running_is_never_recycled(tmp_path: Path) -> None:
    cfg = EngineConfig(lakehouse=tmp_path, port=1, session_id=DEFAULT_SESSION_ID)
    assert server.recycle_if_over(cfg, 0) is None
    here = server.resident_mb(os.getpid())
    assert here is not None and here > 1
    assert server.resident_mb(2**22 + 12345) is None  # no such process
