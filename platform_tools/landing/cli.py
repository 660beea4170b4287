"""``platform-tools landing generate | stage``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from platform_tools.cliutil import iso_date
from platform_tools.engine.config import EngineConfig
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.landing.defaults import (
    DEFAULT_DAYS,
    DEFAULT_FAULT_RATE,
    DEFAULT_METERS,
    DEFAULT_SEED,
    DEFAULT_START,
    staging_dir,
)
from platform_tools.progress import terminal


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "landing",
        help="generate the four source systems' landing zone, or stage it for dbt",
        description=(
            "The landing zone (<lakehouse>/landing, GRIDUNION_LAKEHOUSE) holds the files of "
            "the four acquired source systems as "
            "<system>/<entity>/ingest_date=YYYY-MM-DD/<file>. `generate` writes a "
            "deterministic synthetic one with injected faults and a truth file per day; "
            "`stage` turns it into the uniform Parquet layout dbt reads. See docs/landing.md."
        ),
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    gen = actions.add_parser(
        "generate",
        help="write a deterministic landing zone (four systems, faults, truth files)",
        description=(
            "Write the files of nordgrid (CSV), electra (JSON lines), dutchgrid (Parquet) and "
            "luxpower (semicolon CSV) for DAYS days of a world that goes on: readings, "
            "meters, customers, contracts and tariffs, with duplicates, corrected re-sends, "
            "late arrivals, negative, implausible, unknown-meter, unparsable, too-late and "
            "future-dated readings, the DST fall-back hour and a schema drift; weekly full "
            "exports, price changes, retroactive price and reading corrections, contract "
            "starts and ends, corrupt, late, backfilled and re-delivered files every ten days (see "
            "docs/landing.md); plus <out>/_truth/YYYY-MM-DD.json per day and "
            "<out>/_truth/billing.json. The world is recorded in <out>/_world.json and "
            "--continue lands its next days; a day's files depend only on the world and the "
            "day, so a world landed day by day equals the same world landed at once. "
            "Existing files are overwritten with identical bytes, none are deleted."
        ),
    )
    gen.add_argument(
        "--meters", type=int, default=None, metavar="N",
        help=f"meters in the meter masters, split 40/30/20/10 %% (default {DEFAULT_METERS})",
    )
    gen.add_argument(
        "--days", type=int, default=None, metavar="D",
        help=f"generated ingest days (default {DEFAULT_DAYS}; 1 with --continue)",
    )
    gen.add_argument(
        "--start", type=iso_date, default=None, metavar="YYYY-MM-DD",
        help=f"first ingest day, UTC (default {DEFAULT_START}, so the DST fall-back day "
        "2024-10-27 is in range); inside an existing world: one of its days or its next day",
    )
    gen.add_argument(
        "--seed", type=int, default=None, metavar="S",
        help=f"random seed (default {DEFAULT_SEED})",
    )
    gen.add_argument(
        "--readings-per-day", type=int, default=None, metavar="R",
        help="hourly readings per day over all systems, at most 24 x meters "
        "(default 24 x meters: every meter every hour)",
    )
    gen.add_argument(
        "--fault-rate", type=float, default=None, metavar="F",
        help=f"share of readings that get a fault, 0..0.5 (default {DEFAULT_FAULT_RATE}; "
        "with F > 0 every applicable fault kind occurs at least once per system and day "
        "while there are readings enough)",
    )
    gen.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="output directory (default <lakehouse>/landing)",
    )
    mode = gen.add_mutually_exclusive_group()
    mode.add_argument(
        "--continue", dest="continue_world", action="store_true",
        help="land the next DAYS days of the world in the output directory (its "
        "_world.json gives seed, meters, start and rates)",
    )
    mode.add_argument(
        "--new-world", action="store_true",
        help="start a new world at START even if the output directory holds one (its files "
        "stay; only the truth files of the days generated are replaced)",
    )
    gen.set_defaults(handler=_generate)

    stg = actions.add_parser(
        "stage",
        help="stage new or changed landing files as uniform Parquet for dbt",
        description=(
            "Write <staging>/<system>/<entity>/ingest_date=D/<file>.parquet for every landing "
            "file (columns _source_file, _ingest_date, _row_number, _record, _parse_error) "
            "and the manifest <staging>/_manifest/manifest.parquet. A file whose SHA-256 is "
            "unchanged is skipped (one whose size and mtime match the manifest is not even "
            "read), so staging twice changes nothing. An unreadable file is recorded as "
            "corrupt and reported; that is not an error (exit 0)."
        ),
    )
    stg.add_argument(
        "--landing", type=Path, default=None, metavar="DIR",
        help="landing zone (default <lakehouse>/landing)",
    )
    stg.add_argument(
        "--staging", type=Path, default=None, metavar="DIR",
        help="staging directory (default GRIDUNION_STAGING_DIR, else <lakehouse>/staging)",
    )
    stg.set_defaults(handler=_stage)


def _generate(args: argparse.Namespace) -> ExitCode:
    # numpy: import late
    from platform_tools.landing.generator import GenerateParams, continuation, generate

    out = args.out if args.out is not None else EngineConfig.from_env().landing
    if args.continue_world:
        if args.start is not None:
            raise UsageError("--continue lands the world's next day itself; drop --start")
        world = continuation(out, args.days if args.days is not None else 1)
        given = {
            "meters": args.meters, "seed": args.seed,
            "readings_per_day": args.readings_per_day, "fault_rate": args.fault_rate,
        }
        for name, value in given.items():
            if value is not None and value != getattr(world, name):
                flag = "--" + name.replace("_", "-")
                raise UsageError(
                    f"{flag} {value} differs from the world in {out} "
                    f"({flag} {getattr(world, name)}); drop it with --continue"
                )
        params = world
    else:
        params = GenerateParams(
            meters=_or(args.meters, DEFAULT_METERS),
            days=_or(args.days, DEFAULT_DAYS),
            start=_or(args.start, DEFAULT_START),
            seed=_or(args.seed, DEFAULT_SEED),
            readings_per_day=args.readings_per_day,
            fault_rate=_or(args.fault_rate, DEFAULT_FAULT_RATE),
        )
    params.validate()
    started = time.monotonic()
    summary = generate(params, out, new_world=args.new_world, progress=terminal())
    elapsed = time.monotonic() - started
    print(
        f"generated {len(summary.dates)} day(s) from {summary.dates[0]} into {summary.out}: "
        f"{summary.files} files, {summary.rows:,} rows, {summary.bytes / 1e6:.1f} MB "
        f"({elapsed:.1f} s)"
    )
    print(
        f"  {params.meters:,} meters, {params.readings:,} readings/day, seed {params.seed}, "
        f"fault rate {params.fault_rate}"
    )
    for path in summary.corrupt_files:
        print(f"  corrupt file (on purpose): {path}")
    print(f"  truth: {summary.truth_dir}")
    return ExitCode.OK


def _or(value: Any, default: Any) -> Any:
    return default if value is None else value


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _stage(args: argparse.Namespace) -> ExitCode:
    from platform_tools.landing.stage import stage  # pyarrow: import late
    from platform_tools.writer_lock import writer_lock

    cfg = EngineConfig.from_env()
    landing = args.landing if args.landing is not None else cfg.landing
    staging = args.staging if args.staging is not None else staging_dir(cfg.lakehouse)
    if landing == staging:
        raise UsageError("--landing and --staging are the same directory")
    started = time.monotonic()
    # staging rewrites the manifest that bronze reads: one writer of the lakehouse at a time
    with writer_lock(cfg.lakehouse, "platform-tools landing stage", notify=_stderr):
        summary = stage(landing, staging, progress=terminal())
    elapsed = time.monotonic() - started
    print(
        f"staged {len(summary.staged)} file(s) ({summary.rows_staged:,} rows), "
        f"{summary.unchanged} unchanged, {len(summary.corrupt_new)} corrupt "
        f"({elapsed:.1f} s)"
    )
    for path, error in summary.corrupt_new:
        print(f"  corrupt: {path}: {error}")
    for path, error in summary.corrupt_known:
        print(f"  corrupt (known, unchanged): {path}: {error}")
    if summary.ignored:
        print(f"  ignored {len(summary.ignored)} file(s) outside <system>/<entity>/ingest_date=D/")
    for path in summary.withdrawn:
        print(f"  withdrawn (no longer in the landing zone; not loaded again): {path}")
    print(f"  manifest: {summary.manifest}{'' if summary.manifest_written else ' (unchanged)'}")
    return ExitCode.OK
