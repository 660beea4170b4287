"""Metering benchmark (issue: landing-zone generator, ingestion hub and the metering domain).

Two days at benchmark scale — 3.5 M meters in the meter masters and R readings a day — are
generated. Day 1 (the full master-data export plus readings) is staged and built once as the
set-up. Day 2 is the measured daily batch: its files land, are staged and built bronze → gold
(`dbt build --select domain:metering`, incremental) — repeated --runs times from a copy of the
day-1 lakehouse. Reported per scale: generator wall time and rows/second, the day-1 set-up,
the day-2 stage and build wall times (medians; the build also as dbt's own run phase, i.e.
without the ~5-7 s of starting dbt), engine peak memory (VmHWM of the Sail process), and the
ratio build(3.5 M readings) / build(500 k readings). With several --threads values the day-2
runs alternate between them (dbt threads, GRIDUNION_THREADS), so they compare in one run;
--also-without-tests adds, per thread count, a day-2 build without the data tests
(`--exclude resource_type:test`): what the quality gates cost, and the floor without them.
--compare-wap adds, per thread count, the same day-2 build on a lakehouse built without
write-audit-publish (GRIDUNION_WAP=0 from day 1 on), and reports the publication hooks'
own time (on-run-start query + on-run-end view swaps, from run_results.json).
--hub adds, per thread count, the same day-2 batch through the ingestion hub
(`platform-tools hub`, warm: started on the day-1 state, its catch-up batch done): the day-2
files are renamed into the landing zone at once and the time until the hub has logged the
built batch is its latency (poll and settle windows included); stage and build are the
hub's own figures.

    .venv/bin/python benchmarks/bench_metering.py [--meters 3500000] [--runs 3]
        [--readings 500000 3500000] [--threads 4] [--also-without-tests] [--hub]
        [--compare-wap] [--engines sail cluster]

--engines cluster runs the plain daily build (no hub, WAP on) on the local Spark cluster
(`platform-tools engine up --engine spark-cluster`, the `cluster` target), started from a copy
of its own day-1 lakehouse for every run; its peak memory is the sum of the VmHWM of every
cluster process (master, workers, executors, Thrift Server), an upper bound of their
simultaneous peak.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.proc_tree import descendants  # noqa: E402
from platform_tools.engine import server  # noqa: E402
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig  # noqa: E402
from platform_tools.hub.service import read_batches  # noqa: E402
from tests.helpers import engine_env, free_port  # noqa: E402

BIN = Path(sys.executable).parent


def timed(command: list[str], env: dict[str, str], cwd: Path = REPO) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-2000:]}"
        )
    return elapsed


def cpu_jiffies() -> tuple[int, int]:
    """(steal, total) CPU time of the machine so far, from /proc/stat (all cores)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return fields[7], sum(fields[:8])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def tree_hwm_mb(roots: list[int]) -> float:
    """Summed peak resident memory (VmHWM) of ``roots`` and all their descendants."""
    total = 0.0
    for pid in descendants(roots):
        try:
            peak = peak_rss_mb(pid)
        except OSError:
            continue
        total += 0.0 if peak != peak else peak  # NaN: no VmHWM (a kernel thread)
    return total


class SailEngine:
    """The embedded engine of the `local` target, one per lakehouse."""

    name = "Sail"

    def __init__(self, lakehouse: Path) -> None:
        self.port = free_port()
        self.env = engine_env(lakehouse, self.port)
        self.cfg = EngineConfig(lakehouse=lakehouse, port=self.port, session_id=DEFAULT_SESSION_ID)
        self.pid: int | None = None

    def up(self) -> None:
        self.pid = server.up(self.cfg).pid

    def down(self) -> None:
        server.down(self.cfg)

    def peak_mb(self) -> float:
        assert self.pid is not None
        return peak_rss_mb(self.pid)


class ClusterEngine:
    """The local Spark standalone cluster of the `cluster` target (master, two workers, their
    executors and the Thrift Server): `platform-tools engine up --engine spark-cluster`."""

    name = "Spark cluster"

    def __init__(self, lakehouse: Path) -> None:
        self.env = {**engine_env(lakehouse, free_port()), "GRIDUNION_TARGET": "cluster"}
        self.pids: list[int] = []

    def _tool(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "platform-tools"), "engine", *args, "--engine",
                               "spark-cluster"], env=self.env, capture_output=True, text=True,
                              check=False)  # fmt: skip

    def up(self) -> None:
        started = self._tool("up")
        if started.returncode != 0:
            raise SystemExit(f"spark-cluster did not start: {started.stdout}{started.stderr}")
        state = json.loads(self._tool("status", "--json").stdout)
        port = str(state["thrift_port"])
        self.env.update(SPARK_CLUSTER_HOST="127.0.0.1", SPARK_CLUSTER_PORT=port)
        self.pids = [int(p["pid"]) for p in state["processes"] if p["alive"]]

    def down(self) -> None:
        self._tool("down")

    def peak_mb(self) -> float:
        return tree_hwm_mb(self.pids)


ENGINES: dict[str, type[SailEngine] | type[ClusterEngine]] = {
    "sail": SailEngine,
    "cluster": ClusterEngine,
}


Variant = tuple[int, bool, bool, bool]  # (threads, with data tests, through the hub, WAP on)
HUB_INTERVAL_S = "0.5"
HUB_SETTLE_S = "0.3"


def variant_label(variant: Variant) -> str:
    threads, with_tests, hub, wap = variant
    return (
        ("hub, " if hub else "")
        + f"{threads} threads"
        + ("" if with_tests else ", no tests")
        + ("" if wap else ", WAP off")
    )


def wap_hook_seconds(results: dict[str, Any]) -> float:
    """Time of the write-audit-publish hooks of a build (gridunion_wap_start/_publish)."""
    import yaml

    project = yaml.safe_load((REPO / "dbt_project.yml").read_text())
    seconds = 0.0
    for when in ("on-run-start", "on-run-end"):
        for index, hook in enumerate(project.get(when) or []):
            if "gridunion_wap_" in hook:
                suffix = f"-{when}-{index}"
                seconds += sum(
                    float(r["execution_time"])
                    for r in results["results"]
                    if r["unique_id"].endswith(suffix)
                )
    return seconds


def wait_for_batch(lakehouse: Path, number: int, hub: subprocess.Popen[str]) -> dict[str, Any]:
    while len(batches := read_batches(lakehouse)) < number:
        if hub.poll() is not None:
            raise SystemExit(f"the hub exited with {hub.returncode} before batch {number}")
        time.sleep(0.05)
    record = batches[number - 1]
    if not record["success"]:
        raise SystemExit(f"hub batch {number} failed: {record}")
    return record


def hub_day(
    work: Path, full: Path, lakehouse: Path, env: dict[str, str], threads: int
) -> tuple[float, float, float]:
    """Day 2 through a warm hub: (landed -> built latency, hub's stage s, hub's build s)."""
    command = [
        str(BIN / "platform-tools"), "hub", "--select", "domain:metering", "--quiet",
        "--interval", HUB_INTERVAL_S, "--settle", HUB_SETTLE_S, "--threads", str(threads),
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    ]  # fmt: skip
    with (work / "hub.out").open("w") as sink:
        hub = subprocess.Popen(command, cwd=REPO, env=env, stdout=sink, stderr=sink, text=True)
    try:
        wait_for_batch(lakehouse, 1, hub)  # the catch-up batch: dbt imported, project parsed
        incoming = lakehouse / "landing" / ".incoming"
        moves = []
        for day_dir in sorted(full.glob("*/*/ingest_date=2024-10-27")):
            relative = day_dir.relative_to(full)
            shutil.copytree(day_dir, incoming / relative)
            (lakehouse / "landing" / relative).parent.mkdir(parents=True, exist_ok=True)
            moves.append((incoming / relative, lakehouse / "landing" / relative))
        os.sync()
        landed = time.perf_counter()
        for source, target in moves:
            source.rename(target)
        record = wait_for_batch(lakehouse, 2, hub)
        latency = time.perf_counter() - landed
    finally:
        hub.send_signal(signal.SIGTERM)
        hub.wait(timeout=300)
    return latency, float(record["stage_s"]), float(record["build_s"])


def bench_scale(
    root: Path, meters: int, readings: int, runs: int, variants: list[Variant], kind: str
) -> dict[Variant, dict[str, Any]]:
    work = root / f"scale_{readings}_{kind}"
    lakehouse = work / "lakehouse"
    engine = ENGINES[kind](lakehouse)
    env = engine.env
    pt = str(BIN / "platform-tools")
    full = work / "landing_full"
    generate = timed(
        [
            pt,
            "landing",
            "generate",
            "--meters",
            str(meters),
            "--days",
            "2",
            "--readings-per-day",
            str(readings),
            "--start",
            "2024-10-26",
            "--out",
            str(full),
        ],
        env,
    )
    rows = 0
    for truth_file in (full / "_truth").glob("????-??-??.json"):  # one per ingest day
        landed = json.loads(truth_file.read_text())["rows_landed"]
        rows += sum(sum(entities.values()) for entities in landed.values())
    dbt = [
        str(BIN / "dbt"),
        "build",
        "--select",
        "domain:metering",
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]

    def land(day: str) -> None:
        for day_dir in full.glob(f"*/*/ingest_date={day}"):
            shutil.copytree(day_dir, lakehouse / "landing" / day_dir.relative_to(full))

    land("2024-10-26")
    setup_stage = timed([pt, "landing", "stage"], env)
    baselines: dict[bool, Path] = {}
    setup_build = 0.0
    for wap in sorted({v[3] for v in variants}, reverse=True):
        if baselines:  # the same day-1 landing, built again without write-audit-publish
            shutil.rmtree(lakehouse / "warehouse")
        engine.up()
        setup_build = timed(dbt, {**engine.env, "GRIDUNION_WAP": "1" if wap else "0"})
        engine.down()
        baselines[wap] = work / f"day1_{'wap' if wap else 'nowap'}"
        shutil.copytree(lakehouse, baselines[wap], ignore=shutil.ignore_patterns("_engine"))
    measured: dict[Variant, dict[str, list[float]]] = {
        v: {"stage": [], "build": [], "dag": [], "peak": [], "latency": [], "steal": [],
            "wap": []}
        for v in variants
    }  # fmt: skip
    for _ in range(runs):
        for variant in variants:
            threads, with_tests, through_hub, wap = variant
            shutil.rmtree(lakehouse)
            shutil.copytree(baselines[wap], lakehouse)
            engine.up()
            run_env = {**engine.env, "GRIDUNION_WAP": "1" if wap else "0"}
            m = measured[variant]
            steal_before, total_before = cpu_jiffies()
            if through_hub:
                latency, stage_s, build_s = hub_day(work, full, lakehouse, run_env, threads)
                m["latency"].append(latency)
                m["stage"].append(stage_s)
                m["build"].append(build_s)
            else:
                land("2024-10-27")
                m["stage"].append(timed([pt, "landing", "stage"], run_env))
                command = dbt if with_tests else [*dbt, "--exclude", "resource_type:test"]
                m["build"].append(timed(command, {**run_env, "GRIDUNION_THREADS": str(threads)}))
            steal_after, total_after = cpu_jiffies()
            m["steal"].append(100 * (steal_after - steal_before) / (total_after - total_before))
            results = json.loads((work / "target" / "run_results.json").read_text())
            m["dag"].append(float(results["elapsed_time"]))
            m["wap"].append(wap_hook_seconds(results))
            m["peak"].append(engine.peak_mb())
            engine.down()
    shutil.rmtree(work, ignore_errors=True)
    return {
        variant: {
            "generate_s": generate,
            "rows": rows,
            "setup_stage_s": setup_stage,
            "setup_build_s": setup_build,
            "stage_s": statistics.median(m["stage"]),
            "build_s": statistics.median(m["build"]),
            "builds": m["build"],
            "dag_s": statistics.median(m["dag"]),
            "peak_mb": max(m["peak"]),
            "latency_s": statistics.median(m["latency"]) if m["latency"] else None,
            "latencies": m["latency"],
            "steal_pct": statistics.median(m["steal"]),
            "wap_s": statistics.median(m["wap"]),
        }
        for variant, m in measured.items()
    }


def latency_text(result: dict[str, Any]) -> str:
    if result["latency_s"] is None:
        return "–"
    runs = ", ".join(f"{x:.1f}" for x in result["latencies"])
    return f"{result['latency_s']:.1f} s (runs {runs})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=3_500_000)
    parser.add_argument("--readings", type=int, nargs="+", default=[500_000, 3_500_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--threads", type=int, nargs="+", default=[4])
    parser.add_argument("--also-without-tests", action="store_true")
    parser.add_argument("--hub", action="store_true", help="also measure through the hub")
    parser.add_argument("--compare-wap", action="store_true", help="also without WAP")
    parser.add_argument(
        "--engines", nargs="+", choices=sorted(ENGINES), default=["sail"],
        help="sail (default; every variant) and/or cluster: the local Spark cluster "
        "(`cluster` target; the plain daily build per thread count, one cluster start per run)",
    )  # fmt: skip
    args = parser.parse_args()
    variants: list[Variant] = [(t, True, False, True) for t in args.threads]
    if args.also_without_tests:
        variants += [(t, False, False, True) for t in args.threads]
    if args.hub:
        variants += [(t, True, True, True) for t in args.threads]
    if args.compare_wap:
        variants += [(t, True, False, False) for t in args.threads]
    root = Path(tempfile.mkdtemp(prefix="bench-metering-"))
    plain = [v for v in variants if v[1] and not v[2] and v[3]]
    by_scale = {
        (r, kind): bench_scale(
            root, args.meters, r, args.runs, variants if kind == "sail" else plain, kind
        )
        for r in args.readings
        for kind in args.engines
    }
    shutil.rmtree(root, ignore_errors=True)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; command: `.venv/bin/python benchmarks/bench_metering.py "
        f"--meters {args.meters} --readings {' '.join(map(str, args.readings))} "
        f"--runs {args.runs} --threads {' '.join(map(str, args.threads))}"
        f"{' --also-without-tests' if args.also_without_tests else ''}"
        f"{' --hub' if args.hub else ''}{' --compare-wap' if args.compare_wap else ''}"
        f" --engines {' '.join(args.engines)}`"
        f"; day-2 figures are medians of {args.runs} runs from the same day-1 state.\n"
    )
    print(
        "| readings/day | meters | engine | variant | generate 2 days | rows landed | rows/s | "
        "day-1 set-up (stage + build) | day-2 stage | day-2 build bronze→gold (dbt run phase) | "
        "day-2 stage + build | hub: landed → built | WAP hooks | engine peak RSS | "
        "CPU stolen by the host |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for (readings, kind), variant, r in (
        (key, v, r) for key, rs in by_scale.items() for v, r in rs.items()
    ):
        print(
            f"| {readings:,} | {args.meters:,} | {ENGINES[kind].name} | "
            f"{variant_label(variant)} | "
            f"{r['generate_s']:.1f} s | "
            f"{int(r['rows']):,} | "
            f"{r['rows'] / r['generate_s']:,.0f} | {r['setup_stage_s']:.1f} s + "
            f"{r['setup_build_s']:.1f} s | {r['stage_s']:.1f} s | {r['build_s']:.1f} s "
            f"({r['dag_s']:.1f} s; runs {', '.join(f'{b:.1f}' for b in r['builds'])}) | "
            f"{r['stage_s'] + r['build_s']:.1f} s | {latency_text(r)} | {r['wap_s']:.2f} s | "
            f"{r['peak_mb']:,.0f} MB | "
            f"{r['steal_pct']:.0f} % |"
        )
    for kind in args.engines:
        results = {r: rs[variants[0]] for (r, k), rs in by_scale.items() if k == kind}
        if len(results) == 2:
            small, large = (results[k] for k in sorted(results))
            print(
                f"\n{ENGINES[kind].name}: build-time ratio ({max(results):,} / "
                f"{min(results):,} readings): {large['build_s'] / small['build_s']:.2f} (dbt "
                f"run phase only: {large['dag_s'] / small['dag_s']:.2f})"
            )
    if len(args.engines) == 2:
        for readings in args.readings:
            sail, cluster = (by_scale[(readings, k)][variants[0]] for k in ("sail", "cluster"))
            print(
                f"\n{readings:,} readings: Spark cluster / Sail day-2 build "
                f"{cluster['build_s'] / sail['build_s']:.2f}x, engine peak memory "
                f"{cluster['peak_mb'] / sail['peak_mb']:.1f}x"
            )


if __name__ == "__main__":
    main()
