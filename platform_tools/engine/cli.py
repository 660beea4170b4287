"""``platform-tools engine up | down | status``."""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial
from typing import Any

from platform_tools.engine import server
from platform_tools.engine.config import EngineConfig
from platform_tools.exit_codes import ExitCode

ENGINES = ("sail", "spark-cluster")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "engine",
        help="start, stop or inspect the embedded Sail engine or the local Spark cluster",
        description=(
            "Manage the embedded Sail engine (Spark Connect on 127.0.0.1) that serves the "
            "`local` dbt target. Its lakehouse is GRIDUNION_LAKEHOUSE (default "
            "<project>/.lakehouse), its port GRIDUNION_ENGINE_PORT (default 50051). dbt starts "
            "the engine on demand, so `engine up` is only needed to use it without dbt. "
            "`--engine spark-cluster` manages a Spark standalone master, workers and the Spark "
            "Thrift Server on 127.0.0.1 instead (the `cluster` target; free ports, recorded in "
            "<lakehouse>/_engine/spark-cluster/cluster.json); dbt never starts it on demand."
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
    maintain = actions.add_parser(
        "maintain",
        help="compact and checkpoint the embedded engine's Delta tables (dbt does it after "
        "every writing command)",
        description=(
            "Compact the small data files of the Delta tables in <lakehouse>/warehouse and "
            "write a checkpoint, for every table where compaction would remove 10 files or "
            "more (small files beyond one per partition) or with 10 commits since its last "
            "checkpoint (every table with --all). Holds the writer lock (waits like a build, "
            "GRIDUNION_LOCK_TIMEOUT). Sail never compacts; Spark's Delta Lake compacts with "
            "OPTIMIZE. Nothing is deleted (no VACUUM). Exit 0 when every table "
            "was maintained, 1 when one could not be (it is left unchanged)."
        ),
    )
    maintain.add_argument("--all", action="store_true", help="every table, due or not")
    maintain.set_defaults(handler=_maintain, engine="sail")
    for action in (up, down, status):
        action.add_argument(
            "--engine", choices=ENGINES, default="sail",
            help="sail (default): the embedded engine of the `local` target; spark-cluster: "
            "a Spark standalone cluster with the Thrift Server (the `cluster` target)",
        )  # fmt: skip


def _cluster_settings() -> Any:
    from platform_tools.engine.spark_cluster import ClusterSettings

    return ClusterSettings.from_env(EngineConfig.from_env().lakehouse)


def _up(args: argparse.Namespace) -> ExitCode:
    if args.engine == "spark-cluster":
        return _cluster_up()
    cfg = EngineConfig.from_env()
    started = time.monotonic()
    result = server.up(cfg)
    print(f"{result.describe()} ({time.monotonic() - started:.1f} s)")
    return ExitCode.OK


def _down(args: argparse.Namespace) -> ExitCode:
    if args.engine == "spark-cluster":
        from platform_tools.engine import spark_cluster

        stopped = spark_cluster.down(_cluster_settings())
        print(f"spark-cluster stopped: {', '.join(stopped)}" if stopped
              else "spark-cluster was not running")  # fmt: skip
        return ExitCode.OK
    cfg = EngineConfig.from_env()
    was_running = server.down(cfg)
    print("engine stopped" if was_running else "engine was not running")
    return ExitCode.OK


def _status(args: argparse.Namespace) -> ExitCode:
    if args.engine == "spark-cluster":
        from platform_tools.engine import spark_cluster

        cluster = spark_cluster.status(_cluster_settings())
        print(cluster.to_json() if args.json else cluster.describe())
        return ExitCode.OK if cluster.running else ExitCode.FINDINGS
    cfg = EngineConfig.from_env()
    result = server.status(cfg)
    print(result.to_json() if args.json else result.describe())
    return ExitCode.OK if result.running else ExitCode.FINDINGS


def _cluster_up() -> ExitCode:
    from platform_tools.engine import spark_cluster

    started = time.monotonic()
    cluster = spark_cluster.up(_cluster_settings())
    print(f"{cluster.describe()}\n({time.monotonic() - started:.1f} s)")
    return ExitCode.OK


def _maintain(args: argparse.Namespace) -> ExitCode:
    from platform_tools.engine.maintenance import upkeep
    from platform_tools.writer_lock import writer_lock

    cfg = EngineConfig.from_env()
    started = time.monotonic()
    notify = partial(print, file=sys.stderr)
    with writer_lock(cfg.lakehouse, "platform-tools engine maintain", notify=notify):
        done = upkeep(cfg.warehouse, force=args.all, on_table=lambda r: print(r.line()))
    failed = sum(1 for result in done if result.error)
    print(f"{len(done) - failed} of {len(done)} due table(s) of {cfg.warehouse} maintained "
          f"({time.monotonic() - started:.1f} s)")  # fmt: skip
    return ExitCode.FINDINGS if failed else ExitCode.OK
