"""Record every dbt command's results into the lakehouse run history, automatically.

At exit of a ``dbt build | run | test | seed | snapshot | retry`` process — the commands
:mod:`platform_tools.artifacts.runs` counts as runs of the pipeline — after dbt has written
``run_results.json`` (also for a failed run), the results are stored under
``<lakehouse>/_history/runs/<invocation_id>/`` by :func:`platform_tools.observe.history.record_run`,
which never raises, prints nothing on success and ignores an invocation it already holds.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path

_registered = False


def _target_dir() -> Path | None:
    try:
        from dbt.flags import get_flags

        flags = get_flags()
    except Exception:
        return None
    from platform_tools.artifacts.runs import PIPELINE_COMMANDS

    if getattr(flags, "WHICH", None) not in PIPELINE_COMMANDS:
        return None
    project_dir = Path(getattr(flags, "PROJECT_DIR", None) or os.getcwd())
    target_path = getattr(flags, "TARGET_PATH", None) or os.environ.get("DBT_TARGET_PATH")
    return (
        Path(target_path)
        if target_path and Path(target_path).is_absolute()
        else (project_dir / (target_path or "target"))
    )


def _record(target_dir: Path) -> None:
    if os.environ.get("GRIDUNION_RECORD_RUNS", "1") == "0":
        return
    lakehouse = os.environ.get("GRIDUNION_LAKEHOUSE")
    if not lakehouse or not Path(lakehouse).is_dir():
        return
    from platform_tools.observe.history import record_run

    record_run(target_dir, Path(lakehouse) / "_history")


def install_run_recorder() -> None:
    """Register the exit hook once, for the commands whose results are history."""
    global _registered
    target_dir = _target_dir()
    if _registered or target_dir is None:
        return
    atexit.register(_record, target_dir)
    _registered = True
