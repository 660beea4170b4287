"""Shared helpers of the test suite: free ports, dbt and platform-tools subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platform_tools.engine.ports import free_port as free_port  # the tests import it from here

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
FIXTURE_PROJECT = REPO / "tests" / "fixtures" / "mini_project"


def engine_env(lakehouse: Path, port: int, profiles_dir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GRIDUNION_LAKEHOUSE=str(lakehouse),
        GRIDUNION_ENGINE_PORT=str(port),
        DBT_PROFILES_DIR=str(profiles_dir or REPO),
        DBT_SEND_ANONYMOUS_USAGE_STATS="False",
        DBT_USE_COLORS="False",
        PYTHONWARNINGS="ignore",
        GRIDUNION_PII_PEPPER="test-pepper-not-a-secret",
    )
    env.pop("GRIDUNION_TARGET", None)
    # set in this process by pyspark once a Spark Connect session was opened here
    env.pop("SPARK_CONNECT_MODE_ENABLED", None)
    env.pop("SPARK_REMOTE", None)
    return env


def copy_fixture_project(destination: Path) -> Path:
    """The fixture project with the platform's Sail overrides, ready to run."""
    shutil.copytree(FIXTURE_PROJECT, destination)
    for folder in ("system", "naming"):
        shutil.copytree(REPO / "macros" / folder, destination / "macros" / folder)
    shutil.copy(REPO / "profiles.yml", destination / "profiles.yml")
    return destination


def run(
    command: list[str], cwd: Path, env: Mapping[str, str], timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def dbt(
    project: Path, env: Mapping[str, str], *args: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "dbt"), *args], cwd=project, env=env, timeout=timeout)


def platform_tools(
    env: Mapping[str, str], *args: str, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return run([str(BIN / "platform-tools"), *args], cwd=cwd, env=env)


def assert_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, (
        f"exit {result.returncode}\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}"
    )


@dataclass
class ProjectRun:
    """The real project on its own engine and lakehouse, landed from a generated zone.

    ``work/landing_full`` holds the generated landing zone with its truth files; ``land``
    copies chosen ingest days into the lakehouse and stages them, as daily batches arrive.
    dbt writes its artifacts and logs under ``work`` so the repository's `target/` is untouched.
    """

    lakehouse: Path
    work: Path
    env: dict[str, str]
    port: int

    @classmethod
    def beside(cls, work: Path, name: str) -> ProjectRun:
        """A run in ``work/<name>`` on a free port, landing from ``work/landing_full``."""
        (work / name).mkdir(parents=True, exist_ok=True)
        (work / name / "landing_full").symlink_to(work / "landing_full")
        port = free_port()
        lakehouse = work / name / "lakehouse"
        return cls(lakehouse, work / name, engine_env(lakehouse, port), port)

    def dbt(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        return dbt(
            REPO,
            env or self.env,
            *args,
            "--target-path",
            str(self.work / "target"),
            "--log-path",
            str(self.work / "logs"),
        )

    def rows(self, schema: str, table: str) -> list[dict[str, Any]]:
        """The rows readers of ``schema.table`` get: for a public model, the version its
        view is pinned to (write-audit-publish), else the table's current version."""
        return read_delta(*delta_source(self.lakehouse / "warehouse", schema, table))

    def truth(self, day: str) -> dict[str, Any]:
        return json.loads((self.work / "landing_full" / "_truth" / f"{day}.json").read_text())

    def land(self, days: list[str]) -> None:
        """Copy the given ingest days from the full generated landing zone, then stage."""
        source = self.work / "landing_full"
        for day_dir in source.glob("*/*/ingest_date=*"):
            if day_dir.name.split("=")[1] in days:
                target = self.lakehouse / "landing" / day_dir.relative_to(source)
                shutil.copytree(day_dir, target, dirs_exist_ok=True)
        assert_ok(platform_tools(self.env, "landing", "stage"))


def delta_source(
    warehouse: Path, schema: str, table: str, schema_suffix: str = ""
) -> tuple[Path, int | None]:
    """(Delta path, version) that SQL readers of ``schema.table`` get (write-audit-publish:
    ``platform_tools.wap.reader_source``)."""
    from platform_tools.wap import reader_source

    return reader_source(warehouse, schema, table, schema_suffix)


def read_delta(path: Path, version: int | None = None) -> list[dict[str, Any]]:
    from deltalake import DeltaTable

    return DeltaTable(str(path), version=version).to_pyarrow_table().to_pylist()


def public_tables(
    target_dir: Path, warehouse: Path, schema_suffix: str = ""
) -> dict[str, tuple[Path, set[str], int | None]]:
    """The public table models of a build's manifest: ``schema.alias`` -> (Delta path under
    ``warehouse``, the columns marked ``meta.recorded_at``, which record when a row was
    loaded and may differ between equivalent builds, and the published version readers get,
    see :func:`delta_source`). ``schema_suffix`` is ``.db`` for a Spark-managed warehouse."""
    manifest = json.loads((target_dir / "manifest.json").read_text())
    result = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node.get("access") != "public":
            continue
        if node["config"]["materialized"] not in ("table", "incremental"):
            continue
        recorded = {n for n, c in node["columns"].items() if c["meta"].get("recorded_at")}
        path, version = delta_source(warehouse, node["schema"], node["alias"], schema_suffix)
        result[f"{node['schema']}.{node['alias']}"] = (path, recorded, version)
    return result


def table_contents(
    tables: Mapping[str, tuple[Path, set[str], int | None]],
) -> dict[str, Counter[tuple[Any, ...]]]:
    """Each Delta table (at the version readers get) as a multiset of rows, its recorded-at
    columns left out."""
    from deltalake import DeltaTable

    result = {}
    for name, (path, recorded, version) in tables.items():
        data = DeltaTable(str(path), version=version).to_pyarrow_table()
        keep = sorted(c for c in data.column_names if c not in recorded)
        result[name] = Counter(zip(*(data.column(c).to_pylist() for c in keep), strict=True))
    return result


def assert_same_tables(
    expected: Mapping[str, Counter[tuple[Any, ...]]],
    actual: Mapping[str, Counter[tuple[Any, ...]]],
) -> None:
    """Every table identical, else the first differing rows of each table that differs."""
    assert set(actual) == set(expected)
    different = [name for name in expected if actual[name] != expected[name]]
    assert not different, {
        name: (
            sorted(expected[name] - actual[name])[:2],
            sorted(actual[name] - expected[name])[:2],
        )
        for name in different
    }


# -- a clone of the repository under test -------------------------------------------------
GIT_ID = ["-c", "user.email=ci@gridunion.example", "-c", "user.name=slim-ci-test"]


def git(root: Path, *args: str) -> str:
    result = subprocess.run(["git", *GIT_ID, *args], cwd=root, capture_output=True, text=True,
                            check=True)
    return result.stdout.strip()


def clone_work_tree(destination: Path) -> str:
    """`git clone` of the repository plus its uncommitted work tree, committed; the sha."""
    subprocess.run(["git", "clone", "-q", str(REPO), str(destination)], check=True)
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    present = {p for p in listed if p and (REPO / p).is_file()}
    for path in present:
        target = destination / path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, target)
    for path in git(destination, "ls-files", "-z").split("\0"):
        if path and path not in present:
            (destination / path).unlink(missing_ok=True)
    git(destination, "add", "-A")
    if git(destination, "status", "--porcelain"):
        git(destination, "commit", "-qm", "work tree under test")
    return git(destination, "rev-parse", "HEAD")
