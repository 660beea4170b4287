"""The embedded engine: a Sail Spark Connect server writing Delta tables into one lakehouse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from platform_tools.engine.config import EngineConfig

if TYPE_CHECKING:
    from platform_tools.engine.server import EngineStatus, down, ensure_running, status, up

__all__ = ["EngineConfig", "EngineStatus", "down", "ensure_running", "status", "up"]
_SERVER = frozenset({"EngineStatus", "down", "ensure_running", "status", "up"})


def __getattr__(name: str) -> Any:
    # the server (sockets, subprocesses) loads on first use: the analysis commands read only
    # the engine's configuration (where the lakehouse is)
    if name in _SERVER:
        from platform_tools.engine import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
