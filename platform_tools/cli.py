"""``platform-tools``: a thin command line over the pure modules of this package.

Each command module exposes ``register(subparsers)``; the handler it installs takes the
parsed arguments and returns an :class:`~platform_tools.exit_codes.ExitCode`. Expected
failures are raised as :class:`~platform_tools.errors.PlatformError` and printed here as one
line, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from platform_tools import __version__
from platform_tools.errors import PlatformError
from platform_tools.exit_codes import ExitCode

# Command modules, in the order their commands appear in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "platform_tools.engine.cli",
    "platform_tools.deps.cli",
    "platform_tools.cost.cli",
    "platform_tools.observe.cli",
    "platform_tools.report.cli",
    "platform_tools.landing.cli",
    "platform_tools.hub.cli",
    "platform_tools.pr.cli",
    "platform_tools.soak.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered command."""
    parser = argparse.ArgumentParser(
        prog="platform-tools",
        description=(
            "GridUnion Continental platform tools: run the embedded Delta Lake engine, "
            "generate the landing zone and analyse dbt artifacts per team."
        ),
        epilog="Exit codes: 0 ok, 1 findings, 2 usage or configuration error, 3 artifact problem.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``platform-tools`` console script."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        return int(handler(args))
    except PlatformError as exc:
        print(f"platform-tools: error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("platform-tools: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
