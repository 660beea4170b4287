"""One writer per lakehouse for dbt: writing commands hold ``platform_tools.writer_lock``.

dbt runs every command through a task's ``run()``; this wraps it for the tasks that write
(``build``, ``run``, ``seed``, ``snapshot``, ``test`` — whose on-run-start hooks write too —,
``run-operation``, ``clone`` and what ``retry`` re-runs). ``ls``, ``parse``, ``compile``,
``show``, ``docs generate``, ``source freshness`` and ``debug`` never wait. Per invocation,
not per process, so a long-running hub holds the lock only while it builds.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any


def _is_writer(task: Any) -> bool:
    from dbt.task.clone import CloneTask
    from dbt.task.freshness import FreshnessTask
    from dbt.task.run import RunTask
    from dbt.task.run_operation import RunOperationTask

    if isinstance(task, FreshnessTask):
        return False
    return isinstance(task, RunTask | CloneTask | RunOperationTask)


def _command() -> str:
    try:
        from dbt.flags import get_flags

        which = getattr(get_flags(), "WHICH", None)
    except Exception:
        which = None
    return f"dbt {which or 'command'}"


def _notify(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def _wrap(cls: Any) -> None:
    original = cls.run
    if getattr(original, "_gridunion_writer", False):
        return

    def run(self: Any) -> Any:
        lakehouse = os.environ.get("GRIDUNION_LAKEHOUSE")
        from dbt_gridunion.engine_hook import offline_mode

        if not lakehouse or offline_mode() or not _is_writer(self):
            return original(self)
        from dbt_common.exceptions import DbtRuntimeError

        from platform_tools.errors import PlatformError
        from platform_tools.writer_lock import acquire, release, timeout_from_env

        try:
            acquire(Path(lakehouse), _command(), timeout_from_env(), _notify)
        except PlatformError as exc:
            raise DbtRuntimeError(exc.message) from None
        try:
            return original(self)
        finally:
            release(Path(lakehouse))

    run._gridunion_writer = True  # type: ignore[attr-defined]
    cls.run = run


def install_writer_lock() -> None:
    """Wrap the ``run`` of dbt's graph tasks and of ``run-operation`` (idempotent)."""
    try:
        from dbt.task.run_operation import RunOperationTask
        from dbt.task.runnable import GraphRunnableTask
    except ImportError:  # pragma: no cover - dbt-core always ships them
        return
    _wrap(GraphRunnableTask)
    _wrap(RunOperationTask)
