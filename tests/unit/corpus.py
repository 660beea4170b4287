"""A corpus of real-shaped dbt artifacts, built by the tests themselves.

The GridUnion scenario project (:func:`tests.support.scenarios.gridunion`) grown into
what other public dbt projects look like: models of installed packages, exposures owned
through ``config.group`` or only by a person (``owner.name``), files written on Windows
(``models\\billing\\x.sql``), and the artifacts of every supported dbt — manifest v10 (dbt
1.6), v11 (1.7), v12 (1.8-1.12) with run_results v4, v5, v6 — as each version writes them
(keys a version does not know are dropped). Run results come from pipeline runs (``build``)
and from the commands that run nothing (``docs generate``, ``compile``, ``ls``, ``parse``,
``show``, ``debug``), with ``args.which`` as dbt writes it.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.builder import (
    ManifestBuilder,
    ResultSpec,
    run_results_dict,
    write_json,
)
from tests.support.scenarios import gridunion

SCHEMA = "https://schemas.getdbt.com/dbt/{kind}/{version}.json"


@dataclass(frozen=True)
class Dbt:
    """A dbt release and the artifact schema versions it writes."""

    version: str
    manifest: str
    run_results: str

    @property
    def minor(self) -> tuple[int, int]:
        major, minor = self.version.split(".")[:2]
        return int(major), int(minor)

    def __str__(self) -> str:
        return f"dbt-{self.version}"


DBTS = (
    Dbt("1.6.18", "v10", "v4"),
    Dbt("1.7.19", "v11", "v5"),
    Dbt("1.8.9", "v12", "v6"),
    Dbt("1.10.15", "v12", "v6"),
    Dbt("1.11.16", "v12", "v6"),
)
LATEST = DBTS[-1]

# ``args.which`` of the dbt commands that write run_results.json without running the pipeline
NON_RUN_COMMANDS = ("generate", "compile", "list", "parse", "show", "debug")

PACKAGE = "elementary"
CONFIG_GROUP_EXPOSURE = "finance_board"
PERSON_EXPOSURE = "ops_sheet"
PERSON = "Jane Doe"


# --------------------------------------------------------------------------------------
# The project
# --------------------------------------------------------------------------------------
def add_package(b: ManifestBuilder, package: str = PACKAGE, models: int = 3) -> list[str]:
    """Models of an installed package (no group, no meta), as ``dbt deps`` brings them."""
    pkg = ManifestBuilder(project=package)
    ids = [pkg.model(f"{package}_model_{i}", access="protected", columns=["id"])
           for i in range(models)]
    for uid in ids:
        node = pkg.nodes[uid]
        node["original_file_path"] = f"models/{node['path']}"
        node["patch_path"] = f"{package}://models/schema.yml"
    b.nodes.update(pkg.nodes)
    return ids


def add_exposures(b: ManifestBuilder) -> None:
    """An exposure owned through its dbt group (``config.group``) and one owned only by a
    person (``owner.name``, an e-mail no group has)."""
    uid = b.exposure(CONFIG_GROUP_EXPOSURE, ["fct_invoices"], label="Finance board")
    exposure = b.exposures[uid]
    exposure["config"]["group"] = "nordgrid"
    exposure["owner"] = {"name": "Finance Office", "email": "finance.office@example.org"}
    uid = b.exposure(PERSON_EXPOSURE, ["fct_meter_readings"], label="Ops sheet")
    b.exposures[uid]["owner"] = {"name": PERSON, "email": "jane.doe@example.org"}


def corpus_project(*, packages: bool = True, exposures: bool = True,
                   windows: bool = False) -> ManifestBuilder:
    """The scenario project with packages, exposures and (optionally) Windows paths."""
    b = gridunion()
    if packages:
        add_package(b)
    if exposures:
        add_exposures(b)
    if windows:
        to_windows_paths(b)
    return b


def to_windows_paths(b: ManifestBuilder) -> None:
    """File paths as dbt writes them on Windows (``models\\billing\\x.sql``)."""
    for collection in (b.nodes, b.sources, b.exposures):
        for node in collection.values():
            for key in ("path", "original_file_path"):
                if isinstance(node.get(key), str):
                    node[key] = node[key].replace("/", "\\")
            patch = node.get("patch_path")
            if isinstance(patch, str) and "://" in patch:
                scheme, rest = patch.split("://", 1)
                node["patch_path"] = f"{scheme}://{rest.replace('/', chr(92))}"


# --------------------------------------------------------------------------------------
# Artifacts as each dbt version writes them
# --------------------------------------------------------------------------------------
_NEW_IN_V12 = ("unit_tests", "functions")
_NODE_KEYS_NEW_IN_V12 = ("doc_blocks", "functions", "time_spine")
_CONFIG_KEYS_NEW_IN_V12 = ("event_time", "concurrent_batches", "freshness")


def manifest_for(data: Mapping[str, Any], dbt: Dbt) -> dict[str, Any]:
    """A v12 manifest dict reshaped as ``dbt`` writes it."""
    out = copy.deepcopy(dict(data))
    out["metadata"]["dbt_schema_version"] = SCHEMA.format(kind="manifest", version=dbt.manifest)
    out["metadata"]["dbt_version"] = dbt.version
    if dbt.manifest == "v12":
        return out
    for key in _NEW_IN_V12:
        out.pop(key, None)
    if dbt.manifest == "v10":
        out.pop("saved_queries", None)
    for node in out["nodes"].values():
        for key in _NODE_KEYS_NEW_IN_V12:
            node.pop(key, None)
        for key in _CONFIG_KEYS_NEW_IN_V12:
            node.get("config", {}).pop(key, None)
    for source in out["sources"].values():
        source.pop("doc_blocks", None)
    out["disabled"] = out.get("disabled") or None  # dbt < 1.8 writes null when empty
    return out


def run_results_for(data: Mapping[str, Any], dbt: Dbt) -> dict[str, Any]:
    """A v6 run_results dict reshaped as ``dbt`` writes it."""
    out = copy.deepcopy(dict(data))
    out["metadata"]["dbt_schema_version"] = SCHEMA.format(kind="run-results",
                                                          version=dbt.run_results)
    out["metadata"]["dbt_version"] = dbt.version
    if dbt.minor < (1, 9):
        out["metadata"].pop("invocation_started_at", None)
    for result in out["results"]:
        if dbt.run_results in ("v4", "v5"):
            result.pop("batch_results", None)
        if dbt.run_results == "v4":
            for key in ("compiled", "compiled_code", "relation_name"):
                result.pop(key, None)
    which = out["args"]["which"]
    out["args"] = {
        "which": which,
        "rpc_method": which,
        "invocation_command": "dbt " + {"generate": "docs generate", "list": "ls"}.get(which,
                                                                                      which),
        "select": [],
        "exclude": [],
        "profiles_dir": "/home/ci/.dbt",
        "log_level": "info",
        **({} if dbt.minor < (1, 5) else {"vars": {}, "quiet": False}),
    }
    return out


def executed(b: ManifestBuilder) -> list[str]:
    """The nodes a ``dbt build`` executes: models, seeds, snapshots, tests, unit tests."""
    kinds = ("model", "seed", "snapshot", "test", "unit_test")
    ids = [uid for uid, n in b.nodes.items() if n["resource_type"] in kinds]
    return ids + list(b.unit_tests)


def build_results(b: ManifestBuilder, dbt: Dbt = LATEST, *, invocation_id: str | None = None,
                  seconds: float = 2.0, failing: Iterable[str] = (),
                  started_at: str = "2026-01-05T06:00:00.000000Z") -> dict[str, Any]:
    """run_results of a ``dbt build`` of every node (tests pass, ``failing`` error)."""
    bad = set(failing)
    specs = {}
    for uid in executed(b):
        is_test = uid.startswith(("test.", "unit_test."))
        status = ("fail" if is_test else "error") if uid in bad else (
            "pass" if is_test else "success")
        specs[uid] = ResultSpec(status, seconds, None if is_test else 10)
    return run_results_for(run_results_dict(invocation_id or b.invocation_id, specs,
                                            started_at=started_at, command="build"), dbt)


def non_run_results(b: ManifestBuilder, which: str, dbt: Dbt = LATEST, *,
                    invocation_id: str | None = None, seconds: float = 0.5) -> dict[str, Any]:
    """run_results of a command that runs nothing: every node compiled, status ``success``
    (tests too), as ``dbt docs generate`` / ``compile`` write them."""
    specs = {uid: ResultSpec("success", seconds) for uid in executed(b)}
    data = run_results_dict(invocation_id or b.invocation_id, specs, command=which)
    for result in data["results"]:
        result["failures"] = None
    return run_results_for(data, dbt)


def write_target(target: Path, manifest: Mapping[str, Any],
                 run_results: Mapping[str, Any] | None = None) -> Path:
    """``manifest.json`` (and ``run_results.json``) in a fresh target directory."""
    write_json(target / "manifest.json", manifest)
    if run_results is not None:
        write_json(target / "run_results.json", run_results)
    return target


def reparsed(b: ManifestBuilder) -> ManifestBuilder:
    """The same project after another dbt command (``ls``, ``parse``, ``docs generate``):
    a new invocation id in the manifest."""
    again = copy.deepcopy(b)
    again.invocation_id = str(uuid.uuid4())
    return again
