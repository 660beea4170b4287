"""The rules section of ``docs/platform_tools.md``, generated from the rules' docstrings.

The section sits between :data:`START` and :data:`END`; ``make rules-docs``
(``platform-tools rules --write-docs``) rewrites it, and a unit test fails when it differs
from what the docstrings generate.
"""

from __future__ import annotations

from pathlib import Path

from platform_tools.errors import UsageError
from platform_tools.rules.formats import to_markdown
from platform_tools.rules.rulebook import rules

DOCS_FILE = Path("docs") / "platform_tools.md"
START = "<!-- rules:start -->"
END = "<!-- rules:end -->"
REGENERATE = "make rules-docs"


def generated() -> str:
    """What the rules section holds: every rule, from its docstring."""
    return to_markdown(rules().values())


def _bounds(text: str, where: str) -> tuple[int, int]:
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise UsageError(f"{where}: expected one {START} line and one {END} line after it "
                         "around the rules section")
    return start + len(START) + 1, end


def section(text: str, where: str = str(DOCS_FILE)) -> str:
    """The text between the markers of ``text``."""
    start, end = _bounds(text, where)
    return text[start:end]


def with_section(text: str, body: str, where: str = str(DOCS_FILE)) -> str:
    """``text`` with the text between its markers replaced by ``body``."""
    start, end = _bounds(text, where)
    return text[:start] + body + text[end:]


def is_current(path: Path) -> bool:
    """Whether the rules section of ``path`` is what the docstrings generate."""
    return section(path.read_text(encoding="utf-8"), str(path)) == generated()


def write(path: Path) -> bool:
    """Rewrite the rules section of ``path``; whether it changed."""
    text = path.read_text(encoding="utf-8")
    updated = with_section(text, generated(), str(path))
    if updated == text:
        return False
    path.write_text(updated, encoding="utf-8")
    return True
