"""One writer per lakehouse for dbt: writing commands hold ``platform_tools.writer_lock``.

dbt runs every command through a task's ``run()``; this wraps it for the tasks that write
(``build``, ``run``, ``seed``, ``snapshot``, ``test`` — whose on-run-start hooks write too —,
``run-operation``, ``clone`` and what ``retry`` re-runs). ``ls``, ``parse``, ``compile``,
``show``, ``docs generate``, ``source freshness`` and ``debug`` never wait. Per invocation,
not per process, so a long-running hub holds the lock only while it builds.

Before it releases the lock, a writing command on the embedded engine compacts and
checkpoints the Delta tables that are due and recycles an engine that holds too much memory
(:func:`after_writing`).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

UPKEEP_VARIABLE = "GRIDUNION_TABLE_UPKEEP"


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


def after_writing() -> None:
    """The embedded engine's upkeep after a writing command, still holding the writer lock:
    compact and checkpoint the due Delta tables of its warehouse (Spark's Delta Lake does its
    own; ``GRIDUNION_TABLE_UPKEEP=0`` turns it off), then stop the engine when it holds more
    memory than ``GRIDUNION_ENGINE_RECYCLE_MB`` (the next command starts it afresh)."""
    from dbt_gridunion.engine_hook import embedded_engines
    from platform_tools.engine.config import RECYCLE_VARIABLE, recycle_limit_from_env
    from platform_tools.engine.server import recycle_if_over

    engines = embedded_engines()
    if os.environ.get(UPKEEP_VARIABLE, "1").strip().lower() not in {"0", "off", "false"}:
        for warehouse in sorted({cfg.warehouse for cfg in engines}):
            maintain_tables(warehouse)
    limit = recycle_limit_from_env()
    if limit is None:
        return
    for cfg in engines:
        held = recycle_if_over(cfg, limit)
        if held is not None:
            _notify(
                f"embedded engine: stopped after this command, holding {held:,.0f} MB "
                f"(over {RECYCLE_VARIABLE}={limit}); the next command starts it afresh"
            )


def maintain_tables(warehouse: Path) -> None:
    """Compact and checkpoint the due Delta tables of ``warehouse``
    (:mod:`platform_tools.engine.maintenance`), one line when any were."""
    from platform_tools.engine.maintenance import upkeep

    started = time.monotonic()
    done = upkeep(warehouse)
    for failed in (result for result in done if result.error):
        _notify(f"table upkeep: {failed.line()}")
    if done:
        _notify(
            f"table upkeep: {len(done)} Delta table(s) of {warehouse} compacted and "
            f"checkpointed in {time.monotonic() - started:.1f} s"
        )


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
            result = original(self)
            after_writing()
            return result
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
