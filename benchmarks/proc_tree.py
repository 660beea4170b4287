"""Process trees from ``/proc``, for the benchmarks' memory figures of multi-process engines."""

from __future__ import annotations

from pathlib import Path


def descendants(roots: list[int]) -> list[int]:
    """``roots`` and every process below them (each pid once)."""
    children: dict[int, list[int]] = {}
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                parent = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(proc.name))
    found: list[int] = []
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        pid = stack.pop()
        if pid not in seen:
            seen.add(pid)
            found.append(pid)
            stack.extend(children.get(pid, []))
    return found
