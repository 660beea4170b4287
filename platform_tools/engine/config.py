"""Where the lakehouse lives and how the engine is reached: one place, read from the environment.

Environment variables (all optional):

``GRIDUNION_LAKEHOUSE``
    The lakehouse directory. Every table, the landing zone and the engine's own files live
    below it. Default: ``<project>/.lakehouse``.
``GRIDUNION_ENGINE_PORT``
    The Spark Connect port of the embedded engine on 127.0.0.1. Default: 50051.
``GRIDUNION_SESSION_ID``
    The Spark Connect session every client joins, so that all dbt processes share one
    catalog. Default: :data:`DEFAULT_SESSION_ID` (``profiles.yml`` uses the same default).
``GRIDUNION_PROJECT_DIR``
    The dbt project directory, when it is not the current directory or one of its parents.
``GRIDUNION_ENGINE_RECYCLE_MB``
    After a writing dbt command, an embedded engine holding more resident memory than this
    is stopped, and the next command starts it afresh (Sail keeps the memory it freed, so a
    long-lived engine grows by every build). Default 2048; ``0`` never.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from platform_tools.errors import UsageError

DEFAULT_PORT = 50051
DEFAULT_SESSION_ID = "6a1d5c3e-0b7f-4c1e-9d2a-5f0e7b9c4a11"
# Sail ends an idle Spark Connect session after 900 s by default, and the session holds the
# catalog. A week of idleness is far beyond any build; ensure_running() rebuilds the catalog
# if a session was lost anyway.
SESSION_TIMEOUT_SECS = 7 * 24 * 3600
# The engine process's environment defaults; a variable already set in the environment wins.
ENGINE_ENV_DEFAULTS: dict[str, str] = {
    "SAIL_SPARK__SESSION_TIMEOUT_SECS": str(SESSION_TIMEOUT_SECS),
    "RUST_LOG": "warn",
    # Sail allocates through mimalloc, which by default kept freed pages long enough that
    # the memory of one finished query still counted while the next ran: the metering daily
    # build peaked at 0.97-1.08 GB. Returning them after 10 ms: 0.88 GB, same build time
    # (docs/benchmarks.md); 0 ms cost 20 % more time.
    "MIMALLOC_PURGE_DELAY": "10",
}


# Sail versions whose distributed mode (`SAIL_MODE=local-cluster`, `kubernetes-cluster`) gave
# wrong or failing results on this project (PLATFORM.md, docs/decisions.md): "no UDF found for
# upper/md5/lower/substr/sha2/nullif" inside CTAS/INSERT, and wrong column types read after a
# full refresh of a partitioned table until a restart. The engine refuses that mode on them.
SAIL_CLUSTER_MODE_BROKEN_UP_TO = (0, 7, 2)


def engine_environment(base: Mapping[str, str]) -> dict[str, str]:
    """The environment of the engine process: ``base`` plus :data:`ENGINE_ENV_DEFAULTS`.

    Raises UsageError for a ``SAIL_MODE`` other than ``local`` on a Sail version whose
    cluster mode is known to give wrong results on this project."""
    environment = {**ENGINE_ENV_DEFAULTS, **base}
    mode = environment.get("SAIL_MODE", "").strip()
    if mode and mode != "local":
        version = sail_version()
        if version is not None and version <= SAIL_CLUSTER_MODE_BROKEN_UP_TO:
            shown = ".".join(str(part) for part in version)
            raise UsageError(
                f"SAIL_MODE={mode} is refused: Sail {shown}'s distributed mode gives wrong "
                "results on this project (docs/decisions.md); unset SAIL_MODE to run the "
                "local engine, or use the cluster target for a distributed Spark"
            )
    return environment


def sail_version() -> tuple[int, ...] | None:
    """The installed pysail version as numbers, or None when it cannot be read."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        text = version("pysail")
    except PackageNotFoundError:
        return None
    parts = []
    for piece in text.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def find_project_dir(start: Path | None = None) -> Path:
    """Return the dbt project directory: ``GRIDUNION_PROJECT_DIR`` or the nearest parent with
    a ``dbt_project.yml``, falling back to the current directory."""
    explicit = os.environ.get("GRIDUNION_PROJECT_DIR")
    if explicit:
        return Path(explicit).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    return here


@dataclass(frozen=True)
class EngineConfig:
    """Resolved settings of the embedded engine."""

    lakehouse: Path
    port: int
    session_id: str
    host: str = "127.0.0.1"

    @classmethod
    def from_env(cls, project_dir: Path | None = None) -> EngineConfig:
        """Read the settings from the environment (see the module docstring)."""
        raw_lakehouse = os.environ.get("GRIDUNION_LAKEHOUSE")
        if raw_lakehouse:
            lakehouse = Path(raw_lakehouse).expanduser()
        else:
            lakehouse = (project_dir or find_project_dir()) / ".lakehouse"
        port = port_from_env()
        session_id = os.environ.get("GRIDUNION_SESSION_ID", DEFAULT_SESSION_ID)
        return cls(lakehouse=lakehouse.resolve(), port=port, session_id=session_id)

    @property
    def warehouse(self) -> Path:
        """Directory holding one sub-directory per schema, one Delta table per sub-directory."""
        return self.lakehouse / "warehouse"

    @property
    def landing(self) -> Path:
        """The landing zone the source systems drop their files into."""
        return self.lakehouse / "landing"

    @property
    def state_dir(self) -> Path:
        """The engine's own files: pid, state, log and working directory."""
        return self.lakehouse / "_engine"

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "engine.pid"

    @property
    def state_file(self) -> Path:
        return self.state_dir / "engine.json"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "engine.log"

    @property
    def lock_file(self) -> Path:
        return self.state_dir / "engine.lock"

    @property
    def remote_url(self) -> str:
        """The Spark Connect URL every client of the shared session uses."""
        return f"sc://{self.host}:{self.port}/;session_id={self.session_id}"


RECYCLE_VARIABLE = "GRIDUNION_ENGINE_RECYCLE_MB"
DEFAULT_RECYCLE_MB = 2048


def recycle_limit_from_env(environ: Mapping[str, str] = os.environ) -> int | None:
    """``GRIDUNION_ENGINE_RECYCLE_MB`` (default 2048; ``0``: never recycle, ``None``)."""
    raw = environ.get(RECYCLE_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_RECYCLE_MB
    if not raw.isdigit():
        raise UsageError(
            f"{RECYCLE_VARIABLE}={raw!r} is not a whole number of megabytes; unset it "
            f"(default {DEFAULT_RECYCLE_MB}) or set 0 to never restart the engine"
        )
    return int(raw) or None


def port_from_env(environ: Mapping[str, str] = os.environ) -> int:
    """``GRIDUNION_ENGINE_PORT`` (default 50051); anything but a TCP port: one line, exit 2."""
    raw_port = environ.get("GRIDUNION_ENGINE_PORT", str(DEFAULT_PORT)).strip()
    try:
        port = int(raw_port)
    except ValueError:
        raise UsageError(
            f"GRIDUNION_ENGINE_PORT={raw_port!r} is not a port number; "
            "set it to a free TCP port such as 50051"
        ) from None
    if not 1 <= port <= 65535:
        raise UsageError(f"GRIDUNION_ENGINE_PORT={port} is out of range; use 1-65535")
    return port
