"""Render a :class:`DepsReport` as a terminal table, Markdown, JSON, JUnit XML or SARIF."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from platform_tools import __version__
from platform_tools.deps.model import DepsReport, Finding, Severity
from platform_tools.rules.rulebook import rules
from platform_tools.textfmt import dump_json, join, md_escape, md_table, text_table

FORMATS = ("table", "markdown", "json", "junit", "sarif")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/gridunion/platform/blob/main/docs/platform_tools.md"


def _headline(report: DepsReport) -> str:
    verdict = "FAILED" if report.failed else "passed"
    parts = [f"{report.errors} error(s)", f"{report.warnings} warning(s)"]
    if report.baseline is not None:
        parts.append(f"{len(report.breaking_changes)} breaking change(s)")
    text = f"platform-tools deps {verdict}: " + ", ".join(parts)
    if report.checked_models is not None:
        text += f"; {report.checked}"
    if report.affected_teams:
        text += f"; teams affected by this change: {', '.join(report.affected_teams)}"
    return text


def _mark(finding: Finding, report: DepsReport) -> str:
    if report.baseline is not None and not finding.new:
        return f"{finding.severity.value} (existing)"
    return finding.severity.value


def to_table(report: DepsReport) -> str:
    out = [_headline(report), ""]
    if report.baseline is not None:
        out.append(f"Breaking changes against {report.baseline}")
        if report.breaking_changes:
            out.append(text_table(
                ["CODE", "SEVERITY", "MODEL", "OWNER", "CHANGE", "AFFECTED TEAMS", "EXPOSURES"],
                [
                    [b.code, b.severity.value, b.label, b.team or "-", b.message,
                     join(b.affected_teams), join(e.describe() for e in b.affected_exposures)]
                    for b in report.breaking_changes
                ],
            ))
        else:
            out.append("none")
        out.append("")
    out.append("Findings")
    if report.findings:
        out.append(text_table(
            ["CODE", "SEVERITY", "TEAM", "MODEL", "MESSAGE"],
            [[f.code, _mark(f, report), f.team or "-", f.label, f.message]
             for f in report.findings],
            limit=120,
        ))
    else:
        out.append("none")
    out.append("")
    out.append("Cross-team dependencies")
    out.append(text_table(
        ["TEAM", "DOMAINS", "MODELS", "READS FROM", "READ BY", "EXPOSURES DOWNSTREAM"],
        [
            [t.team, join(t.domains), t.model_count, join(t.upstream_teams),
             join(t.downstream_teams), join(e.describe() for e in t.exposures)]
            for t in report.teams
        ],
    ))
    return "\n".join(out) + "\n"


def to_markdown(report: DepsReport) -> str:
    icon = "❌" if report.failed else "✅"
    out = [f"## {icon} {md_escape(_headline(report))}", ""]
    if report.baseline is not None:
        out.append("### Breaking changes")
        out.append("")
        if report.breaking_changes:
            teams = report.affected_teams
            out.append(
                f"**Teams affected by this change:** {', '.join(f'`{t}`' for t in teams)}"
                if teams else "**Teams affected by this change:** none outside the owner"
            )
            out.append("")
            out.append(md_table(
                ["Model", "Owner", "Change", "Severity", "Affected teams", "Affected exposures",
                 "Downstream models"],
                [
                    [f"`{b.label}`", b.team or "—", b.message, b.severity.value,
                     join(b.affected_teams),
                     join(e.describe() for e in b.affected_exposures),
                     len(b.affected_models)]
                    for b in report.breaking_changes
                ],
            ))
            for change in report.breaking_changes:
                if change.affected_model_labels:
                    out.append("")
                    out.append(
                        f"<details><summary>{md_escape(change.label)}: "
                        f"{len(change.affected_model_labels)} downstream model(s)</summary>\n\n"
                        + ", ".join(f"`{m}`" for m in change.affected_model_labels)
                        + "\n\n</details>"
                    )
        else:
            out.append("No breaking changes against the baseline.")
        out.append("")
    out.append("### Rule findings")
    out.append("")
    shown = report.findings
    if report.new_only:
        shown = tuple(f for f in report.findings if f.new)
        existing = len(report.findings) - len(shown)
        if existing:
            out.append(f"_{existing} existing finding(s) not introduced by this change hidden._")
            out.append("")
    if shown:
        out.append(md_table(
            ["Code", "Severity", "Team", "Model", "Finding"],
            [[f.code, _mark(f, report), f.team or "—", f"`{f.label}`", f.message]
             for f in shown],
        ))
    else:
        out.append("No findings.")
    out.append("")
    out.append("### Cross-team dependencies")
    out.append("")
    out.append(md_table(
        ["Team", "Domains", "Reads from", "Read by", "Exposures downstream"],
        [
            [f"`{t.team}`", join(t.domains), join(t.upstream_teams), join(t.downstream_teams),
             join(e.describe() for e in t.exposures)]
            for t in report.teams
        ],
    ))
    return "\n".join(out) + "\n"


def to_json(report: DepsReport) -> str:
    return dump_json(report.as_dict())


def to_junit(report: DepsReport) -> str:
    suites = ET.Element("testsuites", name="platform-tools deps")
    total = failures = 0
    by_code: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_code.setdefault(finding.code, []).append(finding)
    for code, name, _severity, summary in report.rules:
        findings = by_code.get(code, [])
        suite = ET.SubElement(suites, "testsuite", name=f"{code} {name}")
        suite_failures = 0
        if not findings:
            ET.SubElement(suite, "testcase", classname=f"deps.{code}", name=summary)
        for f in findings:
            case = ET.SubElement(suite, "testcase", classname=f"deps.{code}",
                                 name=f.node_id or f.label, file=f.path or "")
            gating = f.new or not report.new_only
            if f.severity is Severity.ERROR and gating:
                failure = ET.SubElement(case, "failure", message=f.message, type=code)
                failure.text = f"{f.message}\nteam: {f.team or '-'}\nfile: {f.path or '-'}"
                suite_failures += 1
            elif not gating:
                ET.SubElement(case, "skipped", message=f"existing finding: {f.message}")
            else:
                out = ET.SubElement(case, "system-out")
                out.text = f"warning: {f.message}"
        cases = max(1, len(findings))
        suite.set("tests", str(cases))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += cases
        failures += suite_failures
    if report.baseline is not None:
        suite = ET.SubElement(suites, "testsuite", name="breaking-changes")
        suite_failures = 0
        if not report.breaking_changes:
            ET.SubElement(suite, "testcase", classname="deps.breaking", name="no breaking change")
        for b in report.breaking_changes:
            case = ET.SubElement(suite, "testcase", classname=f"deps.{b.code}",
                                 name=f"{b.node_id}: {b.kind}", file=b.path or "")
            detail = (
                f"{b.message}\naffected teams: {join(b.affected_teams)}\n"
                f"affected exposures: {join(e.describe() for e in b.affected_exposures)}\n"
                f"affected models: {join(b.affected_model_labels)}"
            )
            if b.severity is Severity.ERROR:
                failure = ET.SubElement(case, "failure", message=b.message, type=b.code)
                failure.text = detail
                suite_failures += 1
            else:
                ET.SubElement(case, "system-out").text = "warning: " + detail
        cases = max(1, len(report.breaking_changes))
        suite.set("tests", str(cases))
        suite.set("failures", str(suite_failures))
        suite.set("errors", "0")
        total += cases
        failures += suite_failures
    suites.set("tests", str(total))
    suites.set("failures", str(failures))
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, "unicode") + "\n"


def to_sarif(report: DepsReport) -> str:
    registered = rules()
    sarif_rules = []
    for code, name, severity, summary in report.rules:
        rule = registered[code]
        sarif_rules.append({
            "id": code,
            "name": name,
            "shortDescription": {"text": summary},
            "fullDescription": {"text": rule.doc},
            "help": {"text": rule.doc, "markdown": rule.doc},
            "helpUri": f"{INFO_URI}#{code.lower()}",
            "defaultConfiguration": {"level": "error" if severity is Severity.ERROR
                                     else "warning"},
        })
    for code, rule in rules("BC").items():
        sarif_rules.append({
            "id": code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "helpUri": f"{INFO_URI}#{code.lower()}",
            "defaultConfiguration": {"level": "error"},
        })
    results = []
    for f in report.findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "level": "error" if f.severity is Severity.ERROR else "warning",
            "message": {"text": f.message},
            "locations": [_location(f.path, f.node_id)],
            "partialFingerprints": {"platformTools/v1": "|".join(f.fingerprint)},
            "properties": {"team": f.team, "domain": f.domain, "new": f.new},
        }
        if report.baseline is not None:
            result["baselineState"] = "new" if f.new else "unchanged"
        results.append(result)
    for b in report.breaking_changes:
        results.append({
            "ruleId": b.code,
            "level": "error" if b.severity is Severity.ERROR else "warning",
            "message": {"text": (
                f"{b.message}; affected teams: {join(b.affected_teams)}; affected exposures: "
                f"{join(e.describe() for e in b.affected_exposures)}"
            )},
            "locations": [_location(b.path, b.node_id)],
            "properties": {
                "team": b.team,
                "affected_teams": list(b.affected_teams),
                "affected_exposures": [e.label for e in b.affected_exposures],
            },
        })
    sarif = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "platform-tools deps",
                "version": __version__,
                "informationUri": INFO_URI,
                "rules": sarif_rules,
            }},
            "results": results,
        }],
    }
    return dump_json(sarif)


def sarif_uri(path: str | None) -> str:
    """A file of the manifest as a SARIF URI relative to the project: ``/`` separators
    whatever the platform dbt ran on (``models\\a.sql`` from Windows), no ``./`` prefix,
    percent-encoded."""
    text = (path or "dbt_project.yml").replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return quote(text or "dbt_project.yml", safe="/")


def _location(path: str | None, node_id: str | None) -> dict[str, object]:
    location: dict[str, object] = {
        "physicalLocation": {
            "artifactLocation": {"uri": sarif_uri(path), "uriBaseId": "%SRCROOT%"},
            "region": {"startLine": 1},
        }
    }
    if node_id:
        location["logicalLocations"] = [{"fullyQualifiedName": node_id, "kind": "module"}]
    return location


RENDERERS: dict[str, Callable[[DepsReport], str]] = {
    "table": to_table,
    "markdown": to_markdown,
    "json": to_json,
    "junit": to_junit,
    "sarif": to_sarif,
}


def render(report: DepsReport, fmt: str) -> str:
    return RENDERERS[fmt](report)
