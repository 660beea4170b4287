"""``platform-tools engine up | down | status``."""

from __future__ import annotations

import argparse
import time
from typing import Any

from platform_tools.engine import server
from platform_tools.engine.config import EngineConfig
from platform_tools.exit_codes import ExitCode


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "engine",
        help="start, stop or inspect the embedded Sail engine",
        description=(
            "Manage the embedded Sail engine (Spark Connect on 127.0.0.1) that serves the "
            "`local` dbt target. Its lakehouse is GRIDUNION_LAKEHOUSE (default "
            "<project>/.lakehouse), its port GRIDUNION_ENGINE_PORT (default 50051). dbt starts "
            "the engine on demand, so `engine up` is only needed to use it without dbt."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = actions.add_parser(
        "up", help="start the engine (if needed) and rebuild its catalog from the lakehouse"
    )
    up.set_defaults(handler=_up)
    down = actions.add_parser("down", help="stop the engine; the lakehouse stays on disk")
    down.set_defaults(handler=_down)
    status = actions.add_parser("status", help="say whether the engine runs, and where")
    status.add_argument("--json", action="store_true", help="print the status as JSON")
    status.set_defaults(handler=_status)


def _up(args: argparse.Namespace) -> ExitCode:
    cfg = EngineConfig.from_env()
    started = time.monotonic()
    result = server.up(cfg)
    print(f"{result.describe()} ({time.monotonic() - started:.1f} s)")
    return ExitCode.OK


def _down(args: argparse.Namespace) -> ExitCode:
    cfg = EngineConfig.from_env()
    was_running = server.down(cfg)
    print("engine stopped" if was_running else "engine was not running")
    return ExitCode.OK


def _status(args: argparse.Namespace) -> ExitCode:
    cfg = EngineConfig.from_env()
    result = server.status(cfg)
    print(result.to_json() if args.json else result.describe())
    return ExitCode.OK if result.running else ExitCode.FINDINGS
