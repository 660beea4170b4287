"""``platform-tools products --out DIR``: the data products as HTML and Markdown."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from platform_tools.artifacts.runs import target_run
from platform_tools.artifacts.settings import load_settings
from platform_tools.artifacts.target import (
    RUN_RESULTS,
    Need,
    load_target,
    resolve_target_dir,
)
from platform_tools.cliutil import (
    add_lakehouse_arguments,
    add_target_dir_argument,
    parse_now,
    print_note,
    resolve_history_dir,
    resolve_lakehouse,
    without_gc,
)
from platform_tools.exit_codes import ExitCode
from platform_tools.observe import health
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import load_history, runs_with_target
from platform_tools.products import build, render


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "products",
        aliases=["catalog"],
        help="data products: public models by domain, owners, SLAs, versions, health "
        "(`catalog`: the old name, still accepted)",
        description=(
            "Write DIR/products.html (self-contained) and DIR/products.md: every public model "
            "by domain with its owner, tier and SLA, contract, version status (current, "
            "older, deprecated with date), consumers (teams reading it, exposures downstream) "
            "and its latest health from the run history (`platform-tools observe`). "
            "`platform-tools catalog` is the old name of this command and still works."
        ),
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="directory to write products.html and products.md into")
    parser.add_argument("--markdown", type=Path, default=None, metavar="FILE",
                        help="also write the Markdown here (e.g. docs/products.md), without "
                        "docs-site links")
    parser.add_argument("--docs-url", default=None, metavar="URL",
                        help="link each model to its page on the dbt docs site at URL "
                        "(e.g. index.html when the page sits beside the docs site)")
    add_target_dir_argument(parser)
    add_lakehouse_arguments(parser)
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="configuration file ([observe] section)")
    parser.add_argument("--now", default=None, metavar="ISO-TIME",
                        help="evaluate freshness at this UTC time instead of now")
    parser.set_defaults(handler=handle)


@without_gc
def handle(args: argparse.Namespace) -> ExitCode:
    config = ObserveConfig.from_settings(load_settings(args.config))
    now = parse_now(args.now)
    target = load_target(resolve_target_dir(args.target_dir), run_results=Need.SKIP)
    history = load_history(resolve_history_dir(args), limit=config.runs)
    chosen = target_run(target.target_dir / RUN_RESULTS, target.manifest,
                        [r.invocation_id for r in history.runs])
    print_note(chosen.note)
    warehouse = resolve_lakehouse(args.lakehouse) / "warehouse"
    runs = runs_with_target(history, chosen.run_results, target.manifest, target.target_dir,
                            warehouse)[-config.runs:]
    report = health.run(target.manifest, runs, config, sources=target.sources, now=now)
    listing = build.build(target.manifest, report if runs else None, today=now.date())
    paths = render.write(listing, args.out, markdown=args.markdown, docs_url=args.docs_url)
    print("\n".join(f"wrote {p}" for p in paths))
    return ExitCode.OK
