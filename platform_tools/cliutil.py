"""Options and output handling shared by the commands: the CLI layer's helpers, the only
place besides the ``*/cli.py`` modules that knows argparse."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from platform_tools.artifacts._io import paused_gc
from platform_tools.artifacts.target import DEFAULT_TARGET_DIR, TARGET_DIR_ENV
from platform_tools.errors import UsageError
from platform_tools.timeutil import parse_time


def add_target_dir_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--target-dir`` (default ``$DBT_TARGET_PATH`` or ``target``) to ``parser``."""
    parser.add_argument(
        "--target-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help=(
            "dbt's target directory holding manifest.json, run_results.json, sources.json and "
            f"catalog.json (default: ${TARGET_DIR_ENV} or ./{DEFAULT_TARGET_DIR})"
        ),
    )


def add_common_arguments(
    parser: argparse.ArgumentParser, formats: tuple[str, ...], *, config: bool = True
) -> None:
    """``--target-dir``, ``--format``, ``--output`` and (optionally) ``--config``."""
    add_target_dir_argument(parser)
    parser.add_argument(
        "--format",
        choices=formats,
        default=formats[0],
        help=f"output format (default: {formats[0]})",
    )
    parser.add_argument(
        "--output", "-o", type=Path, default=None, metavar="FILE",
        help="write the output to FILE instead of standard output",
    )
    if config:
        parser.add_argument(
            "--config", type=Path, default=None, metavar="FILE",
            help="configuration file (default: $PLATFORM_TOOLS_CONFIG or "
            "<project>/platform_tools.toml when it exists)",
        )


def write_output(text: str, output: Path | None) -> None:
    """Print ``text`` or write it to ``output`` (parent directories created)."""
    if output is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{output}: cannot write the output ({exc.strerror}); fix --output")\
            from None


def print_note(note: str | None) -> None:
    """One line on standard error saying what a command used instead of what it was given."""
    if note:
        print(f"platform-tools: note: {note}", file=sys.stderr)


def add_lakehouse_arguments(parser: argparse.ArgumentParser) -> None:
    """``--lakehouse`` and ``--history-dir``."""
    parser.add_argument(
        "--lakehouse", type=Path, default=None, metavar="DIR",
        help="the lakehouse (default: $GRIDUNION_LAKEHOUSE or <project>/.lakehouse); tables are "
        "read from DIR/warehouse, run history from DIR/_history",
    )
    parser.add_argument(
        "--history-dir", type=Path, default=None, metavar="DIR",
        help="run history directory (default: <lakehouse>/_history)",
    )


def resolve_lakehouse(value: Path | None) -> Path:
    if value is not None:
        return value
    from platform_tools.engine.config import EngineConfig

    return EngineConfig.from_env().lakehouse


def resolve_history_dir(args: argparse.Namespace) -> Path:
    if getattr(args, "history_dir", None) is not None:
        return Path(args.history_dir)
    return resolve_lakehouse(getattr(args, "lakehouse", None)) / "_history"


def parse_now(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    moment = parse_time(value)
    if moment is None:
        raise UsageError(f"--now {value!r}: expected an ISO time such as 2026-01-05T06:00:00Z")
    return moment


def iso_date(text: str) -> date:
    """An argparse ``type``: a date written ``YYYY-MM-DD``."""
    try:
        if len(text) != 10:
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


R = TypeVar("R")


def without_gc(handler: Callable[[argparse.Namespace], R]) -> Callable[[argparse.Namespace], R]:
    """Run a command handler with the cyclic garbage collector paused (see
    :func:`~platform_tools.artifacts._io.paused_gc`): a short-lived process over a large
    manifest spends more time collecting than computing otherwise."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> R:
        with paused_gc():
            return handler(args)

    return run
