"""Benchmark ``platform-tools deps | cost | observe | report`` on a large synthetic project.

    .venv/bin/python benchmarks/bench_platform_tools.py            # 5,000 models, 20,000 tests
    .venv/bin/python benchmarks/bench_platform_tools.py --quick    # a smaller smoke run

What it does, in a temporary directory:

1. generates a GridUnion-shaped manifest (``--models``, ``--tests``) with ``--runs`` recorded
   runs of history (``tests.support.synthetic``);
2. runs each command as a separate process, the way a user or CI does: once cold (no parse
   cache), then ``--repeat`` times warm, and reports the median wall time and the peak
   resident memory of the process (``resource.getrusage`` in a small helper process);
3. runs ``deps --baseline`` on a ``--chain``-deep chain of models with a breaking change at
   its root (every graph walk crosses the whole chain);
4. runs dbt-score (``dbt-score lint --manifest``) and dbt-bouncer (``dbt-bouncer run`` with
   two manifest checks: model descriptions and unique tests) on the same manifest from a
   separate virtualenv (``--compare-venv``, default ``$BENCH_COMPARE_VENV`` or
   ``/tmp/compare-venv``, created with ``pip install dbt-score dbt-bouncer`` when missing, so
   the project's pinned packages are never touched), cold and warm like the commands above,
   and reports the ratios.

The results are printed as Markdown on stdout (progress goes to stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from platform_tools.artifacts.cache import CACHE_DIR  # noqa: E402
from tests.support.builder import write_json  # noqa: E402
from tests.support.synthetic import (  # noqa: E402
    SyntheticSpec,
    chain_project,
    generate,
    write_history,
    write_target,
)

# issue 15, point 8: each command within 0.5 s warm and 1.5 s cold (issue 5: 2-3 s warm)
TARGETS = {"deps": 0.5, "cost": 0.5, "observe": 0.5, "report": 0.5, "deps (chain)": 1.0}
COLD_TARGETS = {"deps": 1.5, "cost": 1.5, "observe": 1.5, "report": 1.5}
COMPARE_TOOLS = ("dbt-score", "dbt-bouncer")
BOUNCER_CONFIG = """dbt_artifacts_dir: {target}
manifest_checks:
  - name: check_model_description_populated
  - name: check_model_has_unique_test
"""


@dataclass
class Measure:
    wall: float
    max_rss_mb: float
    returncode: int
    cpu: float


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# Runs the command in a small helper process and reports the command's wall time and peak
# resident memory (getrusage of the helper's children). Forking from this big process would
# make the child inherit its resident-set high-water mark; the helper is small.
_HELPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
process = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
wall = time.perf_counter() - started
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps([wall, usage.ru_maxrss, process.returncode, usage.ru_utime + usage.ru_stime]))
"""


def run_process(argv: Sequence[str], env: dict[str, str]) -> Measure:
    helper = subprocess.run([sys.executable, "-c", _HELPER, *argv], env=env,
                            capture_output=True, text=True, check=True)
    wall, max_rss_kb, returncode, cpu = json.loads(helper.stdout)
    return Measure(float(wall), float(max_rss_kb) / 1024, int(returncode), float(cpu))


def measure(name: str, argv: Sequence[str], env: dict[str, str], repeat: int,
            cache_dir: Path | None) -> dict[str, object]:
    if cache_dir is not None:
        shutil.rmtree(cache_dir, ignore_errors=True)
    cold = run_process(argv, env)
    warm = [run_process(argv, env) for _ in range(repeat)]
    walls = [m.wall for m in warm]
    codes = {m.returncode for m in [cold, *warm]}
    result = {
        "name": name,
        "cold": cold.wall,
        "cold_cpu": cold.cpu,
        "median": statistics.median(walls),
        "min": min(walls),
        "max": max(walls),
        "cpu": statistics.median(m.cpu for m in warm),
        "rss": max(m.max_rss_mb for m in [cold, *warm]),
        "exit": sorted(codes),
    }
    log(f"  {name}: cold {cold.wall:.2f} s, warm median {result['median']:.2f} s, "
        f"peak {result['rss']:.0f} MB, exit {sorted(codes)}")
    return result


def compare_venv(path: Path, create: bool) -> dict[str, Path]:
    """The comparison tools' executables in the virtualenv ``path`` (installed there first
    when missing and ``create``); a tool that cannot be installed is left out."""
    missing = [t for t in COMPARE_TOOLS if not (path / "bin" / t).exists()]
    if missing and create:
        log(f"installing {' '.join(missing)} into {path} (separate from the project's venv)")
        if not (path / "bin" / "pip").exists():
            subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
        for tool in missing:
            installed = subprocess.run([str(path / "bin" / "pip"), "install", "--quiet", tool],
                                       check=False)
            if installed.returncode != 0:
                log(f"  pip install {tool} failed (exit {installed.returncode})")
    return {t: path / "bin" / t for t in COMPARE_TOOLS if (path / "bin" / t).exists()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=5000)
    parser.add_argument("--tests", type=int, default=20000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--chain", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--compare-venv", type=Path,
                        default=Path(os.environ.get("BENCH_COMPARE_VENV", "/tmp/compare-venv")),
                        help="virtualenv holding (or to hold) dbt-score and dbt-bouncer "
                        "(default: $BENCH_COMPARE_VENV or /tmp/compare-venv)")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip dbt-score and dbt-bouncer")
    parser.add_argument("--quick", action="store_true",
                        help="500 models, 2,000 tests, 5 runs, 3 repeats, no comparison")
    parser.add_argument("--keep", type=Path, default=None,
                        help="work in this directory and keep it")
    args = parser.parse_args(argv)
    if args.quick:
        args.models, args.tests, args.runs, args.repeat = 500, 2000, 5, 3
        args.chain, args.no_compare = 500, True

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-platform-tools-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _bench(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    log(f"generating {args.models} models, {args.tests} tests, {args.runs} runs in {work}")
    started = time.perf_counter()
    project = generate(SyntheticSpec(models=args.models, tests=args.tests, runs=args.runs))
    target = write_target(work / "target", project)
    lakehouse = work / "lh"
    write_history(lakehouse / "_history", project)
    manifest_mb = (target / "manifest.json").stat().st_size / 1e6
    log(f"  setup {time.perf_counter() - started:.1f} s, manifest {manifest_mb:.0f} MB")

    env = dict(os.environ)
    env.update(GRIDUNION_LAKEHOUSE=str(lakehouse), GRIDUNION_PROJECT_DIR=str(work))
    env.pop("PLATFORM_TOOLS_CONFIG", None)
    # measure an installed tool: modules compiled once (byte-code cache), as after pip install
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "platform_tools")],
                   env=env, check=False)
    tool = [sys.executable, "-m", "platform_tools"]
    common = ["--target-dir", str(target)]
    cache = target / CACHE_DIR
    results = [
        measure("deps", [*tool, "deps", *common, "--format", "json", "-o",
                         str(work / "deps.json")], env, args.repeat, cache),
        measure("cost", [*tool, "cost", *common, "--format", "json", "-o",
                         str(work / "cost.json")], env, args.repeat, cache),
        measure("observe", [*tool, "observe", *common, "--format", "json", "-o",
                            str(work / "observe.json")], env, args.repeat, cache),
        measure("report", [*tool, "report", *common, "--out", str(work / "report")], env,
                args.repeat, cache),
    ]

    log(f"chain of {args.chain} models")
    chain_dir = work / "chain"
    baseline = chain_project(args.chain)
    write_json(chain_dir / "base" / "manifest.json", baseline)
    current = json.loads(json.dumps(baseline))
    root = current["nodes"]["model.chain.m00000"]
    del root["columns"]["value"]
    write_json(chain_dir / "target" / "manifest.json", current)
    results.append(measure(
        "deps (chain)",
        [*tool, "deps", "--target-dir", str(chain_dir / "target"), "--baseline",
         str(chain_dir / "base" / "manifest.json"), "--format", "json", "-o",
         str(work / "chain.json")],
        env, args.repeat, chain_dir / "target" / CACHE_DIR,
    ))
    chain_report = json.loads((work / "chain.json").read_text())
    reached = len(chain_report["breaking_changes"][0]["affected_models"])

    in_process = _in_process_chain(chain_dir)

    comparison: list[dict[str, object]] = []
    if not args.no_compare:
        tools = compare_venv(args.compare_venv, create=True)
        for name in COMPARE_TOOLS:
            if name not in tools:
                log(f"{name} is not available; skipping it")
        if "dbt-score" in tools:
            comparison.append(measure(
                "dbt-score lint",
                [str(tools["dbt-score"]), "lint", "--manifest", str(target / "manifest.json"),
                 "--format", "json"],
                env, args.repeat, None,
            ))
        if "dbt-bouncer" in tools:
            config = work / "dbt-bouncer.yml"
            config.write_text(BOUNCER_CONFIG.format(target=target))
            comparison.append(measure(
                "dbt-bouncer run",
                [str(tools["dbt-bouncer"]), "run", "--config-file", str(config)],
                env, args.repeat, None,
            ))

    print(_markdown(args, manifest_mb, results, comparison, reached, in_process))
    return 0


def _in_process_chain(chain_dir: Path) -> float:
    """The graph work alone: rules, team dependencies and breaking changes on the chain."""
    from platform_tools.artifacts.manifest import load_manifest
    from platform_tools.deps import checks

    current = load_manifest(chain_dir / "target" / "manifest.json")
    baseline = load_manifest(chain_dir / "base" / "manifest.json")
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        checks.run(current, baseline=baseline)
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


def _markdown(args: argparse.Namespace, manifest_mb: float, results: list[dict[str, object]],
              comparison: list[dict[str, object]], reached: int, chain_graph: float) -> str:
    cpu = os.cpu_count() or 0
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    lines = [
        "## platform-tools benchmark",
        "",
        f"Synthetic GridUnion project: {args.models:,} models, {args.tests:,} tests "
        f"(manifest {manifest_mb:.0f} MB), {args.runs} recorded runs; a {args.chain:,}-deep "
        f"chain for the graph work. {cpu} CPU(s), Python {sys.version.split()[0]}. Each "
        f"command is a separate process; *cold* is the first run (no parse cache), *warm* the "
        f"median of {args.repeat} further runs. Load average at the end: {load} (other "
        f"processes on the machine slow the wall times; *CPU* is user + system time of the "
        f"command).",
        "",
        "| Command | Cold (s) | Cold CPU (s) | Warm median (s) | Warm min–max (s) | Warm CPU (s) "
        "| Peak RSS (MB) | Target warm / cold (s) | Within target |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in [*results, *comparison]:
        name = str(r["name"])
        target, cold_target = TARGETS.get(name), COLD_TARGETS.get(name)
        if target is None:
            goal, ok = "–", "–"
        else:
            met = float(r["median"]) <= target and (  # type: ignore[arg-type]
                cold_target is None or float(r["cold"]) <= cold_target)  # type: ignore[arg-type]
            goal = f"{target} / {cold_target}" if cold_target is not None else f"{target} / –"
            ok = "yes" if met else "no"
        lines.append(
            f"| `{name}` | {r['cold']:.2f} | {r['cold_cpu']:.2f} | {r['median']:.2f} | "
            f"{r['min']:.2f}–{r['max']:.2f} | {r['cpu']:.2f} | {r['rss']:.0f} | {goal} | {ok} |"
        )
    lines += [
        "",
        f"Chain: the breaking change at the root reached {reached:,} downstream models; the "
        f"graph work alone (rules, team dependencies, breaking changes, in process) took "
        f"{chain_graph:.3f} s.",
    ]
    deps = next(r for r in results if r["name"] == "deps")
    for other in comparison:
        warm = float(other["median"]) / float(deps["median"])  # type: ignore[arg-type]
        cold = float(other["median"]) / float(deps["cold"])  # type: ignore[arg-type]
        lines += [
            "",
            f"Comparison on the same manifest: `{other['name']}` (separate venv, exit "
            f"{other['exit']}) took {other['median']:.2f} s warm median (cold "
            f"{other['cold']:.2f} s, peak {other['rss']:.0f} MB); `platform-tools deps` "
            f"{deps['median']:.2f} s (cold {deps['cold']:.2f} s). Ratio {other['name']} / deps: "
            f"**{warm:.1f}x** warm, {cold:.1f}x against a cold deps.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
