"""``platform-tools observe`` (health and SLAs) and ``platform-tools observe record``."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from platform_tools.artifacts.answers import Answers, file_part, history_part, warehouse_part
from platform_tools.artifacts.codec import encode
from platform_tools.artifacts.runs import target_run
from platform_tools.artifacts.settings import load_settings
from platform_tools.artifacts.target import (
    MANIFEST,
    RUN_RESULTS,
    SOURCES,
    Need,
    check_target_dir,
    load_target,
    resolve_target_dir,
)
from platform_tools.cliutil import (
    add_common_arguments,
    add_lakehouse_arguments,
    add_target_dir_argument,
    parse_now,
    print_note,
    resolve_history_dir,
    resolve_lakehouse,
    without_gc,
    write_output,
)
from platform_tools.errors import UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.observe import health
from platform_tools.observe.config import FAIL_ON, ObserveConfig
from platform_tools.observe.formats import FORMATS, render
from platform_tools.observe.history import load_history, record_run, runs_with_target


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "observe",
        help="platform health and SLAs from the run history; `observe record` stores a run",
        description=(
            "Report run success rate, durations, tests by team, source and model freshness "
            "against meta.sla.freshness_hours, volume anomalies and failures with the teams "
            "and exposures they impact, with a status per domain and a P0-P3 priority per "
            "issue. Reads the run history under <lakehouse>/_history (see `observe record`) "
            "plus the target's run_results.json when it is not recorded yet. Exit 1 when a "
            "domain is CRITICAL (see --fail-on)."
        ),
    )
    add_common_arguments(parser, FORMATS)
    add_lakehouse_arguments(parser)
    parser.add_argument("--runs", type=int, default=None, metavar="N",
                        help="recorded runs to analyse, most recent first (default 30)")
    parser.add_argument("--now", default=None, metavar="ISO-TIME",
                        help="evaluate freshness at this UTC time instead of now")
    parser.add_argument("--fail-on", choices=FAIL_ON, default=None,
                        help="exit 1 when a domain is CRITICAL (default), WARNING, or never")
    parser.set_defaults(handler=handle_report)
    actions = parser.add_subparsers(dest="action", metavar="[record]")
    record = actions.add_parser(
        "record",
        help="record the run in the target directory into the run history (idempotent)",
        description=(
            "Store run_results.json and the manifest summary of the target directory under "
            "<lakehouse>/_history/runs/<invocation_id>/, atomically. Re-recording an "
            "invocation is a no-op; failed runs are recorded too."
        ),
    )
    add_target_dir_argument(record)
    add_lakehouse_arguments(record)
    record.set_defaults(handler=handle_record)


def handle_record(args: argparse.Namespace) -> ExitCode:
    lakehouse = resolve_lakehouse(args.lakehouse)
    target_dir = resolve_target_dir(args.target_dir)
    check_target_dir(target_dir)
    result = record_run(
        target_dir,
        resolve_history_dir(args),
        warehouse=lakehouse / "warehouse",
        strict=True,
    )
    print(result.describe())
    return ExitCode.OK


@dataclass(frozen=True)
class _Answer:
    """What ``observe`` computes before it reads the clock (cached, see answers.py)."""

    note: str | None
    basis: health.HealthBasis


@without_gc
def handle_report(args: argparse.Namespace) -> ExitCode:
    config = ObserveConfig.from_settings(load_settings(args.config)).with_overrides(
        runs=args.runs, fail_on=args.fail_on
    )
    if config.runs < 1:
        raise UsageError(f"--runs {config.runs}: expected a whole number >= 1")
    now = parse_now(args.now)
    answers = Answers.of(args.target_dir, "observe", lambda target_dir: [
        *(file_part(target_dir / name) for name in (MANIFEST, RUN_RESULTS, SOURCES)),
        history_part(resolve_history_dir(args)),
        warehouse_part(resolve_lakehouse(args.lakehouse) / "warehouse"), encode(config),
    ])
    answer = answers.get(_Answer, lambda: _compute(args, config), lambda a: print_note(a.note))
    report = health.finish(answer.basis, now)
    write_output(render(report, args.format), args.output)
    if config.fail_on == "critical" and report.worst == health.CRITICAL:
        return ExitCode.FINDINGS
    if config.fail_on == "warning" and report.worst != health.HEALTHY:
        return ExitCode.FINDINGS
    return ExitCode.OK


def _compute(args: argparse.Namespace, config: ObserveConfig) -> _Answer:
    target = load_target(resolve_target_dir(args.target_dir), run_results=Need.SKIP)
    lakehouse = resolve_lakehouse(args.lakehouse)
    history = load_history(resolve_history_dir(args), limit=config.runs)
    chosen = target_run(target.target_dir / RUN_RESULTS, target.manifest,
                        [r.invocation_id for r in history.runs])
    print_note(chosen.note)
    runs = runs_with_target(history, chosen.run_results, target.manifest, target.target_dir,
                            lakehouse / "warehouse")[-config.runs:]
    return _Answer(chosen.note, health.basis(target.manifest, runs, config,
                                             sources=target.sources))
