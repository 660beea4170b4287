"""The platform tools' one configuration file, ``platform_tools.toml``.

Lookup: ``--config FILE`` on the command line, else ``$PLATFORM_TOOLS_CONFIG``, else
``<project>/platform_tools.toml`` (the dbt project directory, found like dbt finds it), else
built-in defaults. An explicitly named file that does not exist, invalid TOML, an unknown
section or key, or a value of the wrong type is a usage error (exit 2) naming the file and
the key. Sections: ``[deps]``, ``[cost]`` (and ``[cost.teams.<team>]``), ``[observe]``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from platform_tools.errors import UsageError

CONFIG_FILE_NAME = "platform_tools.toml"
CONFIG_ENV = "PLATFORM_TOOLS_CONFIG"
SECTIONS = ("deps", "cost", "observe")


@dataclass(frozen=True)
class Settings:
    """The parsed file: raw sections, checked for unknown sections only (each command checks
    its own keys)."""

    path: Path | None
    sections: Mapping[str, Mapping[str, Any]]

    def section(self, name: str) -> Mapping[str, Any]:
        return self.sections.get(name, {})

    def where(self, key: str) -> str:
        return f"{self.path or '(defaults)'}: {key}"


def default_config_path() -> Path | None:
    """``$PLATFORM_TOOLS_CONFIG``, else ``<project>/platform_tools.toml`` if it exists."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit)
    from platform_tools.engine.config import find_project_dir

    candidate = find_project_dir() / CONFIG_FILE_NAME
    return candidate if candidate.is_file() else None


def load_settings(path: Path | None = None) -> Settings:
    """Read the configuration file (see the module docstring for the lookup order)."""
    chosen = path if path is not None else default_config_path()
    if chosen is None:
        return Settings(path=None, sections={})
    import tomllib  # here: most runs have no configuration file to parse

    try:
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{chosen}: configuration file not found; fix --config") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{chosen}: cannot read the configuration file ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{chosen}: invalid TOML ({exc}); fix the file") from None
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise UsageError(
            f"{chosen}: unknown section [{unknown[0]}]; known sections: "
            + ", ".join(f"[{s}]" for s in SECTIONS)
        )
    for name, value in data.items():
        if not isinstance(value, dict):
            raise UsageError(f"{chosen}: '{name}' must be a table ([{name}])")
    return Settings(path=chosen, sections=data)


# typed accessors ---------------------------------------------------------------------------
def check_keys(table: Mapping[str, Any], allowed: Iterable[str], where: str) -> None:
    """Reject keys of ``table`` not in ``allowed``."""
    known = sorted(allowed)
    for key in table:
        if key not in known:
            raise UsageError(
                f"{where}: unknown key '{key}'; known keys: {', '.join(known)}"
            )


def to_decimal(value: Any, where: str, *, minimum: Decimal = Decimal(0)) -> Decimal:
    """A money or rate value: a number or a numeric string (strings keep exact decimals)."""
    if isinstance(value, bool):
        raise UsageError(f"{where}: expected a number, got {value!r}")
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise UsageError(f"{where}: expected a number, got {value!r}") from None
    if not result.is_finite() or result < minimum:
        raise UsageError(f"{where}: expected a number >= {minimum}, got {value!r}")
    return result


def to_float(value: Any, where: str, *, minimum: float = 0.0, maximum: float | None = None
             ) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise UsageError(f"{where}: expected a number, got {value!r}")
    try:
        result = float(value)
    except ValueError:
        raise UsageError(f"{where}: expected a number, got {value!r}") from None
    if result != result or result < minimum or (maximum is not None and result > maximum):
        bounds = f">= {minimum}" + (f" and <= {maximum}" if maximum is not None else "")
        raise UsageError(f"{where}: expected a number {bounds}, got {value!r}")
    return result


def to_int(value: Any, where: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise UsageError(f"{where}: expected an integer >= {minimum}, got {value!r}")
    return value


def to_str(value: Any, where: str, choices: Iterable[str] | None = None) -> str:
    if not isinstance(value, str) or not value:
        raise UsageError(f"{where}: expected a non-empty string, got {value!r}")
    options = list(choices or ())
    if options and value not in options:
        raise UsageError(f"{where}: expected one of {', '.join(options)}, got {value!r}")
    return value


def to_str_list(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{where}: expected a list of strings, got {value!r}")
    return tuple(value)
