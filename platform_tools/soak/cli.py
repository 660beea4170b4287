"""``platform-tools soak``: a long life of the platform, reconciled after every day."""

from __future__ import annotations

import argparse
import secrets
from pathlib import Path
from typing import Any

from platform_tools.cliutil import iso_date
from platform_tools.engine.config import find_project_dir
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.landing.defaults import DEFAULT_FAULT_RATE, DEFAULT_SEED, DEFAULT_START


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "soak",
        help="land a world day by day, build each day through the hub, reconcile with truth",
        description=(
            "Land DAYS days of one generated world into a new lakehouse, one day at a time; "
            "after each day the hub stages and builds it (warm dbt session, writer lock), then "
            "gold is reconciled exactly with the generator's truth: metering per region and "
            "day, invoice amounts per country and billing period, quarantined rows per ingest "
            "day and reason, corrupt files, and no public table holding a row twice; every "
            "RERUN-th day is built again and every public table must stay identical. One line "
            "per day on stdout and <lakehouse>/_soak/days.jsonl. Exit 0 when every day "
            "passes, 1 otherwise."
        ),
    )
    parser.add_argument("--days", type=int, default=60, metavar="D", help="days (default 60)")
    parser.add_argument("--meters", type=int, default=200, metavar="N", help="meters (default 200)")
    parser.add_argument(
        "--seed",
        type=int,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"world seed (default {DEFAULT_SEED})",
    )
    parser.add_argument(
        "--start",
        type=iso_date,
        default=DEFAULT_START,
        metavar="YYYY-MM-DD",
        help=f"first day (default {DEFAULT_START})",
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=DEFAULT_FAULT_RATE,
        metavar="F",
        help=f"share of faulty readings (default {DEFAULT_FAULT_RATE})",
    )
    parser.add_argument(
        "--rerun-every",
        type=int,
        default=1,
        metavar="K",
        help="build every K-th day twice and compare (default 1; 0: never)",
    )
    parser.add_argument(
        "--lakehouse",
        type=Path,
        required=True,
        metavar="DIR",
        help="a new or empty directory for the soak's lakehouse",
    )
    parser.add_argument(
        "--project-dir",
        type=Path,
        default=None,
        help="the dbt project (default: the one containing the current directory)",
    )
    parser.set_defaults(handler=_soak)


def _soak(args: argparse.Namespace) -> ExitCode:
    from platform_tools.landing.generator import GenerateParams
    from platform_tools.soak.life import run_soak

    lakehouse = args.lakehouse.resolve()
    if lakehouse.exists() and (not lakehouse.is_dir() or any(lakehouse.iterdir())):
        raise UsageError(f"--lakehouse {lakehouse} is not empty; give a new directory")
    if args.rerun_every < 0:
        raise UsageError(f"--rerun-every {args.rerun_every} is negative; use 0 or more")
    params = GenerateParams(
        meters=args.meters,
        days=args.days,
        start=args.start,
        seed=args.seed,
        fault_rate=args.fault_rate,
    )
    params.validate()
    project_dir = (args.project_dir or find_project_dir()).resolve()
    pepper = lakehouse / "_secrets" / "pii_pepper"
    pepper.parent.mkdir(parents=True, exist_ok=True)
    pepper.write_text(secrets.token_hex(32) + "\n")
    pepper.chmod(0o600)
    results = run_soak(
        lakehouse=lakehouse,
        project_dir=project_dir,
        params=params,
        rerun_every=args.rerun_every,
        emit=lambda line: print(line, flush=True),
    )
    failed = [r.day for r in results if not r.ok]
    print(
        f"soak: {len(results) - len(failed)}/{len(results)} day(s) passed"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return ExitCode.OK if not failed else ExitCode.FINDINGS
