"""The rules of the rulebook as a terminal table, Markdown (the docs) or JSON."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from platform_tools.rules.rulebook import FAMILIES, Rule
from platform_tools.textfmt import dump_json, md_table, text_table

FORMATS = ("table", "markdown", "json")


def to_table(rules: Iterable[Rule]) -> str:
    return text_table(
        ["CODE", "SEVERITY", "NAME", "SUMMARY"],
        [[r.code, r.severity_label, r.name, markdown_text(r.summary)] for r in rules],
        limit=100,
    ) + "\n"


def to_json(rules: Iterable[Rule]) -> str:
    """``{"rules": [{code, family, name, severity, summary, rationale, example, fix}]}``,
    the texts in Markdown."""
    out = []
    for r in rules:
        item = {key: markdown_text(value) for key, value in r.as_dict().items()}
        for key in ("summary", "rationale", "fix", *(() if r.example_is_block else ("example",))):
            item[key] = " ".join(item[key].split("\n"))  # unwrap the docstring's lines
        out.append(item)
    return dump_json({"rules": out})


def markdown_text(text: str) -> str:
    """Docstring markup (reStructuredText's double backquotes) as Markdown (one backquote).

    Rule texts keep the docstring's markup as written (``deps`` reports the summaries
    verbatim); the listing converts it."""
    return text.replace("``", "`")


def rule_markdown(rule: Rule) -> str:
    """One rule: an anchor named after its code, a heading, and its four parts."""
    if rule.example_is_block:
        example = f"Example:\n\n```text\n{rule.example}\n```"
    else:
        example = f"Example: {markdown_text(rule.example)}"
    return "\n\n".join([
        f'<a id="{rule.code.lower()}"></a>\n'
        f"#### {rule.code} `{rule.name}` ({rule.severity_label})",
        markdown_text(rule.summary),
        f"Rationale: {markdown_text(rule.rationale)}",
        example,
        f"Fix: {markdown_text(rule.fix)}",
    ]) + "\n"


def to_markdown(rules: Iterable[Rule]) -> str:
    """The rules section of ``docs/platform_tools.md``: an index table, then every rule,
    family by family."""
    selected = list(rules)
    out = [
        "<!-- generated from the rules' docstrings (platform_tools/rules/) by "
        "`make rules-docs`; edit the docstrings, not this section -->",
        "",
        "Every rule code of the platform is a function in `platform_tools/rules/`, registered "
        "with `@rule` (`rulebook.py`) in its family's module (`gu.py`, `bc.py`, `pr.py`); its "
        "docstring is the text below. `platform-tools rules` lists them "
        "(`--format table|markdown|json`, `--family GU|BC|PR`).",
        "",
        md_table(
            ["Code", "Name", "Severity", "Summary"],
            [[f"[{r.code}](#{r.code.lower()})", f"`{r.name}`", r.severity_label,
              markdown_text(r.summary)] for r in selected],
        ),
    ]
    for family in FAMILIES.values():
        members = [r for r in selected if r.family == family.prefix]
        if not members:
            continue
        out += ["", f"### {family.prefix}: {family.what} (`{family.command}`)"]
        if family.note:
            out += ["", family.note]
        out += ["", "\n".join(rule_markdown(r) for r in members).rstrip("\n")]
    return "\n".join(out) + "\n"


RENDERERS: dict[str, Callable[[Iterable[Rule]], str]] = {
    "table": to_table,
    "markdown": to_markdown,
    "json": to_json,
}


def render(rules: Iterable[Rule], fmt: str) -> str:
    return RENDERERS[fmt](rules)
