"""``platform-tools report --out DIR``: one HTML page, a Markdown summary and a JSON file."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from platform_tools.artifacts.answers import Answers, file_part, history_part, warehouse_part
from platform_tools.artifacts.codec import encode
from platform_tools.artifacts.manifest import load_manifest
from platform_tools.artifacts.runs import target_run
from platform_tools.artifacts.settings import Settings, load_settings
from platform_tools.artifacts.target import (
    CATALOG,
    MANIFEST,
    RUN_RESULTS,
    SOURCES,
    Need,
    load_target,
    resolve_target_dir,
)
from platform_tools.cliutil import (
    add_lakehouse_arguments,
    add_target_dir_argument,
    parse_now,
    print_note,
    resolve_history_dir,
    resolve_lakehouse,
    without_gc,
)
from platform_tools.cost.config import CostConfig
from platform_tools.deps.checks import DepsConfig
from platform_tools.exit_codes import ExitCode
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import load_history
from platform_tools.report import build, render


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report",
        help="self-contained HTML report of dependencies, cost and observability per team",
        description=(
            "Write DIR/report.html (one self-contained page: inline CSS and SVG charts, no "
            "script, nothing fetched; opens from disk), DIR/report.md (a summary) and "
            "DIR/report.json (everything) from the target's artifacts and the lakehouse's "
            "tables and run history."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="directory to write report.html, report.md and report.json into")
    add_target_dir_argument(parser)
    add_lakehouse_arguments(parser)
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="configuration file (default: platform_tools.toml of the project)")
    parser.add_argument("--baseline", type=Path, default=None, metavar="MANIFEST",
                        help="baseline manifest.json for the breaking-change section")
    parser.add_argument("--now", default=None, metavar="ISO-TIME",
                        help="evaluate freshness at this UTC time instead of now")
    parser.set_defaults(handler=handle)


@dataclass(frozen=True)
class _Answer:
    """What ``report`` computes before it reads the clock (cached, see answers.py)."""

    note: str | None
    basis: build.ReportBasis


@without_gc
def handle(args: argparse.Namespace) -> ExitCode:
    settings = load_settings(args.config)
    now = parse_now(args.now)
    answers = Answers.of(args.target_dir, "report", lambda target_dir: [
        *(file_part(target_dir / name) for name in (MANIFEST, RUN_RESULTS, SOURCES, CATALOG)),
        history_part(resolve_history_dir(args)),
        warehouse_part(resolve_lakehouse(args.lakehouse) / "warehouse"),
        None if args.baseline is None else file_part(_baseline_path(args.baseline)),
        encode([DepsConfig.from_settings(settings), CostConfig.from_settings(settings),
                ObserveConfig.from_settings(settings)]),
    ])
    answer = answers.get(_Answer, lambda: _compute(args, settings), lambda a: print_note(a.note))
    paths = render.write(build.finish(answer.basis, now), args.out)
    print("\n".join(f"wrote {p}" for p in paths))
    return ExitCode.OK


def _baseline_path(path: Path) -> Path:
    return path / "manifest.json" if path.is_dir() else path


def _compute(args: argparse.Namespace, settings: Settings) -> _Answer:
    history = load_history(
        resolve_history_dir(args),
        limit=ObserveConfig.from_settings(settings).runs,
        within_days=CostConfig.from_settings(settings).period_days,
    )
    target = load_target(resolve_target_dir(args.target_dir), run_results=Need.SKIP)
    chosen = target_run(target.target_dir / RUN_RESULTS, target.manifest,
                        [r.invocation_id for r in history.runs])
    print_note(chosen.note)
    target = replace(target, run_results=chosen.run_results)
    baseline = None
    if args.baseline is not None:
        baseline = load_manifest(_baseline_path(args.baseline))
    warehouse = resolve_lakehouse(args.lakehouse) / "warehouse"
    return _Answer(chosen.note, build.basis(target, history, warehouse, settings,
                                            baseline=baseline))
