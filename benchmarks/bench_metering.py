"""Metering benchmark (issue: landing-zone generator, ingestion hub and the metering domain).

One day at benchmark scale — 3.5 M meters in the meter masters and 500,000 readings — is
generated, staged and built bronze → gold (`dbt build --select domain:metering`) on a fresh
engine and an empty warehouse. Reported per scale: generator wall time and rows/second,
staging wall time, build wall time (median of --runs fresh builds), engine peak memory
(VmHWM of the Sail process), and the ratio build(3.5 M readings) / build(500 k readings).

    .venv/bin/python benchmarks/bench_metering.py [--meters 3500000] [--runs 3]
        [--readings 500000 3500000]
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
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from platform_tools.engine import server  # noqa: E402
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig  # noqa: E402
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


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def bench_scale(root: Path, meters: int, readings: int, runs: int) -> dict[str, float]:
    lakehouse = root / f"lh_{readings}"
    port = free_port()
    env = engine_env(lakehouse, port)
    cfg = EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID)
    pt = str(BIN / "platform-tools")
    generate = timed(
        [
            pt,
            "landing",
            "generate",
            "--meters",
            str(meters),
            "--days",
            "1",
            "--readings-per-day",
            str(readings),
            "--start",
            "2024-10-27",
        ],
        env,
    )
    truth = json.loads(next((lakehouse / "landing" / "_truth").glob("*.json")).read_text())
    rows = sum(sum(v.values()) if isinstance(v, dict) else v for v in truth["rows_landed"].values())
    stage = timed([pt, "landing", "stage"], env)
    builds, peaks = [], []
    target = root / f"target_{readings}"
    dbt = [
        str(BIN / "dbt"),
        "build",
        "--select",
        "domain:metering",
        "--target-path",
        str(target),
        "--log-path",
        str(root / "logs"),
    ]
    for _ in range(runs):
        server.down(cfg)
        shutil.rmtree(lakehouse / "warehouse", ignore_errors=True)
        status = server.up(cfg)
        builds.append(timed(dbt, env))
        assert status.pid is not None
        peaks.append(peak_rss_mb(status.pid))
    server.down(cfg)
    shutil.rmtree(lakehouse, ignore_errors=True)
    return {
        "generate_s": generate,
        "rows": rows,
        "stage_s": stage,
        "build_s": statistics.median(builds),
        "builds": builds,
        "peak_mb": max(peaks),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--meters", type=int, default=3_500_000)
    parser.add_argument("--readings", type=int, nargs="+", default=[500_000, 3_500_000])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-metering-"))
    results = {r: bench_scale(root, args.meters, r, args.runs) for r in args.readings}
    shutil.rmtree(root, ignore_errors=True)
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; command: `.venv/bin/python benchmarks/bench_metering.py "
        f"--meters {args.meters} --runs {args.runs}`; build = median of {args.runs} fresh builds.\n"
    )
    print(
        "| readings/day | meters | generate | rows landed | rows/s | stage | build bronze→gold | "
        "engine peak RSS |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for readings, r in results.items():
        print(
            f"| {readings:,} | {args.meters:,} | {r['generate_s']:.1f} s | {int(r['rows']):,} | "
            f"{r['rows'] / r['generate_s']:,.0f} | {r['stage_s']:.1f} s | {r['build_s']:.1f} s "
            f"(runs {', '.join(f'{b:.1f}' for b in r['builds'])}) | {r['peak_mb']:,.0f} MB |"
        )
    if len(results) == 2:
        small, large = (results[k] for k in sorted(results))
        print(
            f"\nbuild-time ratio ({max(results):,} / {min(results):,} readings): "
            f"{large['build_s'] / small['build_s']:.2f}"
        )


if __name__ == "__main__":
    main()
