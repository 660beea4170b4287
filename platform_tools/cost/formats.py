"""Render a :class:`CostReport` as a terminal table, Markdown or JSON."""

from __future__ import annotations

from collections.abc import Callable

from platform_tools.cost.chargeback import CostReport
from platform_tools.textfmt import dump_json, join, md_table, text_table

FORMATS = ("table", "markdown", "json")


def _money(report: CostReport, amount: object) -> str:
    return f"{amount} {report.currency}"


def _team_rows(report: CostReport) -> list[list[object]]:
    return [
        [t.team, t.cost_centre or "-", t.compute, t.storage, t.shared_out, t.shared_in, t.total,
         f"{t.share:.1%}"]
        for t in report.teams
    ]


TEAM_HEADERS = ["TEAM", "COST CENTRE", "COMPUTE", "STORAGE", "SHARED OUT", "SHARED IN", "TOTAL",
                "SHARE"]


def to_table(report: CostReport, top: int = 15) -> str:
    out = [
        f"platform-tools cost: {_money(report, report.total)} over {report.period_days} days "
        f"(compute {report.compute_total}, storage {report.storage_total}); "
        f"compute from {report.compute_source}",
        "",
        "Per team (total = direct + shared in; public models split equally among consumers)",
        text_table(TEAM_HEADERS, _team_rows(report)),
        "",
        "Per domain",
        text_table(["DOMAIN", "AMOUNT"], report.by_domain),
        "",
        "Per layer",
        text_table(["LAYER", "AMOUNT"], report.by_layer),
        "",
        f"Top {min(top, len(report.models))} models (with their tests)",
        text_table(
            ["MODEL", "TEAM", "DOMAIN", "LAYER", "SECONDS", "BYTES", "FILES", "AMOUNT"],
            [[m.label, m.team, m.domain or "-", m.layer or "-", f"{m.compute_seconds:.1f}",
              m.storage_bytes, m.files, m.amount] for m in report.models[:top]],
        ),
    ]
    if report.shared:
        out += ["", "Shared public models", text_table(
            ["MODEL", "PRODUCER", "CONSUMERS", "AMOUNT"],
            [[s.label, s.producer, join(s.consumers), s.amount] for s in report.shared[:top]],
        )]
    out += ["", "Red flags"]
    out.append(text_table(["CODE", "SUBJECT", "MESSAGE"],
                          [[f.code, f.subject, f.message] for f in report.red_flags], limit=120)
               if report.red_flags else "none")
    return "\n".join(out) + "\n"


def to_markdown(report: CostReport, top: int = 15) -> str:
    out = [
        f"## Chargeback: {_money(report, report.total)} over {report.period_days} days",
        "",
        f"Compute {report.compute_total} {report.currency}, storage {report.storage_total} "
        f"{report.currency}; compute from {report.compute_source}. Rule: "
        + ("a public model's cost is split equally among the teams that read it; the producer "
           "keeps it when nobody else does." if report.shared_rule == "equal"
           else "every team pays for its own models."),
        "",
        "### Per team",
        "",
        md_table([h.title() for h in TEAM_HEADERS], _team_rows(report)),
        "",
        "### Per domain",
        "",
        md_table(["Domain", "Amount"], report.by_domain),
        "",
        "### Per layer",
        "",
        md_table(["Layer", "Amount"], report.by_layer),
        "",
        f"### Top {min(top, len(report.models))} models",
        "",
        md_table(["Model", "Team", "Domain", "Layer", "Seconds", "Amount"],
                 [[f"`{m.label}`", m.team, m.domain or "—", m.layer or "—",
                   f"{m.compute_seconds:.1f}", m.amount] for m in report.models[:top]]),
        "",
        "### Red flags",
        "",
    ]
    if report.red_flags:
        out.append(md_table(["Code", "Subject", "Message"],
                            [[f.code, f"`{f.subject}`", f.message] for f in report.red_flags]))
    else:
        out.append("None.")
    return "\n".join(out) + "\n"


def to_json(report: CostReport, top: int = 0) -> str:
    return dump_json(report.as_dict())


RENDERERS: dict[str, Callable[[CostReport, int], str]] = {
    "table": to_table,
    "markdown": to_markdown,
    "json": to_json,
}


def render(report: CostReport, fmt: str, top: int = 15) -> str:
    return RENDERERS[fmt](report, top)
