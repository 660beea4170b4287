"""How the suite is spread over processes (`make test` runs pytest-xdist with ``--dist loadgroup``).

Each test module is one group, so its module-scoped fixtures (a built lakehouse, a running
engine) are built once, on one worker. All the JVM tests (marked ``spark``) form one group:
one Spark at a time on a small machine. They are collected first, so the longest group starts
at once and the Sail modules fill the other worker; then the engine tests, then the rest.
Without xdist (``make test PYTEST_WORKERS=0``) the marks are inert and only the order changes.
"""

from __future__ import annotations

import pytest

JVM_GROUP = "jvm"


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("spark") is not None:
        return 0
    if item.get_closest_marker("engine") is not None:
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = JVM_GROUP if _rank(item) == 0 else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
    items.sort(key=_rank)  # stable: the modules keep their order within a rank
