"""Pull-request checks benchmark (issue: pull-request workflow and discovery).

In a clone of the repository (the work tree's uncommitted changes committed on top, then one
model changed in a second commit, no `origin` remote so the base is `HEAD~1`):

- `make pr-check` on the one-model change: one cold run (empty dbt partial-parse state and no
  cached baseline manifest), then --runs measured runs — median, min and max wall time, and
  the time of each hook in the median run;
- a full-project `sqlfluff lint` (every folder the sqlfluff hook covers), once.

Figures are printed as Markdown for docs/benchmarks.md. Target: `make pr-check` <= 60 s on
2 cores (sqlfluff on the changed files only).

    .venv/bin/python benchmarks/bench_pr_check.py [--runs 5] [--no-full-lint] [--keep]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script: the repository's tests.helpers

from tests.helpers import clone_work_tree, git  # noqa: E402

BIN = Path(sys.executable).parent
VENV = BIN.parent
CHANGED_MODEL = Path("models/metering/gold/fct_region_daily_consumption.sql")
LINTED_FOLDERS = ("models", "tests/data_tests", "snapshots", "analyses")
HOOK_LINE = re.compile(r"^(?P<name>.+?)\.{3,}(?:\([^)]*\))?(?P<status>Passed|Failed|Skipped)"
                       r"(?: (?P<seconds>[\d.]+)s)?$")


def sandbox(root: Path) -> Path:
    """A clone with the work tree committed, a one-model change on top, no remote."""
    repo = root / "repo"
    clone_work_tree(repo)
    git(repo, "remote", "remove", "origin")
    model = repo / CHANGED_MODEL
    model.write_text("-- Benchmark: a one-model change.\n" + model.read_text())
    git(repo, "commit", "-qam", "one-model change")
    return repo


def env_for(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DBT_PROFILES_DIR=str(repo), DBT_SEND_ANONYMOUS_USAGE_STATS="False",
               GRIDUNION_OFFLINE="1", PYTHONWARNINGS="ignore")
    env.pop("DBT_TARGET_PATH", None)
    return env


def pr_check_command(repo: Path) -> list[str]:
    """`make pr-check` with this virtualenv, when its install stamp matches the clone's
    pyproject.toml (so `make install` is a no-op); else the command it runs."""
    stamps = list(VENV.glob(".installed-*"))
    digest = subprocess.run(
        f"cat {repo / 'pyproject.toml'} | sha1sum | cut -c1-12", shell=True,
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    if any(s.name == f".installed-{digest}" for s in stamps) and shutil.which("make"):
        return ["make", "--no-print-directory", "pr-check", f"VENV={VENV}"]
    return [str(BIN / "platform-tools"), "pr-check"]


def timed(command: list[str], repo: Path, env: dict[str, str]) -> tuple[float, str, int]:
    started = time.perf_counter()
    result = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True,
                            check=False)
    return time.perf_counter() - started, result.stdout + result.stderr, result.returncode


def hook_times(output: str) -> dict[str, str]:
    times = {}
    for line in output.splitlines():
        match = HOOK_LINE.match(line.strip())
        if match and match.group("status") != "Skipped":
            # pre-commit prints no time per hook (only with --verbose)
            seconds = match.group("seconds")
            times[match.group("name")] = (f"{match.group('status')} {seconds} s" if seconds
                                          else match.group("status"))
    return times


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-full-lint", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the sandbox")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-pr-check-"))
    try:
        repo = sandbox(root)
        env = env_for(repo)
        command = pr_check_command(repo)
        cold, cold_output, code = timed(command, repo, env)
        if code != 0:
            raise SystemExit(f"{' '.join(command)} failed on the one-model change:\n"
                             f"{cold_output[-6000:]}")
        runs = []
        for _ in range(args.runs):
            seconds, output, code = timed(command, repo, env)
            if code != 0:
                raise SystemExit(f"run failed:\n{output[-6000:]}")
            runs.append((seconds, output))
        runs.sort(key=lambda r: r[0])
        median_seconds = statistics.median(s for s, _ in runs)
        median_output = runs[len(runs) // 2][1]

        lint_seconds = lint_note = None
        if not args.no_full_lint:
            folders = [f for f in LINTED_FOLDERS if (repo / f).is_dir()]
            lint_seconds, lint_output, lint_code = timed(
                [str(BIN / "sqlfluff"), "lint", *folders], repo, env)
            files = len([p for f in folders for p in (repo / f).rglob("*.sql")])
            failing = len(re.findall(r"^== \[.*\] FAIL", lint_output, re.M))
            lint_note = (f"{files} SQL files, "
                         + ("clean" if lint_code == 0 else f"{failing} file(s) with violations"))

        print("## Pull-request checks (`benchmarks/bench_pr_check.py`)\n")
        print(f"Machine: {machine()}. Command: `{' '.join(command[:3])}` in a clone, one "
              f"model changed against `HEAD~1` ({CHANGED_MODEL}).\n")
        print("| measure | wall time |")
        print("|---|---|")
        print(f"| `make pr-check`, one-model change, median of {args.runs} | "
              f"{median_seconds:.1f} s (min {runs[0][0]:.1f} s, max {runs[-1][0]:.1f} s) |")
        print(f"| `make pr-check`, first run (no parse state, baseline parsed) | {cold:.1f} s |")
        if lint_seconds is not None:
            print(f"| full-project `sqlfluff lint` ({lint_note}) | {lint_seconds:.1f} s |")
        print("\nHooks in the median run:\n")
        print("| hook | result |")
        print("|---|---|")
        for name, value in hook_times(median_output).items():
            print(f"| {name} | {value} |")
    finally:
        if args.keep:
            print(f"\nsandbox kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
