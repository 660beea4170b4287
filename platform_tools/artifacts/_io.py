"""Read one dbt artifact file: JSON of a known ``dbt_schema_version``, else ArtifactError."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from platform_tools.errors import ArtifactError

SCHEMA_PREFIX = "https://schemas.getdbt.com/dbt/"

# artifact kind -> the schema versions this package reads
SUPPORTED_VERSIONS: dict[str, tuple[str, ...]] = {
    "manifest": ("v12",),
    "run-results": ("v6",),
    "sources": ("v3",),
    "catalog": ("v1",),
}

_REGENERATE = {
    "manifest": "run `dbt parse` or `dbt build`",
    "run-results": "run `dbt build` (or run/test/seed/snapshot)",
    "sources": "run `dbt source freshness`",
    "catalog": "run `dbt docs generate`",
}


def read_artifact(path: Path, kind: str) -> dict[str, Any]:
    """Parse ``path`` and check that it is a ``kind`` artifact of a supported schema version.

    ``kind`` is the path segment of the schema URL: ``manifest``, ``run-results``,
    ``sources`` or ``catalog``. Every failure is an :class:`ArtifactError` naming the file.
    """
    return parse_artifact(path, read_bytes(path, kind), kind)


def read_bytes(path: Path, kind: str) -> bytes:
    """The bytes of an artifact file; missing, unreadable or empty is an ArtifactError."""
    hint = _REGENERATE[kind]
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ArtifactError(f"{path}: not found; {hint} first or pass --target-dir") from None
    except IsADirectoryError:
        raise ArtifactError(f"{path}: is a directory, not a dbt artifact file") from None
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot be read ({exc.strerror}); check permissions") from None
    if not raw.strip():
        raise ArtifactError(f"{path}: is empty; {hint} again to regenerate it")
    return raw


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building large object graphs.

    Decoding a big artifact allocates millions of containers and none of them are garbage;
    the collector's repeated passes over them cost as much as the decoding itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def parse_artifact(path: Path, raw: bytes, kind: str) -> dict[str, Any]:
    """JSON-decode ``raw`` (the bytes of ``path``) and check its schema version."""
    hint = _REGENERATE[kind]
    try:
        with paused_gc():
            data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" (line {exc.lineno} column {exc.colno}: {exc.msg})"
        raise ArtifactError(
            f"{path}: is not valid JSON{where}; the file is truncated or corrupt, {hint} again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        raise ArtifactError(f"{path}: has no 'metadata' object; it is not a dbt {kind} artifact")
    version = str(data["metadata"].get("dbt_schema_version") or "")
    expected = [f"{SCHEMA_PREFIX}{kind}/{v}.json" for v in SUPPORTED_VERSIONS[kind]]
    if version not in expected:
        readable = ", ".join(f"{kind} {v}" for v in SUPPORTED_VERSIONS[kind])
        raise ArtifactError(
            f"{path}: unsupported dbt_schema_version {version or '(missing)'!r}; "
            f"platform-tools reads {readable} (dbt 1.8-1.11), {hint} with a supported dbt"
        )
    return data


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict (artifacts use null for 'none')."""
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty list."""
    return value if isinstance(value, list) else []


def as_str(value: Any) -> str | None:
    """A non-empty string form of ``value``, or ``None``."""
    if value is None or value == "":
        return None
    return str(value)
