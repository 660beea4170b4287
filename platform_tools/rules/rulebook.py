"""One rulebook for every rule code of the platform (GU, BC, PR) and one decorator.

A rule is a function registered with :func:`rule` under a code (``GU001``), a name
(``cross-domain-non-public-ref``) and a default severity. Its docstring is its user
documentation, in four parts that the decorator reads and checks::

    One line: what the rule catches (the summary).

    Rationale: why the platform has the rule.

    Example::

        an indented block (or ``Example: inline text.``)

    Fix: what to do about a finding.

The family is the code's prefix (:data:`FAMILIES`); each family's module defines the
signature of its functions, and its runner calls them (``deps`` for GU and BC,
``pr-contracts`` for PR). ``platform-tools rules`` lists them all and writes the rules
section of ``docs/platform_tools.md``.
"""

from __future__ import annotations

import importlib
import inspect
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from platform_tools.deps.model import Severity


@dataclass(frozen=True)
class Family:
    """A family of rules: its code prefix, what it checks, the command that reports it and
    the module that holds its rules."""

    prefix: str
    what: str
    command: str
    module: str
    note: str = ""


FAMILIES: dict[str, Family] = {f.prefix: f for f in (
    Family("GU", "ownership and boundaries of one manifest", "platform-tools deps",
           "platform_tools.rules.gu"),
    Family("BC", "breaking changes against a baseline manifest",
           "platform-tools deps --baseline", "platform_tools.rules.bc",
           note="A break is an error when the model is public, or when anything of another "
                "team or any exposure is downstream of it; otherwise a warning."),
    Family("PR", "change rules of a pull request", "platform-tools pr-contracts",
           "platform_tools.rules.pr",
           note="They apply only to models the change adds or alters."),
)}

SECTIONS = ("Rationale", "Example", "Fix")
_CODE = re.compile(r"^(?P<family>[A-Z]{2})\d{3}$")
_HEADER = re.compile(r"^(?P<section>Rationale|Example|Fix)(?P<block>::|:)\s*(?P<text>.*)$")


@dataclass(frozen=True)
class Rule:
    """A registered rule: its code, its documentation and the function that checks it."""

    code: str
    name: str
    severity: Severity | None
    """The default severity; None when each finding decides (BC: by the change's reach)."""
    summary: str
    rationale: str
    example: str
    example_is_block: bool
    """Whether the example is a literal block (``Example::``) rather than a sentence."""
    fix: str
    func: Callable[..., Any]

    @property
    def family(self) -> str:
        return self.code[:2]

    @property
    def doc(self) -> str:
        """The whole docstring, as written."""
        return inspect.cleandoc(self.func.__doc__ or "")

    @property
    def severity_label(self) -> str:
        return self.severity.value if self.severity is not None else "error or warn"

    def as_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "family": self.family,
            "name": self.name,
            "severity": self.severity_label,
            "summary": self.summary,
            "rationale": self.rationale,
            "example": self.example,
            "fix": self.fix,
        }


RULEBOOK: dict[str, Rule] = {}

F = TypeVar("F", bound=Callable[..., Any])


def rule(code: str, name: str, severity: Severity | None = Severity.ERROR) -> Callable[[F], F]:
    """Register the decorated function as rule ``code``; the function itself is unchanged.

    Raises ValueError for a malformed or duplicate code, an unknown family, or a docstring
    without its summary, rationale, example or fix."""
    match = _CODE.match(code)
    if match is None or match["family"] not in FAMILIES:
        raise ValueError(f"rule code {code!r}: expected a family ({', '.join(FAMILIES)}) and "
                         "three digits")

    def register(func: F) -> F:
        if code in RULEBOOK:
            raise ValueError(f"duplicate rule code {code}")
        parts = parse_doc(func.__doc__ or "", code)
        RULEBOOK[code] = Rule(code=code, name=name, severity=severity, func=func, **parts)
        return func

    return register


def parse_doc(doc: str, code: str = "rule") -> dict[str, Any]:
    """The summary, rationale, example and fix of a rule's docstring."""
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    while lines and lines[0].strip() and not _HEADER.match(lines[0]):
        summary.append(lines.pop(0).strip())
    sections: dict[str, list[str]] = {}
    block = False
    current: str | None = None
    for line in lines:
        header = _HEADER.match(line)
        if header:
            current = header["section"]
            if current in sections:
                raise ValueError(f"{code}: docstring has two {current} sections")
            sections[current] = [header["text"]] if header["text"] else []
            if current == "Example":
                block = header["block"] == "::"
            continue
        if current is None:
            if line.strip():
                raise ValueError(f"{code}: docstring text before Rationale: {line.strip()!r}")
            continue
        sections[current].append(line)
    missing = [s for s in SECTIONS if not "".join(sections.get(s, [])).strip()]
    if not summary or missing:
        lacks = ", ".join(["summary"] * (not summary) + missing)
        raise ValueError(f"{code}: docstring lacks {lacks} (expected: a summary line, then "
                         f"{', '.join(s + ':' for s in SECTIONS)})")
    texts = {s: _section_text(sections[s], block and s == "Example") for s in SECTIONS}
    return {
        "summary": " ".join(summary),
        "rationale": texts["Rationale"],
        "example": texts["Example"],
        "example_is_block": block,
        "fix": texts["Fix"],
    }


def _section_text(lines: list[str], block: bool) -> str:
    if block:
        return textwrap.dedent("\n".join(lines)).strip("\n")
    return "\n".join(line.strip() for line in lines).strip()


def load() -> None:
    """Import every family's module, so that all rules are registered."""
    for family in FAMILIES.values():
        importlib.import_module(family.module)


def rules(family: str | None = None) -> dict[str, Rule]:
    """Every registered rule (or one family's), by code: family by family (GU, BC, PR),
    each in code order."""
    load()
    order = list(FAMILIES)
    return {
        code: r
        for code, r in sorted(RULEBOOK.items(), key=lambda kv: (order.index(kv[1].family), kv[0]))
        if family is None or r.family == family
    }
