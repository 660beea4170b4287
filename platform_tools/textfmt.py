"""Plain-text and Markdown tables shared by every command's formatters (the render layer's
helpers, imported by each domain's `formats.py` without reaching into `report`)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

MAX_CELL = 80


def _cell(value: object, limit: int) -> str:
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def text_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, limit: int = MAX_CELL
) -> str:
    """A left-aligned terminal table with a dashed rule under the header."""
    body = [[_cell(v, limit) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in body:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in body:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def md_escape(value: object) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def md_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table (cells escaped)."""
    lines = [
        "| " + " | ".join(md_escape(h) for h in headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(md_escape(v) for v in row) + " |")
    return "\n".join(lines)


def join(values: Iterable[object], empty: str = "—") -> str:
    items = [str(v) for v in values if v not in (None, "")]
    return ", ".join(items) if items else empty


def dump_json(data: object) -> str:
    """JSON text for machine-readable output: compact, one line, newline-terminated.

    (Indented output uses the pure-Python encoder, several times slower on large reports;
    pipe through ``jq .`` to read it.)
    """
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"
