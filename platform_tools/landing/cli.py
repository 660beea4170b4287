"""``platform-tools landing generate | stage``."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

from platform_tools.engine.config import EngineConfig
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.landing.defaults import (
    DEFAULT_DAYS,
    DEFAULT_FAULT_RATE,
    DEFAULT_METERS,
    DEFAULT_SEED,
    DEFAULT_START,
)

STAGING_DIR_NAME = "staging"
STAGING_DIR_ENV = "GRIDUNION_STAGING_DIR"


def staging_dir(lakehouse: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where `landing stage` writes: ``GRIDUNION_STAGING_DIR``, else ``<lakehouse>/staging``.

    On a cluster the engine must read the same files: point this at shared storage mounted
    here (NFS, an HDFS/S3/ABFS mount) and ``GRIDUNION_STAGING_URI`` at the same folder as the
    cluster names it (``hdfs://…``, ``s3a://…``, ``abfss://…``); the bronze macros read that.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(STAGING_DIR_ENV, "").strip()
    if not explicit:
        return lakehouse / STAGING_DIR_NAME
    if "://" in explicit and not explicit.startswith("file://"):
        raise UsageError(
            f"{STAGING_DIR_ENV}={explicit!r} is a URI; staging writes a local or mounted "
            "directory: set it to the mount point and GRIDUNION_STAGING_URI to the URI"
        )
    return Path(explicit.removeprefix("file://")).expanduser().resolve()


def _iso_date(text: str) -> date:
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


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
            "luxpower (semicolon CSV) for DAYS days from START: readings, meters, customers, "
            "contracts and tariffs, with duplicates, corrected re-sends, late arrivals, "
            "negative, implausible, unknown-meter, unparsable and too-late readings, the DST "
            "fall-back hour, a schema drift on the last day and one corrupt file; plus "
            "<out>/_truth/YYYY-MM-DD.json per day. The same arguments always give "
            "byte-identical files; existing files are overwritten, none are deleted."
        ),
    )
    gen.add_argument(
        "--meters", type=int, default=DEFAULT_METERS, metavar="N",
        help=f"meters in the meter masters, split 40/30/20/10 %% (default {DEFAULT_METERS})",
    )
    gen.add_argument(
        "--days", type=int, default=DEFAULT_DAYS, metavar="D",
        help=f"generated ingest days (default {DEFAULT_DAYS})",
    )
    gen.add_argument(
        "--start", type=_iso_date, default=DEFAULT_START, metavar="YYYY-MM-DD",
        help=f"first ingest day, UTC (default {DEFAULT_START}, so the DST fall-back day "
        "2024-10-27 is in range)",
    )
    gen.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, metavar="S",
        help=f"random seed (default {DEFAULT_SEED})",
    )
    gen.add_argument(
        "--readings-per-day", type=int, default=None, metavar="R",
        help="hourly readings per day over all systems, at most 24 x meters "
        "(default 24 x meters: every meter every hour)",
    )
    gen.add_argument(
        "--fault-rate", type=float, default=DEFAULT_FAULT_RATE, metavar="F",
        help=f"share of readings that get a fault, 0..0.5 (default {DEFAULT_FAULT_RATE}; "
        "with F > 0 every applicable fault kind occurs at least once per system and day "
        "while there are readings enough)",
    )
    gen.add_argument(
        "--out", type=Path, default=None, metavar="DIR",
        help="output directory (default <lakehouse>/landing)",
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
    from platform_tools.landing.generator import GenerateParams, generate  # numpy: import late

    params = GenerateParams(
        meters=args.meters,
        days=args.days,
        start=args.start,
        seed=args.seed,
        readings_per_day=args.readings_per_day,
        fault_rate=args.fault_rate,
    )
    params.validate()
    out = args.out if args.out is not None else EngineConfig.from_env().landing
    started = time.monotonic()
    summary = generate(params, out)
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
        summary = stage(landing, staging)
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
