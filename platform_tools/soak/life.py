"""``platform-tools soak``: land a world day by day, build each day through the hub (a warm
dbt session holding the writer lock, as production runs), and after every day reconcile gold
with the truth and show that building the same day again changes nothing.

Results go to ``<lakehouse>/_soak/days.jsonl`` (one JSON object per day) and to stdout.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from platform_tools.engine import server
from platform_tools.engine.config import EngineConfig
from platform_tools.engine.ports import free_port
from platform_tools.soak.reconcile import open_table, public_tables, reconcile

SOAK_DIR = "_soak"
DAYS_LOG = "days.jsonl"


@dataclass
class DayResult:
    day: str
    build_s: float
    build_ok: bool
    reconciled: bool
    differences: str
    rerun_unchanged: bool | None  # None: not re-run that day
    error: str | None = None
    # the landing files of the day with a breaking schema change (truth `schema_breaks`):
    # the build must stop at the bronze schema guard naming each of them
    expected_block: list[str] | None = None

    @property
    def ok(self) -> bool:
        if self.expected_block:
            return not self.build_ok and self.reconciled
        return self.build_ok and self.reconciled and self.rerun_unchanged is not False

    def line(self, index: int, total: int) -> str:
        rerun = {None: "", True: "; re-run: unchanged", False: "; re-run: CHANGED"}[
            self.rerun_unchanged
        ]
        outcome = "PASS" if self.ok else "FAIL"
        detail = self.differences if not self.reconciled or self.expected_block else "reconciled"
        build = "ok" if self.build_ok else f"FAILED ({self.error})"
        return (
            f"soak: day {index}/{total} {self.day}: {outcome} — build {build} in "
            f"{self.build_s:.1f} s; {detail}{rerun}"
        )


def table_digests(lakehouse: Path, manifest_path: Path) -> dict[str, str]:
    """A digest of every public table's rows (order-free), the recorded-at columns left out."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    recorded = {
        (node["schema"], node["alias"]): {
            name for name, column in node["columns"].items() if column["meta"].get("recorded_at")
        }
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    digests = {}
    for schema, table in public_tables(manifest):
        delta = open_table(lakehouse / "warehouse", schema, table)
        if delta is None:
            continue
        data = delta.to_pyarrow_table()
        keep = sorted(c for c in data.column_names if c not in recorded[(schema, table)])
        rows = sorted(
            repr(row) for row in zip(*(data.column(c).to_pylist() for c in keep), strict=True)
        )
        digests[f"{schema}.{table}"] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def schema_breaks(landing: Path, day: date) -> list[str]:
    """The files of ``day`` the truth says carry a breaking schema change not fixed yet."""
    from platform_tools.landing.truth import TRUTH_DIR, truth_file_name

    path = landing / TRUTH_DIR / truth_file_name(day)
    if not path.is_file():
        return []
    return list(json.loads(path.read_text(encoding="utf-8")).get("schema_breaks", []))


def blocked_as_expected(build_ok: bool, error: str | None, breaks: list[str]) -> tuple[bool, str]:
    """A day with a breaking schema change must fail at the bronze schema guard, naming
    every broken file: (as expected, what was seen)."""
    files = ", ".join(breaks)
    if build_ok:
        return False, f"the build passed although {files} breaks the landing schema"
    text = error or ""
    if "landing schema break" in text and all(path in text for path in breaks):
        return True, f"blocked as expected by the landing schema break of {files}"
    return False, f"the build failed, but not at the schema guard for {files}: {text}"


def run_soak(
    *,
    lakehouse: Path,
    project_dir: Path,
    params: Any,  # platform_tools.landing.generator.GenerateParams (numpy: imported late)
    rerun_every: int,
    emit: Callable[[str], None],
) -> list[DayResult]:
    from platform_tools.hub.dbt_session import DbtSettings
    from platform_tools.hub.defaults import DEFAULT_SELECT
    from platform_tools.hub.service import Hub, HubSettings
    from platform_tools.landing.defaults import STAGING_DIR_NAME

    landing = lakehouse / "landing"
    os.environ["GRIDUNION_LAKEHOUSE"] = str(lakehouse)
    if "GRIDUNION_ENGINE_PORT" not in os.environ:  # never collide with the user's engine
        os.environ["GRIDUNION_ENGINE_PORT"] = str(free_port())
    target_path = lakehouse / SOAK_DIR / "target"
    settings = HubSettings(
        lakehouse=lakehouse,
        landing=landing,
        staging=lakehouse / STAGING_DIR_NAME,
        select=DEFAULT_SELECT,
        dbt=DbtSettings(
            project_dir=project_dir,
            profiles_dir=Path(os.environ.get("DBT_PROFILES_DIR") or project_dir).resolve(),
            target_path=target_path,
            log_path=lakehouse / SOAK_DIR / "logs",
            target=None,
            threads=None,
            quiet=True,
        ),
        interval_s=1.0,
        settle_s=0.0,
        once=True,
    )
    hub = Hub(settings, emit=lambda line: None)
    try:
        return _days(hub, lakehouse, landing, params, rerun_every, emit)
    finally:
        server.down(EngineConfig.from_env(project_dir))  # the engine this soak started


def _days(
    hub: Any,
    lakehouse: Path,
    landing: Path,
    params: Any,
    rerun_every: int,
    emit: Callable[[str], None],
) -> list[DayResult]:
    from platform_tools.hub.service import hub_lock
    from platform_tools.landing.generator import generate

    log = lakehouse / SOAK_DIR / DAYS_LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    manifest = hub.settings.dbt.target_path / "manifest.json"
    results: list[DayResult] = []
    with hub_lock(lakehouse) as folder:
        for index, day in enumerate(params.dates, start=1):
            generate(replace(params, start=day, days=1), landing)
            # the first day builds everything once (as `make build` does): the reference
            # data (seeds and the models on them) is not fed by the landing zone
            select = hub.settings.select
            if index == 1:
                hub.settings = replace(hub.settings, select="*")
            try:
                record = hub.run_batch("landed", folder)
            finally:
                hub.settings = replace(hub.settings, select=select)
            build_ok = record is not None and record.success
            error = None if build_ok else (record.error if record else "nothing staged")
            breaks = schema_breaks(landing, day)
            if breaks:
                blocked, detail = blocked_as_expected(build_ok, error, breaks)
            else:
                found = reconcile(lakehouse, landing, manifest)
                blocked, detail = found.ok, found.summary()
            unchanged: bool | None = None
            if build_ok and not breaks and rerun_every and index % rerun_every == 0:
                before = table_digests(lakehouse, manifest)
                again = hub.run_batch("catch-up", folder)  # the same day once more
                unchanged = (
                    bool(again and again.success) and table_digests(lakehouse, manifest) == before
                )
            result = DayResult(
                day=day.isoformat(),
                build_s=round(record.build_s if record else 0.0, 2),
                build_ok=build_ok,
                reconciled=blocked,
                differences=detail,
                rerun_unchanged=unchanged,
                error=error,
                expected_block=breaks or None,
            )
            results.append(result)
            with log.open("a", encoding="utf-8") as out:
                out.write(json.dumps(asdict(result), sort_keys=True) + "\n")
            emit(result.line(index, len(params.dates)))
    return results
