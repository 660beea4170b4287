"""Engine benchmarks (issue: installable dbt-spark project on an embedded Delta Lake engine).

Measures, in one run on this machine:

1. per-model overhead of a 50-model chain of small table models on the local Sail engine,
   through the project's own overrides (macros/system), whole `dbt build` processes;
2. the same chain on classic local PySpark (JVM) with Delta Lake, the project's `spark`
   target setup (the jars `make install` resolved);
3. engine start to first query answered (`platform-tools engine up` path, then `select 1`).

Per-model overhead = (median wall time of the 50-model build - median wall time of a 1-model
build) / 49, so dbt's start-up and parsing are not counted. Prints a Markdown section.

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--skip-classic]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.helpers import engine_env, free_port  # noqa: E402

BIN = Path(sys.executable).parent

PROFILES = """
bench:
  target: local
  outputs:
    local:
      type: spark
      method: session
      host: localhost
      schema: default
      threads: 4
      server_side_parameters:
        spark.sql.session.timeZone: UTC
        spark.remote: "sc://127.0.0.1:{{ env_var('GRIDUNION_ENGINE_PORT') }}/;\
session_id={{ env_var('GRIDUNION_SESSION_ID') }}"
    classic:
      type: spark
      method: session
      host: localhost
      schema: default
      threads: 4
      server_side_parameters:
        spark.gridunion.withDelta: "true"
        spark.sql.warehouse.dir: "{{ env_var('BENCH_WAREHOUSE') }}"
        spark.ui.enabled: "false"
        spark.sql.shuffle.partitions: "2"
        spark.databricks.delta.snapshotPartitions: "2"
"""


def make_project(root: Path, models: int, file_format: str, target: str) -> Path:
    project = root / f"chain_{models}_{file_format}_{target}"
    (project / "models").mkdir(parents=True)
    (project / "macros").mkdir()
    for folder in ("system", "naming"):
        shutil.copytree(REPO / "macros" / folder, project / "macros" / folder)
    (project / "dbt_project.yml").write_text(
        "name: bench\nversion: '1.0.0'\nconfig-version: 2\nprofile: bench\n"
        'on-run-start:\n  - "{{ gridunion_ensure_registry() }}"\n'
        "vars:\n  sail_targets: [local]\n"
        f"models:\n  bench:\n    +materialized: table\n    +file_format: {file_format}\n"
    )
    (project / "profiles.yml").write_text(PROFILES)
    (project / "models" / "m001.sql").write_text(
        "select id, id * 2 as doubled from range(0, 100) as r (id)\n"
    )
    for i in range(2, models + 1):
        (project / "models" / f"m{i:03d}.sql").write_text(
            f"select id, doubled + {i} as doubled from {{{{ ref('m{i - 1:03d}') }}}}\n"
        )
    return project


def run_build(project: Path, env: dict[str, str], target: str) -> float:
    run_env = dict(env, BENCH_WAREHOUSE=str(project / "spark-warehouse"))
    started = time.perf_counter()
    result = subprocess.run(
        [str(BIN / "dbt"), "build", "--target", target, "--profiles-dir", str(project)],
        cwd=project,
        env=run_env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"dbt build failed in {project}:\n{result.stdout[-3000:]}")
    return elapsed


def bench_chain(
    root: Path, target: str, file_format: str, runs: int, env: dict[str, str]
) -> dict[str, float]:
    one = make_project(root, 1, file_format, target)
    fifty = make_project(root, 50, file_format, target)
    run_build(one, env, target)  # warm-up: engine/JVM start, first parse
    run_build(fifty, env, target)
    t1 = [run_build(one, env, target) for _ in range(runs)]
    t50 = [run_build(fifty, env, target) for _ in range(runs)]
    m1, m50 = statistics.median(t1), statistics.median(t50)
    return {"one": m1, "fifty": m50, "per_model": (m50 - m1) / 49, "runs50": t50}


def bench_startup(root: Path, runs: int) -> list[float]:
    from platform_tools.engine import catalog, server
    from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig

    times = []
    for i in range(runs):
        cfg = EngineConfig(
            lakehouse=root / f"startup{i}", port=free_port(), session_id=DEFAULT_SESSION_ID
        )
        started = time.perf_counter()
        server.up(cfg)
        catalog.connect(cfg).sql("select 1 as one").collect()
        times.append(time.perf_counter() - started)
        server.down(cfg)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-classic", action="store_true")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    port = free_port()
    env = engine_env(root / "lakehouse", port)
    env["GRIDUNION_SESSION_ID"] = "6a1d5c3e-0b7f-4c1e-9d2a-5f0e7b9c4a11"
    from platform_tools.engine import server
    from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig

    cfg = EngineConfig(lakehouse=root / "lakehouse", port=port, session_id=DEFAULT_SESSION_ID)
    try:
        startup = bench_startup(root, args.runs)
        sail = bench_chain(root, "local", "delta", args.runs, env)
    finally:
        server.down(cfg)
    classic = None if args.skip_classic else bench_chain(root, "classic", "delta", args.runs, env)
    shutil.rmtree(root, ignore_errors=True)

    print(
        f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; command: `.venv/bin/python benchmarks/bench_engine.py "
        f"--runs {args.runs}`; medians of {args.runs} runs.\n"
    )
    print("| measure | local Sail (Delta) | classic PySpark (Delta) | ratio |")
    print("|---|---|---|---|")
    c = classic or {}

    def cell(d: dict[str, float], key: str) -> str:
        return f"{d[key]:.2f} s" if key in d else "—"

    for key, label in [
        ("fifty", "`dbt build`, 50-model chain (whole process)"),
        ("one", "`dbt build`, 1 model (start-up baseline)"),
        ("per_model", "per-model overhead"),
    ]:
        ratio = f"{c[key] / sail[key]:.1f}x" if key in c and sail[key] > 0 else "—"
        fmt = "{:.3f} s" if key == "per_model" else "{:.2f} s"
        classic_cell = fmt.format(c[key]) if key in c else "—"
        print(f"| {label} | {fmt.format(sail[key])} | {classic_cell} | {ratio} |")
    print(
        f"\nEngine start to first query answered: median {statistics.median(startup):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in startup)})."
    )
    print(f"Sail 50-model runs: {', '.join(f'{t:.2f}' for t in sail['runs50'])} s.")
    if classic:
        print(f"Classic 50-model runs: {', '.join(f'{t:.2f}' for t in classic['runs50'])} s.")


if __name__ == "__main__":
    main()
