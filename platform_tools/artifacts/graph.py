"""Graph walks over the dbt DAG, iterative so that a 10,000-deep chain is no problem."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping


def reachable(edges: Mapping[str, Iterable[str]], start: Iterable[str]) -> set[str]:
    """Every node reachable from ``start`` through ``edges`` (``start`` itself excluded
    unless a path leads back to it)."""
    seen: set[str] = set()
    queue = deque(start)
    while queue:
        current = queue.popleft()
        for nxt in edges.get(current, ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def invert(edges: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """The reverse adjacency of ``edges`` (children to parents and back)."""
    inverted: dict[str, list[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            inverted.setdefault(target, []).append(source)
    return inverted


def strongly_connected(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Strongly connected components with more than one vertex, or a self-loop (Tarjan,
    iterative). Each component is sorted; the list is sorted by its first vertex."""
    vertices = set(edges)
    for targets in edges.values():
        vertices.update(targets)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in sorted(vertices):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            vertex, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[vertex] = min(low[vertex], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[vertex])
            if low[vertex] == index[vertex]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == vertex:
                        break
                if len(component) > 1 or vertex in edges.get(vertex, ()):
                    components.append(sorted(component))
    return sorted(components, key=lambda c: c[0])


def cycle_path(edges: Mapping[str, Iterable[str]], component: Iterable[str]) -> list[str]:
    """A shortest cycle through the first vertex of ``component``, as ``[a, b, ..., a]``."""
    members = sorted(component)
    allowed = set(members)
    start = members[0]
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue:
        current = queue.popleft()
        for nxt in sorted(edges.get(current, ())):
            if nxt not in allowed:
                continue
            if nxt == start:
                path = [current]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [*reversed(path), start]
            if nxt not in previous:
                previous[nxt] = current
                queue.append(nxt)
    return [start, start]
