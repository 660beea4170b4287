"""``platform-tools cost``: chargeback per team from run results and Delta table storage."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from platform_tools.artifacts.answers import Answers, file_part, history_part, warehouse_part
from platform_tools.artifacts.codec import encode
from platform_tools.artifacts.runs import target_run
from platform_tools.artifacts.settings import load_settings, to_decimal
from platform_tools.artifacts.target import (
    MANIFEST,
    RUN_RESULTS,
    Need,
    load_target,
    resolve_target_dir,
)
from platform_tools.cliutil import (
    add_common_arguments,
    add_lakehouse_arguments,
    print_note,
    resolve_history_dir,
    resolve_lakehouse,
    without_gc,
    write_output,
)
from platform_tools.cost import chargeback
from platform_tools.cost.config import COMPUTE_SOURCES, SHARED_RULES, CostConfig
from platform_tools.cost.formats import FORMATS, render
from platform_tools.cost.storage import warehouse_storage
from platform_tools.cost.usage import choose_usage
from platform_tools.exit_codes import ExitCode
from platform_tools.observe.history import load_history


def _decimal(flag: str) -> Any:
    def parse(value: str) -> Decimal:
        try:
            return to_decimal(value, flag)
        except Exception as exc:  # argparse turns ArgumentTypeError into a usage error
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "cost",
        help="chargeback per team: compute from run results, storage from Delta tables",
        description=(
            "Charge compute (node execution time) and storage (Delta table bytes and files) "
            "to teams; split public models among their consuming teams; break the total down "
            "by team, domain, layer and model; raise red flags. Rates come from [cost] in "
            "platform_tools.toml; flags override them."
        ),
    )
    add_common_arguments(parser, FORMATS)
    add_lakehouse_arguments(parser)
    parser.add_argument("--compute-source", choices=COMPUTE_SOURCES, default=None,
                        help="runs to charge: recorded history of the period, the target's "
                        "run_results, or auto (history when present; default from config)")
    parser.add_argument("--compute-rate", type=_decimal("--compute-rate"), default=None,
                        metavar="AMOUNT", help="price of one hour of node execution time")
    parser.add_argument("--storage-rate", type=_decimal("--storage-rate"), default=None,
                        metavar="AMOUNT", help="price of one GB of table files per month")
    parser.add_argument("--files-rate", type=_decimal("--files-rate"), default=None,
                        metavar="AMOUNT", help="price of 1,000 table files per month")
    parser.add_argument("--period-days", type=int, default=None, metavar="DAYS",
                        help="length of the statement period (storage is prorated to it)")
    parser.add_argument("--currency", default=None, help="currency label")
    parser.add_argument("--shared-rule", choices=SHARED_RULES, default=None,
                        help="equal: split public models among consumers; producer: no split")
    parser.add_argument("--max-team-share", type=float, default=None, metavar="FRACTION",
                        help="red flag when one team exceeds this share of the total")
    parser.add_argument("--team", action="append", default=[], metavar="TEAM",
                        help="show only this team's rows (repeatable); totals stay global")
    parser.add_argument("--top", type=int, default=15, metavar="N",
                        help="models listed in table/markdown output (default 15)")
    parser.add_argument("--fail-on-flags", action="store_true",
                        help="exit 1 when a red flag is raised")
    parser.set_defaults(handler=handle)


def build_config(args: argparse.Namespace) -> CostConfig:
    config = CostConfig.from_settings(load_settings(args.config))
    if args.period_days is not None and args.period_days < 1:
        from platform_tools.errors import UsageError

        raise UsageError(f"--period-days {args.period_days}: expected a whole number >= 1")
    return config.with_overrides(
        compute_per_hour=args.compute_rate,
        storage_per_gb_month=args.storage_rate,
        per_thousand_files_month=args.files_rate,
        period_days=args.period_days,
        currency=args.currency,
        shared_rule=args.shared_rule,
        max_team_share=args.max_team_share,
        compute_source=args.compute_source,
    )


@dataclass(frozen=True)
class _Answer:
    """What ``cost`` computes (cached, see answers.py): the report and the note on the
    target's run."""

    note: str | None
    report: chargeback.CostReport


def compute_report(args: argparse.Namespace, config: CostConfig) -> chargeback.CostReport:
    answers = Answers.of(args.target_dir, "cost", lambda target_dir: [
        file_part(target_dir / MANIFEST), file_part(target_dir / RUN_RESULTS),
        history_part(resolve_history_dir(args)),
        warehouse_part(resolve_lakehouse(args.lakehouse) / "warehouse"), encode(config),
    ])
    answer = answers.get(_Answer, lambda: _compute(args, config), lambda a: print_note(a.note))
    return answer.report


def _compute(args: argparse.Namespace, config: CostConfig) -> _Answer:
    target = load_target(resolve_target_dir(args.target_dir), run_results=Need.SKIP,
                         sources=Need.SKIP, catalog=Need.SKIP)
    rr_path = target.target_dir / RUN_RESULTS
    if config.compute_source == "target":
        history = None
        chosen = target_run(rr_path, target.manifest, (), prefer_history=False)
    else:
        history = load_history(resolve_history_dir(args), within_days=config.period_days)
        chosen = target_run(rr_path, target.manifest, [r.invocation_id for r in history.runs])
    usage, described = choose_usage(
        config.compute_source, target.manifest, chosen.run_results, history, config.period_days,
        set_aside=chosen.note,
    )
    print_note(chosen.note)
    warehouse = resolve_lakehouse(args.lakehouse) / "warehouse"
    storage = warehouse_storage(warehouse, target.manifest.buildable())
    report = chargeback.run(target.manifest, config, usage, storage, compute_source=described)
    return _Answer(chosen.note, report)


@without_gc
def handle(args: argparse.Namespace) -> ExitCode:
    config = build_config(args)
    report = compute_report(args, config)
    if args.team:
        wanted = set(args.team)
        report = replace(
            report,
            teams=tuple(t for t in report.teams if t.team in wanted),
            models=tuple(m for m in report.models if m.team in wanted),
            shared=tuple(s for s in report.shared
                         if s.producer in wanted or wanted.intersection(s.consumers)),
            red_flags=tuple(f for f in report.red_flags if f.team in wanted),
        )
    write_output(render(report, args.format, args.top), args.output)
    if args.fail_on_flags and report.red_flags:
        return ExitCode.FINDINGS
    return ExitCode.OK
