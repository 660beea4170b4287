"""Engine benchmarks (issue: installable dbt-spark project on an embedded Delta Lake engine).

Measures, in one run on this machine:

1. per-model overhead of a 50-model chain of small table models on the local Sail engine,
   through the project's own overrides (macros/system), whole `dbt build` processes;
2. the same chain on classic local PySpark (JVM) with Delta Lake, the project's `spark`
   target setup (the jars `make install` resolved);
3. the same chain on the local Spark cluster (`platform-tools engine up --engine
   spark-cluster`: master, two workers, Thrift Server; dbt-spark's `thrift` method);
4. with ``--demo``: the whole demo (`landing generate`, `landing stage`, the project's own
   `dbt build`) on each engine, into a fresh lakehouse each;
5. engine start to first query answered (`platform-tools engine up` path, then `select 1`).

Peak memory is that of every process of the engine, summed (resident set size sampled from
``/proc`` every 0.5 s): Sail's server; the `dbt` process with the JVM it starts for classic
Spark; the cluster's master, workers, executors and Thrift Server.

Per-model overhead = (median wall time of the 50-model build - median wall time of a 1-model
build) / 49, so dbt's start-up and parsing are not counted. Prints a Markdown section.

    .venv/bin/python benchmarks/bench_engine.py [--runs 5] [--skip-classic] [--skip-cluster]
                                                [--demo]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from typing import Any  # noqa: E402

from benchmarks.proc_tree import descendants  # noqa: E402
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
    cluster:
      type: spark
      method: thrift
      host: 127.0.0.1
      port: "{{ env_var('SPARK_CLUSTER_PORT') | int }}"
      schema: default
      threads: 4
"""

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def tree_rss_mb(roots: list[int]) -> float:
    """Resident memory of ``roots`` and all their descendants, in MB."""
    kb = 0
    for pid in descendants(roots):
        try:
            kb += int((Path(f"/proc/{pid}") / "statm").read_text().split()[1]) * PAGE_KB
        except (OSError, IndexError, ValueError):
            continue
    return kb / 1024


@contextmanager
def peak_memory(roots: Callable[[], list[int]]) -> Iterator[dict[str, float]]:
    """Sample the summed RSS of the process trees ``roots()`` names every 0.5 s."""
    result = {"peak_mb": 0.0}
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            result["peak_mb"] = max(result["peak_mb"], tree_rss_mb(roots()))
            stop.wait(0.5)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        stop.set()
        thread.join()
        result["peak_mb"] = max(result["peak_mb"], tree_rss_mb(roots()))


class Engine:
    """Where an engine's processes are: dbt's own for classic Spark, else the servers'."""

    def __init__(self, target: str, server_pids: Callable[[], list[int]]) -> None:
        self.target = target
        self.server_pids = server_pids
        self.dbt_pid: int | None = None

    def roots(self) -> list[int]:
        return [*self.server_pids(), *([self.dbt_pid] if self.dbt_pid else [])]


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


def run_dbt(
    command: list[str], cwd: Path, env: dict[str, str], engine: Engine | None = None
) -> float:
    """Run a whole dbt process; its pid is part of ``engine`` while it runs."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    if engine is not None and engine.target == "classic":
        engine.dbt_pid = process.pid  # classic Spark's JVM is a child of dbt
    output, _ = process.communicate()
    elapsed = time.perf_counter() - started
    if engine is not None:
        engine.dbt_pid = None
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command[:2])} failed in {cwd}:\n{output[-3000:]}")
    return elapsed


def run_build(
    project: Path, env: dict[str, str], target: str, engine: Engine | None = None
) -> float:
    run_env = dict(env, BENCH_WAREHOUSE=str(project / "spark-warehouse"))
    command = [str(BIN / "dbt"), "build", "--target", target, "--profiles-dir", str(project)]
    return run_dbt(command, project, run_env, engine)


def bench_chain(
    root: Path, engine: Engine, file_format: str, runs: int, env: dict[str, str]
) -> dict[str, Any]:
    target = engine.target
    one = make_project(root, 1, file_format, target)
    fifty = make_project(root, 50, file_format, target)
    run_build(one, env, target, engine)  # warm-up: engine/JVM start, first parse
    with peak_memory(engine.roots) as memory:
        run_build(fifty, env, target, engine)
        t1 = [run_build(one, env, target, engine) for _ in range(runs)]
        t50 = [run_build(fifty, env, target, engine) for _ in range(runs)]
    m1, m50 = statistics.median(t1), statistics.median(t50)
    return {"one": m1, "fifty": m50, "per_model": (m50 - m1) / 49, "runs50": t50,
            "peak_mb": memory["peak_mb"]}  # fmt: skip


def bench_demo(root: Path, engine: Engine, env: dict[str, str]) -> dict[str, Any]:
    """The whole default demo into a fresh lakehouse: generate, stage, `dbt build`."""
    lakehouse = root / f"demo-{engine.target}"
    demo_env = dict(env, GRIDUNION_LAKEHOUSE=str(lakehouse))
    tool = [str(BIN / "platform-tools")]
    run_dbt([*tool, "landing", "generate"], REPO, demo_env)
    run_dbt([*tool, "landing", "stage"], REPO, demo_env)
    target = {"classic": "spark"}.get(engine.target, engine.target)
    paths = ["--target-path", str(lakehouse / "_target"), "--log-path", str(lakehouse / "_logs")]
    command = [str(BIN / "dbt"), "build", "--target", target, *paths]
    with peak_memory(engine.roots) as memory:
        seconds = run_dbt(command, REPO, demo_env, engine)
    results = json.loads((lakehouse / "_target" / "run_results.json").read_text())
    return {"seconds": seconds, "nodes": len(results["results"]), "peak_mb": memory["peak_mb"]}


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


def _sail_pids(cfg: Any) -> Callable[[], list[int]]:
    """The Sail server's pid (its ``<lakehouse>/_engine`` pid file), once it runs."""

    def pids() -> list[int]:
        try:
            return [int(cfg.pid_file.read_text().strip())]
        except (OSError, ValueError):
            return []

    return pids


def _cluster_pids(env: dict[str, str]) -> list[int]:
    result = subprocess.run([str(BIN / "platform-tools"), "engine", "status", "--engine",
                             "spark-cluster", "--json"], env=env, capture_output=True,
                            text=True, check=False)  # fmt: skip
    try:
        return [int(p["pid"]) for p in json.loads(result.stdout)["processes"] if p["alive"]]
    except (ValueError, KeyError, TypeError):
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-classic", action="store_true")
    parser.add_argument("--skip-cluster", action="store_true")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also build the whole demo on each engine (tens of minutes on JVMs)",
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-engine-"))
    port = free_port()
    env = engine_env(root / "lakehouse", port)
    env["GRIDUNION_SESSION_ID"] = "6a1d5c3e-0b7f-4c1e-9d2a-5f0e7b9c4a11"
    from platform_tools.engine import server
    from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig

    results: dict[str, dict[str, Any]] = {}
    demos: dict[str, dict[str, Any]] = {}
    cfg = EngineConfig(lakehouse=root / "lakehouse", port=port, session_id=DEFAULT_SESSION_ID)
    sail = Engine("local", _sail_pids(cfg))
    try:
        startup = bench_startup(root, args.runs)
        results["local"] = bench_chain(root, sail, "delta", args.runs, env)
    finally:
        server.down(cfg)
    if args.demo:
        demo_port = free_port()
        demo_cfg = EngineConfig(lakehouse=root / "demo-local", port=demo_port,
                                session_id=DEFAULT_SESSION_ID)  # fmt: skip
        try:
            demo_env = dict(env, GRIDUNION_ENGINE_PORT=str(demo_port))
            demos["local"] = bench_demo(root, Engine("local", _sail_pids(demo_cfg)), demo_env)
        finally:
            server.down(demo_cfg)
    if not args.skip_classic:
        classic = Engine("classic", lambda: [])
        results["classic"] = bench_chain(root, classic, "delta", args.runs, env)
        if args.demo:
            demos["classic"] = bench_demo(root, classic, env)
    if not args.skip_cluster:
        cluster_env = dict(env, GRIDUNION_LAKEHOUSE=str(root / "cluster-lakehouse"))
        subprocess.run([str(BIN / "platform-tools"), "engine", "up", "--engine",
                        "spark-cluster"], env=cluster_env, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        try:
            state = json.loads(subprocess.run(
                [str(BIN / "platform-tools"), "engine", "status", "--engine", "spark-cluster",
                 "--json"], env=cluster_env, capture_output=True, text=True, check=False,
            ).stdout)  # fmt: skip
            cluster_env.update(SPARK_CLUSTER_HOST="127.0.0.1",
                               SPARK_CLUSTER_PORT=str(state["thrift_port"]))  # fmt: skip
            cluster = Engine("cluster", lambda: _cluster_pids(cluster_env))
            results["cluster"] = bench_chain(root, cluster, "delta", args.runs, cluster_env)
            if args.demo:
                demo_env = dict(cluster_env, GRIDUNION_TARGET="cluster")
                demos["cluster"] = bench_demo(root / "cluster-lakehouse", cluster, demo_env)
        finally:
            subprocess.run([str(BIN / "platform-tools"), "engine", "down", "--engine",
                            "spark-cluster"], env=cluster_env, check=False,
                           stdout=subprocess.DEVNULL)  # fmt: skip
    shutil.rmtree(root, ignore_errors=True)
    report(args, results, demos, startup)


def report(
    args: argparse.Namespace,
    results: dict[str, dict[str, Any]],
    demos: dict[str, dict[str, Any]],
    startup: list[float],
) -> None:
    names = {"local": "local Sail", "classic": "local Spark", "cluster": "Spark cluster"}
    engines = [e for e in names if e in results]
    print(
        f"Machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; command: `.venv/bin/python benchmarks/bench_engine.py "
        f"--runs {args.runs}{' --demo' if args.demo else ''}`; medians of {args.runs} runs; "
        "ratios against Sail; all on Delta Lake.\n"
    )
    print("| measure | " + " | ".join(names[e] for e in engines) + " |")
    print("|---|" + "---|" * len(engines))
    sail = results["local"]

    def cells(values: Mapping[str, float | None], fmt: str, base: float | None) -> str:
        out = []
        for e in engines:
            value = values.get(e)
            if value is None:
                out.append("—")
            elif e == "local" or not base:
                out.append(fmt.format(value))
            else:
                out.append(f"{fmt.format(value)} ({value / base:.1f}x)")
        return " | ".join(out)

    for key, label, fmt in [
        ("fifty", "`dbt build`, 50-model chain (whole process)", "{:.2f} s"),
        ("one", "`dbt build`, 1 model (start-up baseline)", "{:.2f} s"),
        ("per_model", "per-model overhead", "{:.3f} s"),
        ("peak_mb", "peak memory, all engine processes (chain)", "{:,.0f} MB"),
    ]:
        values = {e: results[e][key] for e in engines}
        print(f"| {label} | {cells(values, fmt, sail[key])} |")
    if demos:
        seconds = {e: demos[e]["seconds"] for e in demos}
        peak = {e: demos[e]["peak_mb"] for e in demos}
        nodes = {e: float(demos[e]["nodes"]) for e in demos}
        base = seconds.get("local")
        print(f"| whole demo `dbt build` | {cells(seconds, '{:.1f} s', base)} |")
        print(f"| whole demo: nodes run | {cells(nodes, '{:.0f}', None)} |")
        memory = cells(peak, "{:,.0f} MB", peak.get("local"))
        print(f"| peak memory, all engine processes (demo) | {memory} |")
    print(
        f"\nEngine start to first query answered: median {statistics.median(startup):.2f} s "
        f"(runs: {', '.join(f'{t:.2f}' for t in startup)})."
    )
    for e in engines:
        runs = ", ".join(f"{t:.2f}" for t in results[e]["runs50"])
        print(f"{names[e]} 50-model runs: {runs} s.")


if __name__ == "__main__":
    main()
