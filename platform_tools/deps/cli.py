"""``platform-tools deps``: cross-team dependency checks and breaking-change detection."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from platform_tools.artifacts.answers import Answers, file_part
from platform_tools.artifacts.codec import encode
from platform_tools.artifacts.manifest import Manifest, load_manifest
from platform_tools.artifacts.settings import load_settings
from platform_tools.artifacts.target import (
    CATALOG,
    MANIFEST,
    Need,
    load_target,
    resolve_target_dir,
)
from platform_tools.cliutil import add_common_arguments, without_gc, write_output
from platform_tools.deps import checks
from platform_tools.deps.checks import RULES
from platform_tools.deps.formats import FORMATS, render
from platform_tools.deps.model import DepsReport
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "deps",
        help="cross-team dependency report, ownership rules and breaking changes",
        description=(
            "Check the manifest against the platform's cross-team rules (GU codes; "
            "--list-rules), report who depends on whom per team, and with --baseline list the "
            "breaking changes against another manifest and the teams and exposures they hit. "
            "Exit 1 when an error-severity finding or breaking change is reported. "
            "`platform-tools rules` documents every code."
        ),
    )
    add_common_arguments(parser, FORMATS)
    parser.add_argument(
        "--baseline", type=Path, default=None, metavar="MANIFEST",
        help="baseline manifest.json (or a directory holding one) to detect breaking changes",
    )
    parser.add_argument(
        "--new-only", action="store_true",
        help="with --baseline: fail only on findings the change introduces",
    )
    parser.add_argument("--team", action="append", default=[], metavar="TEAM",
                        help="report only what concerns this team (repeatable)")
    parser.add_argument("--domain", action="append", default=[], metavar="DOMAIN",
                        help="report only what concerns this domain (repeatable)")
    parser.add_argument("--disable", action="append", default=[], metavar="CODE",
                        help="do not run this rule (repeatable)")
    parser.add_argument("--list-rules", action="store_true",
                        help="print every rule's code, severity and documentation, then exit")
    parser.set_defaults(handler=handle)


def _baseline_path(path: Path) -> Path:
    return path / "manifest.json" if path.is_dir() else path


def _load_baseline(path: Path) -> Manifest:
    return load_manifest(_baseline_path(path))


def list_rules() -> str:
    """The GU rules deps runs, with their documentation, and where the others are listed."""
    blocks = []
    for code, rule in sorted(RULES.items()):
        blocks.append(f"{code} {rule.name} [{rule.severity_label}]\n\n{rule.doc}\n")
    blocks.append("Breaking changes (BC, with --baseline) and the pull-request change rules (PR): "
                  "`platform-tools rules` lists every rule of the platform.\n")
    return "\n".join(blocks)


@without_gc
def handle(args: argparse.Namespace) -> ExitCode:
    if args.list_rules:
        write_output(list_rules(), args.output)
        return ExitCode.OK
    if args.new_only and args.baseline is None:
        raise UsageError("--new-only needs --baseline <manifest.json> to compare against")
    config = checks.DepsConfig.from_settings(load_settings(args.config))
    if args.disable:
        config = config.with_disabled(args.disable)
    answers = Answers.of(args.target_dir, "deps", lambda target_dir: [
        file_part(target_dir / MANIFEST), file_part(target_dir / CATALOG),
        None if args.baseline is None else file_part(_baseline_path(args.baseline)),
        encode(config), args.new_only,
    ])
    report = answers.load(DepsReport)
    if report is None:
        target = load_target(
            resolve_target_dir(args.target_dir),
            run_results=Need.SKIP, sources=Need.SKIP, catalog=Need.OPTIONAL,
        )
        baseline = _load_baseline(args.baseline) if args.baseline is not None else None
        report = checks.run(
            target.manifest, config, baseline=baseline, new_only=args.new_only,
            catalog=target.catalog,
        )
        answers.store(report)
    report = report.filtered(set(args.team) or None, set(args.domain) or None)
    write_output(render(report, args.format), args.output)
    return ExitCode.FINDINGS if report.failed else ExitCode.OK
