"""Make plain functions callable from Jinja as ``adapter.<name>(...)`` (idempotent)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def add_adapter_methods(methods: dict[str, Callable[..., Any]]) -> None:
    """Add ``methods`` (name -> function of the arguments, without ``self``) to dbt-spark's
    adapter and to the names dbt lets Jinja call; nothing when dbt-spark is missing."""
    try:
        from dbt.adapters.spark.impl import SparkAdapter
    except ImportError:  # dbt-spark is not installed
        return
    missing = {name: fn for name, fn in methods.items() if name not in SparkAdapter._available_}
    for name, function in missing.items():
        setattr(SparkAdapter, name, _as_method(function))
    SparkAdapter._available_ = SparkAdapter._available_ | frozenset(missing)


def _as_method(function: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        del self
        return function(*args, **kwargs)

    method.__name__ = function.__name__
    return method
