"""``platform-tools rules``: every rule code of the platform (GU, BC, PR) with its documentation."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from platform_tools.cliutil import write_output
from platform_tools.engine.config import find_project_dir
from platform_tools.exit_codes import ExitCode
from platform_tools.rules import docs
from platform_tools.rules.formats import FORMATS, render
from platform_tools.rules.rulebook import FAMILIES, rules


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "rules",
        help="list every rule of the platform (GU, BC, PR codes) with its documentation",
        description=(
            "List the platform's rules: the GU ownership rules and BC breaking changes of "
            "`platform-tools deps`, and the PR change rules of `platform-tools pr-contracts`; "
            "for each its code, severity, summary, rationale, example and fix, read from the "
            "rule's docstring in platform_tools/rules/. --write-docs regenerates the rules "
            "section of docs/platform_tools.md; --check-docs exits 1 when it is out of date."
        ),
    )
    parser.add_argument("--format", choices=FORMATS, default=FORMATS[0],
                        help=f"output format (default: {FORMATS[0]})")
    parser.add_argument("--family", choices=tuple(FAMILIES), type=str.upper, default=None,
                        help="only this family's rules")
    parser.add_argument("--output", "-o", type=Path, default=None, metavar="FILE",
                        help="write the output to FILE instead of standard output")
    docs_action = parser.add_mutually_exclusive_group()
    docs_action.add_argument(
        "--write-docs", nargs="?", const=docs.DOCS_FILE, default=None, type=Path,
        metavar="FILE", help=f"rewrite the rules section of FILE (default: {docs.DOCS_FILE} "
        "of the project) between its <!-- rules:start --> and <!-- rules:end --> lines",
    )
    docs_action.add_argument(
        "--check-docs", nargs="?", const=docs.DOCS_FILE, default=None, type=Path,
        metavar="FILE", help="exit 1 when the rules section of FILE is not what the "
        "docstrings generate",
    )
    parser.set_defaults(handler=handle)


def _docs_path(path: Path) -> Path:
    return path if path.is_absolute() or path.exists() else find_project_dir() / path


def handle(args: argparse.Namespace) -> ExitCode:
    if args.write_docs is not None:
        path = _docs_path(args.write_docs)
        changed = docs.write(path)
        print(f"{path}: rules section {'rewritten' if changed else 'already up to date'}")
        return ExitCode.OK
    if args.check_docs is not None:
        path = _docs_path(args.check_docs)
        if docs.is_current(path):
            print(f"{path}: rules section up to date")
            return ExitCode.OK
        print(f"{path}: the rules section differs from the rules' docstrings; run "
              f"`{docs.REGENERATE}`", file=sys.stderr)
        return ExitCode.FINDINGS
    write_output(render(rules(args.family).values(), args.format), args.output)
    return ExitCode.OK
