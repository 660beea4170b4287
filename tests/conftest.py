"""How the suite is spread over processes (`make test` runs pytest-xdist on two workers).

Each test module is one unit of work, so its module-scoped fixtures (a built lakehouse, a
running engine) are built once, on one worker. All the JVM modules (their tests are marked
``spark``; their file names start with ``test_spark_``, checked at collection) form one unit:
one Spark at a time on a small machine. They are collected first, so the longest unit starts
at once and the Sail modules fill the other worker; then the engine tests, then the rest.
Without xdist (``make test PYTEST_WORKERS=0``) only the order changes.

(pytest-xdist's own ``--dist loadgroup`` cannot be used: it groups by rewriting
``item._nodeid``, which pytest 9 no longer reads.)
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

import pytest

JVM_UNIT = "jvm"
JVM_MODULE_PREFIX = "test_spark_"


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def unit_of_work(nodeid: str) -> str:
    """The scheduling unit of a test: its module, or one unit for every JVM module."""
    module = _module(nodeid)
    return JVM_UNIT if PurePosixPath(module).name.startswith(JVM_MODULE_PREFIX) else module


def _rank(item: pytest.Item) -> int:
    if item.get_closest_marker("spark") is not None:
        return 0
    if item.get_closest_marker("engine") is not None:
        return 1
    return 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if (_rank(item) == 0) != (unit_of_work(item.nodeid) == JVM_UNIT):
            raise pytest.UsageError(
                f"{_module(item.nodeid)}: a module of `spark` tests must be named "
                f"{JVM_MODULE_PREFIX}*.py and only those (tests/conftest.py schedules them "
                "on one worker)"
            )
    items.sort(key=_rank)  # stable: the modules keep their order within a rank


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return unit_of_work(nodeid)

    return ModuleScheduling(config, log)
