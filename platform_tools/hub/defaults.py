"""Defaults of the hub, importable without dbt (fast CLI start)."""

from __future__ import annotations

DEFAULT_SELECT = "source:landing+"
