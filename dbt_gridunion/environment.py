"""Check the ``GRIDUNION_*`` variables that the profile and the plugin read, before dbt runs.

``profiles.yml`` renders ``GRIDUNION_THREADS`` with Jinja's ``int`` filter, which turns
``abc`` into 0 threads (dbt then crashes with a traceback), and ``GRIDUNION_ENGINE_PORT`` into
a Spark Connect URL that fails far from the variable. The plugin is imported after the
profile is read and before anything runs, so it checks every such variable there and stops
the command with dbt's own error, one line naming the variable and what to set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from platform_tools.engine.config import port_from_env, recycle_limit_from_env
from platform_tools.errors import UsageError
from platform_tools.writer_lock import timeout_from_env

THREADS_VARIABLE = "GRIDUNION_THREADS"


def threads_from_env(environ: Mapping[str, str] = os.environ) -> int | None:
    """``GRIDUNION_THREADS`` as a whole number >= 1, ``None`` when unset."""
    raw = environ.get(THREADS_VARIABLE, "").strip()
    if not raw:
        return None
    if not raw.isdigit() or int(raw) < 1:
        raise UsageError(
            f"{THREADS_VARIABLE}={raw!r} is not a whole number of at least 1; unset it "
            f"(default 4) or set e.g. {THREADS_VARIABLE}=4"
        )
    return int(raw)


def check_environment(environ: Mapping[str, str] = os.environ) -> None:
    """Raise :class:`UsageError` for the first unusable ``GRIDUNION_*`` variable."""
    threads_from_env(environ)
    port_from_env(environ)
    timeout_from_env(environ)
    recycle_limit_from_env(environ)


def check_environment_for_dbt() -> None:
    """:func:`check_environment`, failing the dbt command in dbt's own way."""
    try:
        check_environment()
    except UsageError as exc:
        from dbt_common.exceptions import DbtRuntimeError

        raise DbtRuntimeError(exc.message) from None
