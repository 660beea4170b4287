"""What the pull-request commands print: the terminal table of ``platform-tools
pr-contracts`` (:func:`render_table`) and the reviewer's Markdown comment of ``platform-tools
pr-ci`` (:func:`to_markdown`, a rendered :class:`~platform_tools.pr.slim_ci.SlimCiReport`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from platform_tools.pr.contracts import ContractsResult
from platform_tools.pr.slim_ci import BuildOutcome, LintOutcome, SlimCiReport
from platform_tools.textfmt import join, md_escape, md_table, text_table

MAX_ROWS = 50


def render_table(result: ContractsResult) -> str:
    """The verdict, the breaking changes and the findings the change introduces."""
    report = result.report
    verdict = "FAILED" if result.failed else "passed"
    out = [
        f"pr-contracts {verdict}: {len(report.breaking_changes)} breaking change(s), "
        f"{len(result.new_findings)} new finding(s) against {result.baseline}"
    ]
    if report.affected_teams:
        out.append(f"teams affected by this change: {', '.join(report.affected_teams)}")
    if report.breaking_changes:
        out.append("")
        out.append(text_table(
            ["CODE", "SEVERITY", "MODEL", "OWNER", "CHANGE", "AFFECTED TEAMS", "EXPOSURES"],
            [[b.code, b.severity.value, b.label, b.team or "-", b.message,
              join(b.affected_teams), join(e.describe() for e in b.affected_exposures)]
             for b in report.breaking_changes],
            limit=100,
        ))
        out.append("A breaking change to a public model ships as a new model version with the "
                   "old one kept and a deprecation_date (docs/pull_requests.md).")
    if result.new_findings:
        out.append("")
        out.append(text_table(
            ["CODE", "SEVERITY", "TEAM", "MODEL", "FILE", "FINDING"],
            [[f.code, f.severity.value, f.team or "-", f.label, f.path or "-", f.message]
             for f in result.new_findings],
            limit=110,
        ))
    existing = len(report.findings) - len(result.new_findings)
    if existing:
        out.append(f"({existing} finding(s) already on the baseline are not gating; "
                   "`platform-tools deps` lists them)")
    return "\n".join(out) + "\n"


# -- the comment ---------------------------------------------------------------------------------
def _icon(ok: bool) -> str:
    return "✅" if ok else "❌"


def _teams(teams: Sequence[str]) -> str:
    return ", ".join(f"`{t}`" for t in teams) if teams else "none"


def _contracts_row(report: SlimCiReport) -> list[str]:
    result = report.contracts
    if result is None:
        return ["Contracts and ownership (`platform-tools deps --new-only`)", "⚠️ not run"]
    errors = result.report.errors
    text = (f"{len(result.report.breaking_changes)} breaking change(s), "
            f"{len(result.new_findings)} new finding(s)")
    return ["Contracts and ownership (`platform-tools deps --new-only`)",
            f"{_icon(not result.failed)} {text}" + (f" — {errors} blocking" if errors else "")]


def _lint_row(lint: LintOutcome) -> list[str]:
    what = f"Lint (sqlfluff, {len(lint.files)} changed SQL file(s))"
    if not lint.ran:
        return [what, "➖ no SQL file changed" if not lint.files else "➖ skipped"]
    if lint.error:
        return [what, f"❌ sqlfluff failed: {lint.error}"]
    if lint.violations:
        return [what, f"❌ {len(lint.violations)} violation(s)"]
    return [what, "✅ clean"]


def _counts(counts: Mapping[str, int]) -> str:
    order = ["success", "pass", "no-op", "warn", "error", "fail", "skipped", "runtime error"]
    keys = sorted(counts, key=lambda s: (order.index(s) if s in order else 99, s))
    return " ".join(f"{k.upper().replace(' ', '_')}={counts[k]}" for k in keys) or "nothing ran"


def _build_row(build: BuildOutcome) -> list[str]:
    what = "Build and tests (`dbt build --select state:modified+ --defer`)"
    if not build.ran:
        return [what, f"➖ {build.reason}"]
    if build.error:
        return [what, f"❌ {build.error}"]
    return [what, f"{_icon(build.ok)} {_counts(build.counts)}"]


def to_markdown(report: SlimCiReport) -> str:
    """The pull-request comment body."""
    verdict = "FAILED" if report.failed else "passed"
    out = [f"## {_icon(not report.failed)} GridUnion pull-request checks {verdict}", ""]
    head = f", head `{report.head[:12]}`" if report.head else ""
    out.append(f"Compared with {md_escape(report.base.describe())}{head}; baseline manifest "
               f"`{md_escape(report.baseline)}`.")
    out.append("")
    if report.fatal:
        out += [f"**The project does not parse:** {md_escape(report.fatal)}", ""]
    out.append(md_table(["Check", "Result"],
                        [_contracts_row(report), _lint_row(report.lint),
                         _build_row(report.build)]))
    out += ["", "### Who is affected", ""]
    out.append(f"- **Teams affected:** {_teams(report.affected_teams)}")
    out.append(f"- **Owners of the changed models:** {_teams(report.owners)}")
    out.append(f"- **Teams downstream (please review):** {_teams(report.downstream_teams)}")
    if report.contracts is not None and report.contracts.report.affected_teams:
        out.append("- **Teams hit by a breaking change:** "
                   + _teams(report.contracts.report.affected_teams))
    if report.exposures:
        out.append("- **Exposures downstream:**")
        for exposure in report.exposures:
            link = f" — {md_escape(exposure.url)}" if exposure.url else ""
            owned = (f"owned by `{exposure.team}`" if exposure.team else "unowned"
                     + (f", owner {md_escape(exposure.owner)}" if exposure.owner else ""))
            out.append(f"  - {md_escape(exposure.label)} ({md_escape(exposure.type)}, "
                       f"{owned}){link}")
    else:
        out.append("- **Exposures downstream:** none")
    out += ["", "### What changed", ""]
    if report.changed:
        out.append(md_table(
            ["Node", "Change", "Team", "Domain / layer", "Access", "Downstream"],
            [[f"`{c.label}`", c.change, c.team or "—", f"{c.domain or '—'} / {c.layer or '—'}",
              c.access or "—",
              f"{c.downstream_models} model(s), {c.downstream_exposures} exposure(s)"]
             for c in report.changed[:MAX_ROWS]],
        ))
        if len(report.changed) > MAX_ROWS:
            out.append(f"_… and {len(report.changed) - MAX_ROWS} more._")
    else:
        out.append("No model, seed or snapshot changed (`state:modified` is empty).")
    if report.downstream_models:
        out += ["", f"<details><summary>{len(report.downstream_models)} downstream model(s) "
                "rebuilt</summary>", "", ", ".join(f"`{m}`" for m in report.downstream_models),
                "", "</details>"]
    out += ["", f"<details><summary>{len(report.changed_files)} changed file(s)</summary>", ""]
    out += [f"- `{md_escape(f)}`" for f in report.changed_files[:200]]
    out += ["", "</details>"]
    out += _contracts_section(report)
    out += _lint_section(report.lint)
    out += _build_section(report.build)
    out += ["", "<sub>Generated by `platform-tools pr-ci` (docs/pull_requests.md).</sub>"]
    return "\n".join(out) + "\n"


def _contracts_section(report: SlimCiReport) -> list[str]:
    result = report.contracts
    out = ["", "### Contracts and ownership", ""]
    if result is None:
        return out + ["Not run: the project does not parse."]
    deps = result.report
    if deps.breaking_changes:
        out.append(md_table(
            ["Model", "Owner", "Change", "Severity", "Affected teams", "Affected exposures"],
            [[f"`{b.label}`", b.team or "—", b.message, b.severity.value,
              join(b.affected_teams), join(e.describe() for e in b.affected_exposures)]
             for b in deps.breaking_changes[:MAX_ROWS]],
        ))
        out += ["", "A breaking change to a public model ships as a new model version, with the "
                "old version kept and given a `deprecation_date`."]
    else:
        out.append("No breaking changes against the baseline.")
    if result.new_findings:
        out += ["", md_table(
            ["Code", "Severity", "Team", "Model", "Finding"],
            [[f.code, f.severity.value, f.team or "—", f"`{f.label}`", f.message]
             for f in result.new_findings[:MAX_ROWS]],
        )]
    existing = len(deps.findings) - len(result.new_findings)
    if existing:
        out += ["", f"_{existing} finding(s) already on main are not blocking._"]
    return out


def _lint_section(lint: LintOutcome) -> list[str]:
    out = ["", "### Lint", ""]
    if not lint.ran:
        return out + ["No changed SQL file to lint."]
    if lint.error:
        out.append(f"sqlfluff could not lint: {md_escape(lint.error)}")
    if lint.violations:
        out.append(md_table(
            ["File", "Line", "Rule", "Problem"],
            [[f"`{v.path}`", v.line or "—", v.code, v.description]
             for v in lint.violations[:MAX_ROWS]],
        ))
        out += ["", "Fix with `sqlfluff fix <file>` (the project's `.sqlfluff` style)."]
    elif not lint.error:
        out.append(f"{len(lint.files)} changed SQL file(s), no violations.")
    return out


def _build_section(build: BuildOutcome) -> list[str]:
    out = ["", "### Build and tests", ""]
    if not build.ran:
        return out + [md_escape(build.reason)]
    out.append(f"`dbt build --select state:modified+ --defer --state <baseline>`: "
               f"{_counts(build.counts)} ({build.seconds:.0f} s).")
    if build.error:
        out += ["", f"dbt failed: {md_escape(build.error)}"]
    if build.problems:
        out += ["", md_table(
            ["Node", "Type", "Status", "Team", "Message"],
            [[f"`{p.label}`", p.resource_type, p.status, p.team or "—", p.message[:300]]
             for p in build.problems[:MAX_ROWS]],
        )]
    return out
