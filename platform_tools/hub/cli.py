"""``platform-tools hub``: stage and build each landed batch in one warm process."""

from __future__ import annotations

import argparse
import os
import signal
import threading
from pathlib import Path
from types import FrameType
from typing import Any

from platform_tools.engine.config import EngineConfig, find_project_dir
from platform_tools.errors import ArtifactError, UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.hub.defaults import DEFAULT_SELECT
from platform_tools.landing.defaults import staging_dir


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0.1 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text} s is outside 0.1-3600 seconds")
    return value


def _threads(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 64:
        raise argparse.ArgumentTypeError(f"{text!r} is not a thread count 1-64")
    return int(text)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "hub",
        help="watch the landing zone; stage and dbt-build each batch as it lands (warm)",
        description=(
            "The ingestion hub: a long-running process that polls the landing zone "
            "(<lakehouse>/landing) every INTERVAL seconds and, when files land, stages them "
            "and runs `dbt build --select SELECT` in the same process. dbt is imported and "
            "the project parsed once (again only when a project file changes), which saves "
            "the 6-8 s a `dbt` command spends starting. The first pass stages and builds "
            "whatever is pending. Each batch is printed as one line and appended to "
            "<lakehouse>/_hub/batches.jsonl; dbt's results go to the run history. One hub "
            "per lakehouse. Stop it with Ctrl-C or SIGTERM: a build in progress finishes "
            "first. Writers must land a file complete (write it under a name starting with "
            "'.' or '_' and rename it). See docs/hub.md."
        ),
        epilog=(
            "Exit codes: 0 stopped cleanly (with --once: the build passed), 1 the --once "
            "build failed, 2 usage error (e.g. another hub serves the lakehouse), 3 the "
            "landing zone is missing."
        ),
    )
    parser.add_argument(
        "--select",
        default=DEFAULT_SELECT,
        help=(
            "dbt node selection built for each batch (default: %(default)s, everything fed "
            "by the landing zone; e.g. domain:metering)"
        ),
    )
    parser.add_argument(
        "--interval",
        type=_interval,
        default=2.0,
        metavar="SECONDS",
        help="how often the landing zone is polled (default: %(default)s)",
    )
    parser.add_argument(
        "--settle",
        type=_interval,
        default=1.0,
        metavar="SECONDS",
        help=(
            "after a change, wait until the landing zone has not changed for this long, so "
            "that files landing together make one batch (default: %(default)s)"
        ),
    )
    parser.add_argument(
        "--once",
        action="store_true",
        help="stage and build what is pending, then exit (0 if the build passed, else 1)",
    )
    parser.add_argument("--target", help="dbt target (default: the profile's, `local`)")
    parser.add_argument("--threads", type=_threads, help="dbt threads (default: the profile's)")
    parser.add_argument(
        "--project-dir",
        type=Path,
        help="the dbt project (default: the one containing the current directory)",
    )
    parser.add_argument(
        "--target-path",
        type=Path,
        help="dbt's artifacts (default: <project>/target)",
    )
    parser.add_argument("--log-path", type=Path, help="dbt's logs (default: <project>/logs)")
    parser.add_argument(
        "--quiet", action="store_true", help="print only the hub's lines and dbt's errors"
    )
    parser.set_defaults(handler=_hub)


def _stop_on_signals(stop: threading.Event) -> None:
    """First SIGINT/SIGTERM: finish the batch in progress and exit; a second one interrupts."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        stop.set()
        print("hub: stopping after the batch in progress (again to interrupt)", flush=True)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, handle)


def _hub(args: argparse.Namespace) -> ExitCode:
    from platform_tools.hub.dbt_session import DbtSettings
    from platform_tools.hub.service import Hub, HubSettings

    project_dir = (args.project_dir or find_project_dir()).resolve()
    if not (project_dir / "dbt_project.yml").is_file():
        raise UsageError(
            f"--project-dir {project_dir} has no dbt_project.yml; run the hub inside the "
            "project or pass --project-dir"
        )
    profiles_dir = Path(os.environ.get("DBT_PROFILES_DIR") or project_dir).resolve()
    cfg = EngineConfig.from_env(project_dir)
    if not cfg.landing.is_dir():
        raise ArtifactError(
            f"landing directory {cfg.landing} does not exist; land files there (or run "
            "`platform-tools landing generate`), or point GRIDUNION_LAKEHOUSE at the lakehouse"
        )
    os.environ.setdefault("GRIDUNION_LAKEHOUSE", str(cfg.lakehouse))
    dbt = DbtSettings(
        project_dir=project_dir,
        profiles_dir=profiles_dir,
        target_path=(args.target_path or project_dir / "target").resolve(),
        log_path=(args.log_path or project_dir / "logs").resolve(),
        target=args.target,
        threads=args.threads,
        quiet=args.quiet,
    )
    settings = HubSettings(
        lakehouse=cfg.lakehouse,
        landing=cfg.landing,
        staging=staging_dir(cfg.lakehouse),
        select=args.select,
        dbt=dbt,
        interval_s=args.interval,
        settle_s=args.settle,
        once=args.once,
    )
    stop = threading.Event()
    if not args.once:
        _stop_on_signals(stop)
    hub = Hub(settings, emit=lambda line: print(line, flush=True))
    return hub.serve(stop)
