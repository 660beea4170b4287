"""``platform-tools``: a thin command line over the pure modules of this package.

Each command module exposes ``register(subparsers)``; the handler it installs takes the
parsed arguments and returns an :class:`~platform_tools.exit_codes.ExitCode`. Expected
failures are raised as :class:`~platform_tools.errors.PlatformError` and printed here as one
line, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from platform_tools import __version__
from platform_tools.errors import PlatformError
from platform_tools.exit_codes import ExitCode

# Each command module and the commands it registers (aliases too), in the order they appear in
# ``--help``.
COMMANDS: dict[str, tuple[str, ...]] = {
    "platform_tools.engine.cli": ("engine",),
    "platform_tools.deps.cli": ("deps",),
    "platform_tools.rules.cli": ("rules",),
    "platform_tools.cost.cli": ("cost",),
    "platform_tools.observe.cli": ("observe",),
    "platform_tools.report.cli": ("report",),
    "platform_tools.landing.cli": ("landing",),
    "platform_tools.hub.cli": ("hub",),
    "platform_tools.pr.cli": ("pr-check", "pr-contracts", "pr-ci"),
    "platform_tools.products.cli": ("products", "catalog"),  # catalog: the old name (alias)
    "platform_tools.soak.cli": ("soak",),
}
COMMAND_MODULES: tuple[str, ...] = tuple(COMMANDS)

# The module that registers a command: ``main`` imports only that module (importing every
# command module costs about a tenth of a second of CPU); any other first argument builds the
# whole parser. A name whose module does not register it falls back to the whole parser too.
_COMMAND_MODULE: dict[str, str] = {
    command: module for module, commands in COMMANDS.items() for command in commands
}


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered command."""
    parser, subparsers = _top_parser()
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for ``argv``: the top-level parser with only the command's module
    registered when the first argument names a command of ``_COMMAND_MODULE``, else the
    whole parser. Both parse the command's arguments alike."""
    module_name = _COMMAND_MODULE.get(argv[0]) if argv else None
    if module_name is None:
        return build_parser()
    parser, subparsers = _top_parser()
    importlib.import_module(module_name).register(subparsers)
    if argv[0] not in subparsers.choices:
        return build_parser()
    return parser


_Subparsers = argparse._SubParsersAction  # the type of add_subparsers()


def _top_parser() -> tuple[argparse.ArgumentParser, _Subparsers[argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(
        prog="platform-tools",
        description=(
            "GridUnion Continental platform tools: run the embedded Delta Lake engine, "
            "generate the landing zone and analyse dbt artifacts per team."
        ),
        epilog=(
            "Exit codes: 0 ok, 1 findings, 2 usage or configuration error, 3 artifact problem, "
            "4 lakehouse busy, 130 interrupted, 141 output reader went away."
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser, subparsers


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``platform-tools`` console script."""
    parser = parser_for(sys.argv[1:] if argv is None else list(argv))
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors and 0 on --help
        return int(exc.code or 0)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return int(ExitCode.USAGE)
    try:
        code = int(handler(args))
        sys.stdout.flush()  # here, not at exit: a reader that went away is a broken pipe
        return code
    except PlatformError as exc:
        print(f"platform-tools: error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    except BrokenPipeError:
        _discard_stdout()
        return int(ExitCode.BROKEN_PIPE)
    except OSError as exc:
        print(f"platform-tools: error: {os_error_message(exc, args)}", file=sys.stderr)
        return int(ExitCode.USAGE)
    except KeyboardInterrupt:
        print("platform-tools: interrupted", file=sys.stderr)
        return int(ExitCode.INTERRUPTED)


def os_error_message(exc: OSError, args: argparse.Namespace) -> str:
    """One line for a file the command could not read or write, naming the argument whose
    path contains it (``--out``, ``--staging``, ...) when there is one."""
    filename = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or exc.__class__.__name__
    where = f"{filename}: {reason}" if filename else reason
    argument = argument_holding(str(filename), args) if filename else None
    command = " ".join(str(v) for v in (args.command, getattr(args, "action", None)) if v)
    remedy = (
        f"give {argument} a folder you can write to"
        if argument
        else "check the paths and the lakehouse (GRIDUNION_LAKEHOUSE) of this command"
    )
    return f"{command}: cannot use {where}; {remedy}"


def argument_holding(filename: str, args: argparse.Namespace) -> str | None:
    """The option (``--name``) whose path value is ``filename`` or one of its parents."""
    target = os.path.abspath(filename)
    best: tuple[int, str] | None = None
    for name, value in vars(args).items():
        if not isinstance(value, (str, os.PathLike)) or name in {"command", "action"}:
            continue
        path = os.path.abspath(os.fspath(value))
        inside = target == path or target.startswith(path.rstrip(os.sep) + os.sep)
        if inside and (best is None or len(path) > best[0]):
            best = (len(path), "--" + name.replace("_", "-"))
    return best[1] if best else None


def _discard_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
