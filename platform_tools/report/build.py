"""``platform-tools report``: dependencies, cost and observability in one place.

:func:`build` runs the three analyses; :func:`to_html` renders one self-contained HTML page
(inline CSS and SVG, no script, nothing fetched), :func:`to_markdown` a summary and
:func:`to_json` everything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

from platform_tools import __version__
from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.ownership import Ownership
from platform_tools.artifacts.settings import Settings
from platform_tools.artifacts.target import TargetArtifacts
from platform_tools.cost import chargeback
from platform_tools.cost.config import CostConfig
from platform_tools.cost.storage import warehouse_storage
from platform_tools.cost.usage import choose_usage
from platform_tools.deps import checks
from platform_tools.deps.model import DepsReport
from platform_tools.errors import ArtifactError
from platform_tools.observe import health
from platform_tools.observe.config import ObserveConfig
from platform_tools.observe.history import History, runs_with_target
from platform_tools.report import svg
from platform_tools.report.text import dump_json, join, md_table

HTML_FILE = "report.html"
MARKDOWN_FILE = "report.md"
JSON_FILE = "report.json"


@dataclass(frozen=True)
class PlatformReport:
    project: str | None
    generated_at: str
    deps: DepsReport
    cost: chargeback.CostReport | None
    cost_error: str | None
    health: health.HealthReport
    team_edges: tuple[tuple[str, str, int], ...]

    @property
    def teams(self) -> list[str]:
        names = {t.team for t in self.deps.teams}
        if self.cost is not None:
            names.update(t.team for t in self.cost.teams)
        names.update(t.team for t in self.health.tests)
        return sorted(names)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": "platform-tools report",
            "version": __version__,
            "project": self.project,
            "generated_at": self.generated_at,
            "deps": self.deps.as_dict(),
            "cost": self.cost.as_dict() if self.cost is not None else None,
            "cost_error": self.cost_error,
            "observe": self.health.as_dict(),
        }


def team_edges(manifest: Manifest) -> tuple[tuple[str, str, int], ...]:
    """``(consumer team, producer team, models read)`` for every cross-team dependency."""
    pairs: dict[tuple[str, str], set[str]] = defaultdict(set)
    for node in manifest.buildable():
        for parent_id in node.depends_on:
            parent = manifest.nodes.get(parent_id)
            if parent and node.team and parent.team and node.team != parent.team:
                pairs[(node.team, parent.team)].add(parent_id)
    return tuple(sorted((c, p, len(m)) for (c, p), m in pairs.items()))


def build(
    target: TargetArtifacts,
    history: History,
    warehouse: Path,
    settings: Settings,
    *,
    now: datetime | None = None,
    baseline: Manifest | None = None,
) -> PlatformReport:
    """Run deps, cost and observe on one target and its lakehouse."""
    manifest = target.manifest
    ownership = Ownership(manifest)
    moment = now or datetime.now(UTC)
    deps = checks.run(manifest, checks.DepsConfig.from_settings(settings), baseline=baseline,
                      catalog=target.catalog, ownership=ownership)
    cost_config = CostConfig.from_settings(settings)
    cost: chargeback.CostReport | None = None
    cost_error: str | None = None
    try:
        usage, described = choose_usage(cost_config.compute_source, manifest,
                                        target.run_results, history, cost_config.period_days)
        storage = warehouse_storage(warehouse, manifest.buildable())
        cost = chargeback.run(manifest, cost_config, usage, storage, compute_source=described,
                              ownership=ownership)
    except ArtifactError as exc:
        cost_error = exc.message
    observe_config = ObserveConfig.from_settings(settings)
    runs = runs_with_target(history, target.run_results, manifest, target.target_dir,
                            warehouse)[-observe_config.runs:]
    report = health.run(manifest, runs, observe_config, sources=target.sources, now=moment,
                        ownership=ownership)
    return PlatformReport(
        project=manifest.metadata.project_name,
        generated_at=moment.strftime("%Y-%m-%d %H:%M UTC"),
        deps=deps,
        cost=cost,
        cost_error=cost_error,
        health=report,
        team_edges=team_edges(manifest),
    )


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------
CSS = """
:root { --fg:#1d2430; --muted:#5b6675; --line:#d9dee6; --bg:#f6f8fb; --card:#fff;
  --ok:#2e8b57; --warn:#c77c0e; --bad:#c0392b; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:var(--bg); }
header { background:#1f3b63; color:#fff; padding:18px 28px; }
header h1 { margin:0 0 4px; font-size:22px; }
header p { margin:0; color:#c9d6ea; }
nav a { color:#fff; margin-right:14px; text-decoration:none; border-bottom:1px dotted #9fb6d8; }
nav { margin-top:10px; }
main { padding:18px 28px 40px; max-width:1280px; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:16px 20px; margin:18px 0; }
section h2 { margin-top:0; }
h3 { margin:18px 0 8px; font-size:15px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; }
.card { flex:1 1 160px; border:1px solid var(--line); border-radius:8px; padding:10px 14px;
  background:#fbfcfe; }
.card .k { color:var(--muted); font-size:12px; text-transform:uppercase; letter-spacing:.04em; }
.card .v { font-size:22px; font-weight:600; }
table { border-collapse:collapse; width:100%; margin:6px 0 10px; font-size:13px; }
th, td { text-align:left; padding:5px 8px; border-bottom:1px solid var(--line);
  vertical-align:top; }
th { background:#eef2f8; font-weight:600; }
td.num, th.num { text-align:right; font-variant-numeric:tabular-nums; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; }
.HEALTHY, .ok { background:var(--ok); } .WARNING, .warn { background:var(--warn); }
.CRITICAL, .error { background:var(--bad); }
.P0 { background:#7b0000; } .P1 { background:var(--bad); } .P2 { background:var(--warn); }
.P3 { background:#7f8c8d; }
.empty, .muted { color:var(--muted); }
.charts { display:flex; flex-wrap:wrap; gap:24px; align-items:flex-start; }
svg.chart { max-width:100%; height:auto; background:#fff; }
svg .chart-title { font-weight:600; font-size:13px; fill:var(--fg); }
svg .label { font-size:12px; fill:var(--fg); }
svg .value { font-size:11px; fill:var(--muted); }
svg .axis { stroke:#999; }
article.team { border-top:1px solid var(--line); padding-top:10px; margin-top:14px; }
article.team h3 { font-size:16px; }
code { background:#eef2f8; padding:0 4px; border-radius:3px; }
"""


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Iterable[int] = ()) -> str:
    numeric_cols = set(numeric)
    head = "".join(
        f'<th{" class=num" if i in numeric_cols else ""}>{escape(h)}</th>'
        for i, h in enumerate(headers)
    )
    body = []
    for row in rows:
        cells = []
        for i, value in enumerate(row):
            cls = ' class="num"' if i in numeric_cols else ""
            cells.append(f"<td{cls}>{value if isinstance(value, _Raw) else escape(str(value))}"
                         "</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        return '<p class="empty">None.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def _badge(text: str, cls: str | None = None) -> _Raw:
    return _Raw(f'<span class="badge {escape(cls or text)}">{escape(text)}</span>')


def _card(key: str, value: str) -> str:
    return f'<div class="card"><div class="k">{escape(key)}</div><div class="v">{value}</div></div>'


def _overview(r: PlatformReport) -> str:
    h = r.health
    rate = "n/a" if h.success_rate is None else f"{h.success_rate:.0%}"
    cost = (f"{r.cost.total} {escape(r.cost.currency)}" if r.cost is not None else "n/a")
    cards = [
        _card("Platform status", str(_badge(h.worst))),
        _card("Dependency errors", str(r.deps.errors)),
        _card("Breaking changes", str(len(r.deps.breaking_changes))
              if r.deps.baseline else "no baseline"),
        _card("Total cost", cost),
        _card("Run success rate", f"{rate} of {len(h.runs)}"),
        _card("Open issues", str(len(h.issues))),
    ]
    return (f'<section id="overview" data-section="overview"><h2>Overview</h2>'
            f'<div class="cards">{"".join(cards)}</div></section>')


def _dependencies(r: PlatformReport) -> str:
    d = r.deps
    parts = ['<section id="dependencies" data-section="dependencies"><h2>Dependencies</h2>']
    parts.append('<div class="charts">')
    parts.append(svg.dependency_graph(
        [t.team for t in d.teams], r.team_edges, title="Who reads whom (arrow: reads from)"
    ))
    parts.append("</div>")
    parts.append("<h3>Teams</h3>")
    parts.append(_table(
        ["Team", "Owner", "Domains", "Models", "Public", "Reads from", "Read by",
         "Exposures downstream"],
        [[t.team, t.owner or "—", join(t.domains), t.model_count, t.public_model_count,
          join(t.upstream_teams), join(t.downstream_teams),
          join(e.describe() for e in t.exposures)] for t in d.teams],
        numeric=(3, 4),
    ))
    if d.baseline is not None:
        parts.append("<h3>Breaking changes</h3>")
        parts.append(_table(
            ["Model", "Owner", "Change", "Severity", "Affected teams", "Affected exposures"],
            [[b.label, b.team or "—", b.message, _badge(b.severity.value),
              join(b.affected_teams), join(e.describe() for e in b.affected_exposures)]
             for b in d.breaking_changes],
        ))
    parts.append(f"<h3>Rule findings ({len(d.findings)})</h3>")
    by_code = Counter(f.code for f in d.findings)
    if by_code:
        parts.append('<p class="muted">' + escape(", ".join(
            f"{code}: {n}" for code, n in sorted(by_code.items()))) + "</p>")
    parts.append(_table(
        ["Code", "Severity", "Team", "Model", "Finding"],
        [[f.code, _badge(f.severity.value), f.team or "—", f.label, f.message]
         for f in d.findings[:500]],
    ))
    if len(d.findings) > 500:
        parts.append(f'<p class="muted">{len(d.findings) - 500} more in report.json</p>')
    parts.append("</section>")
    return "".join(parts)


def _cost(r: PlatformReport) -> str:
    parts = ['<section id="cost" data-section="cost"><h2>Cost</h2>']
    c = r.cost
    if c is None:
        parts.append(f'<p class="empty">Not available: {escape(r.cost_error or "")}</p>')
        return "".join(parts) + "</section>"
    parts.append(
        f'<p>Total <b>{c.total} {escape(c.currency)}</b> over {c.period_days} days '
        f"(compute {c.compute_total}, storage {c.storage_total}); compute from "
        f"{escape(c.compute_source)}. A public model's cost is split equally among the teams "
        "that read it; the producer keeps it when nobody else does.</p>"
    )
    parts.append('<div class="charts">')
    parts.append(svg.bar_chart([(t.team, float(t.total)) for t in c.teams],
                               title="Cost per team", unit=c.currency))
    parts.append(svg.bar_chart([(d, float(a)) for d, a in c.by_domain[:12]],
                               title="Cost per domain", unit=c.currency))
    parts.append("</div>")
    parts.append("<h3>Per team</h3>")
    parts.append(_table(
        ["Team", "Cost centre", "Compute", "Storage", "Shared out", "Shared in", "Total",
         "Share"],
        [[t.team, t.cost_centre or "—", t.compute, t.storage, t.shared_out, t.shared_in,
          t.total, f"{t.share:.1%}"] for t in c.teams],
        numeric=(2, 3, 4, 5, 6, 7),
    ))
    parts.append("<h3>Per layer</h3>")
    parts.append(_table(["Layer", "Amount"], c.by_layer, numeric=(1,)))
    parts.append("<h3>Top models</h3>")
    parts.append(_table(
        ["Model", "Team", "Domain", "Layer", "Seconds", "Bytes", "Amount"],
        [[m.label, m.team, m.domain or "—", m.layer or "—", f"{m.compute_seconds:.1f}",
          f"{m.storage_bytes:,}", m.amount] for m in c.models[:25]],
        numeric=(4, 5, 6),
    ))
    parts.append("<h3>Red flags</h3>")
    parts.append(_table(["Code", "Subject", "Message"],
                        [[f.code, f.subject, f.message] for f in c.red_flags]))
    return "".join(parts) + "</section>"


def _observability(r: PlatformReport) -> str:
    h = r.health
    parts = ['<section id="observability" data-section="observability"><h2>Observability</h2>']
    parts.extend(f'<p class="muted">{escape(n)}</p>' for n in h.notes)
    rate = "n/a" if h.success_rate is None else f"{h.success_rate:.0%}"
    parts.append(f"<p>{len(h.runs)} run(s), success rate {rate}, duration median "
                 f"{h.run_median_s:.1f} s, p95 {h.run_p95_s:.1f} s.</p>")
    parts.append('<div class="charts">')
    parts.append(svg.run_timeline(
        [(f"{x.started_at or x.invocation_id} ({x.command or 'dbt'})", x.elapsed_time,
          x.status) for x in h.runs],
        title="Run durations (red: failed)",
    ))
    parts.append(svg.bar_chart([(d.label, d.median) for d in h.slowest[:10]],
                               title="Slowest models (median)", unit="s"))
    parts.append("</div>")
    parts.append("<h3>Domains</h3>")
    parts.append(_table(
        ["Domain", "Teams", "Status", "Errors", "Warnings", "Top priority"],
        [[d.domain, join(d.teams), _badge(d.status), d.errors, d.warnings,
          _badge(d.top_priority) if d.top_priority else "—"] for d in h.domains],
        numeric=(3, 4),
    ))
    parts.append("<h3>Issues</h3>")
    parts.append(_table(
        ["Priority", "Level", "Team", "Domain", "Issue", "Affected teams", "Exposures"],
        [[_badge(i.priority), _badge(i.level), i.team, i.domain or "—", i.message,
          join(i.affected_teams), join(e.describe() for e in i.affected_exposures)]
         for i in h.issues],
    ))
    parts.append("<h3>Tests by team (latest run)</h3>")
    parts.append(_table(
        ["Team", "Pass", "Warn", "Fail", "Skipped", "Pass rate (window)"],
        [[t.team, t.passed, t.warned, t.failed, t.skipped,
          "—" if t.window_pass_rate is None else f"{t.window_pass_rate:.1%}"]
         for t in h.tests],
        numeric=(1, 2, 3, 4, 5),
    ))
    parts.append("<h3>Freshness</h3>")
    parts.append(_table(
        ["Kind", "Name", "Team", "Status", "Age (h)", "Limit (h)"],
        [[f.kind, f.label, f.team, f.status,
          "—" if f.age_hours is None else f"{f.age_hours:.1f}",
          "—" if f.limit_hours is None else f"{f.limit_hours:g}"] for f in h.freshness],
        numeric=(4, 5),
    ))
    parts.append("<h3>Volume anomalies</h3>")
    parts.append(_table(
        ["Model", "Team", "Rows", "Baseline", "Change"],
        [[v.label, v.team, v.rows, f"{v.baseline:.0f}", f"{v.change:+.0%}"]
         for v in h.volume_anomalies],
        numeric=(2, 3, 4),
    ))
    return "".join(parts) + "</section>"


def _teams(r: PlatformReport) -> str:
    parts = ['<section id="teams" data-section="teams"><h2>Per team</h2>']
    deps = {t.team: t for t in r.deps.teams}
    costs = {t.team: t for t in r.cost.teams} if r.cost is not None else {}
    tests = {t.team: t for t in r.health.tests}
    findings = Counter(f.team for f in r.deps.findings)
    issues: dict[str, list[health.Issue]] = defaultdict(list)
    for issue in r.health.issues:
        issues[issue.team].append(issue)
    for team in r.teams:
        slug = "".join(ch if ch.isalnum() else "-" for ch in team)
        d, c, t = deps.get(team), costs.get(team), tests.get(team)
        rows: list[list[object]] = [
            ["Domains", join(d.domains) if d else "—"],
            ["Reads from", join(d.upstream_teams) if d else "—"],
            ["Read by", join(d.downstream_teams) if d else "—"],
            ["Exposures downstream", join(e.describe() for e in d.exposures) if d else "—"],
            ["Rule findings", findings.get(team, 0)],
            ["Cost", f"{c.total} ({c.share:.1%})" if c else "—"],
            ["Tests (latest run)", f"{t.passed} pass, {t.warned} warn, {t.failed} fail"
             if t else "—"],
            ["Open issues", ", ".join(f"{i.priority} {i.kind}" for i in issues[team][:8])
             or "none"],
        ]
        parts.append(f'<article class="team" id="team-{escape(slug)}" '
                     f'data-team="{escape(team)}"><h3>{escape(team)}</h3>'
                     + _table(["", ""], rows) + "</article>")
    return "".join(parts) + "</section>"


def to_html(r: PlatformReport) -> str:
    title = f"GridUnion platform report — {r.project or 'dbt project'}"
    nav = "".join(f'<a href="#{s}">{s.title()}</a>' for s in
                  ("overview", "dependencies", "cost", "observability", "teams"))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{CSS}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>Generated {escape(r.generated_at)} by "
        f"platform-tools {escape(__version__)}</p><nav>{nav}</nav></header><main>"
        + _overview(r) + _dependencies(r) + _cost(r) + _observability(r) + _teams(r)
        + "</main></body></html>\n"
    )


def to_markdown(r: PlatformReport) -> str:
    h = r.health
    out = [f"# Platform report — {r.project or 'dbt project'}", "",
           f"Generated {r.generated_at}. Status **{h.worst}**.", "", "## Dependencies", "",
           f"{r.deps.errors} error(s), {r.deps.warnings} warning(s)"
           + (f", {len(r.deps.breaking_changes)} breaking change(s)" if r.deps.baseline else "")
           + ".", "",
           md_table(["Team", "Reads from", "Read by", "Exposures downstream"],
                    [[t.team, join(t.upstream_teams), join(t.downstream_teams),
                      join(e.describe() for e in t.exposures)] for t in r.deps.teams]),
           "", "## Cost", ""]
    if r.cost is not None:
        out.append(f"Total {r.cost.total} {r.cost.currency} over {r.cost.period_days} days.")
        out.append("")
        out.append(md_table(["Team", "Total", "Share"],
                            [[t.team, t.total, f"{t.share:.1%}"] for t in r.cost.teams]))
    else:
        out.append(f"Not available: {r.cost_error}")
    out += ["", "## Observability", ""]
    rate = "n/a" if h.success_rate is None else f"{h.success_rate:.0%}"
    out.append(f"{len(h.runs)} run(s), success rate {rate}; {len(h.issues)} open issue(s).")
    out.append("")
    out.append(md_table(["Domain", "Status", "Errors", "Warnings", "Top priority"],
                        [[d.domain, d.status, d.errors, d.warnings, d.top_priority or "—"]
                         for d in h.domains]))
    return "\n".join(out) + "\n"


def to_json(r: PlatformReport) -> str:
    return dump_json(r.as_dict())


def write(r: PlatformReport, out_dir: Path) -> list[Path]:
    """Write the HTML, Markdown and JSON files into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, text in ((HTML_FILE, to_html(r)), (MARKDOWN_FILE, to_markdown(r)),
                       (JSON_FILE, to_json(r))):
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        paths.append(path)
    return paths
