"""Render a :class:`HealthReport` as a terminal table, Markdown or JSON."""

from __future__ import annotations

from collections.abc import Callable

from platform_tools.observe.health import HealthReport
from platform_tools.textfmt import dump_json, join, md_table, text_table

FORMATS = ("table", "markdown", "json")


def _headline(report: HealthReport) -> str:
    rate = "n/a" if report.success_rate is None else f"{report.success_rate:.0%}"
    return (
        f"platform health: {report.worst} — {len(report.runs)} run(s), success rate {rate}, "
        f"run duration median {report.run_median_s:.1f} s / p95 {report.run_p95_s:.1f} s, "
        f"{len(report.issues)} issue(s)"
    )


def _issue_rows(report: HealthReport) -> list[list[object]]:
    return [
        [i.priority, i.level, i.team, i.domain or "-", i.message, join(i.affected_teams),
         join(e.describe() for e in i.affected_exposures)]
        for i in report.issues
    ]


ISSUE_HEADERS = ["PRIO", "LEVEL", "TEAM", "DOMAIN", "ISSUE", "AFFECTED TEAMS", "EXPOSURES"]


def _fresh_rows(report: HealthReport) -> list[list[object]]:
    return [
        [f.kind, f.label, f.team, f.status,
         "-" if f.age_hours is None else f"{f.age_hours:.1f}",
         "-" if f.limit_hours is None else f"{f.limit_hours:g}"]
        for f in report.freshness
    ]


def to_table(report: HealthReport) -> str:
    out = [_headline(report), ""]
    out += [*report.notes, ""] if report.notes else []
    out += ["Domains", text_table(
        ["DOMAIN", "TEAMS", "STATUS", "ERRORS", "WARNINGS", "TOP PRIORITY"],
        [[d.domain, join(d.teams), d.status, d.errors, d.warnings, d.top_priority or "-"]
         for d in report.domains],
    ), ""]
    out += ["Issues", text_table(ISSUE_HEADERS, _issue_rows(report), limit=100)
            if report.issues else "none", ""]
    out += ["Tests by team (latest run)", text_table(
        ["TEAM", "PASS", "WARN", "FAIL", "SKIPPED", "PASS RATE (WINDOW)"],
        [[t.team, t.passed, t.warned, t.failed, t.skipped,
          "-" if t.window_pass_rate is None else f"{t.window_pass_rate:.1%}"]
         for t in report.tests],
    ) if report.tests else "no tests", ""]
    out += ["Freshness", text_table(
        ["KIND", "NAME", "TEAM", "STATUS", "AGE (H)", "LIMIT (H)"], _fresh_rows(report)
    ) if report.freshness else "no freshness SLAs or source freshness results", ""]
    out += ["Slowest models", text_table(
        ["MODEL", "TEAM", "RUNS", "MEDIAN (S)", "P95 (S)", "LAST (S)"],
        [[d.label, d.team, d.runs, f"{d.median:.2f}", f"{d.p95:.2f}", f"{d.last:.2f}"]
         for d in report.slowest],
    ) if report.slowest else "none", ""]
    out += ["Volume anomalies", text_table(
        ["MODEL", "TEAM", "ROWS", "BASELINE", "CHANGE"],
        [[v.label, v.team, v.rows, f"{v.baseline:.0f}", f"{v.change:+.0%}"]
         for v in report.volume_anomalies],
    ) if report.volume_anomalies else "none"]
    return "\n".join(out) + "\n"


def to_markdown(report: HealthReport) -> str:
    icon = {"HEALTHY": "🟢", "WARNING": "🟠", "CRITICAL": "🔴"}[report.worst]
    out = [f"## {icon} {_headline(report)}", ""]
    out += [f"_{n}_" for n in report.notes]
    out += ["### Domains", "", md_table(
        ["Domain", "Teams", "Status", "Errors", "Warnings", "Top priority"],
        [[d.domain, join(d.teams), f"**{d.status}**", d.errors, d.warnings,
          d.top_priority or "—"] for d in report.domains],
    ), "", "### Issues", ""]
    out.append(md_table([h.title() for h in ISSUE_HEADERS], _issue_rows(report))
               if report.issues else "None.")
    out += ["", "### Tests by team (latest run)", ""]
    out.append(md_table(
        ["Team", "Pass", "Warn", "Fail", "Skipped", "Pass rate (window)"],
        [[t.team, t.passed, t.warned, t.failed, t.skipped,
          "—" if t.window_pass_rate is None else f"{t.window_pass_rate:.1%}"]
         for t in report.tests],
    ) if report.tests else "No tests.")
    out += ["", "### Freshness", ""]
    out.append(md_table(["Kind", "Name", "Team", "Status", "Age (h)", "Limit (h)"],
                        _fresh_rows(report)) if report.freshness else "No freshness checks.")
    out += ["", "### Slowest models", ""]
    out.append(md_table(
        ["Model", "Team", "Runs", "Median (s)", "p95 (s)"],
        [[f"`{d.label}`", d.team, d.runs, f"{d.median:.2f}", f"{d.p95:.2f}"]
         for d in report.slowest],
    ) if report.slowest else "None.")
    out += ["", "### Volume anomalies", ""]
    out.append(md_table(
        ["Model", "Team", "Rows", "Baseline", "Change"],
        [[f"`{v.label}`", v.team, v.rows, f"{v.baseline:.0f}", f"{v.change:+.0%}"]
         for v in report.volume_anomalies],
    ) if report.volume_anomalies else "None.")
    return "\n".join(out) + "\n"


def to_json(report: HealthReport) -> str:
    return dump_json(report.as_dict())


RENDERERS: dict[str, Callable[[HealthReport], str]] = {
    "table": to_table,
    "markdown": to_markdown,
    "json": to_json,
}


def render(report: HealthReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
