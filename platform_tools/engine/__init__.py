"""The embedded engine: a Sail Spark Connect server writing Delta tables into one lakehouse."""

from platform_tools.engine.config import EngineConfig
from platform_tools.engine.server import EngineStatus, down, ensure_running, status, up

__all__ = ["EngineConfig", "EngineStatus", "down", "ensure_running", "status", "up"]
