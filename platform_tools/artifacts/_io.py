"""Read one dbt artifact file: JSON of a known ``dbt_schema_version``, else ArtifactError."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, TypeVar, cast

import msgspec
import orjson

from platform_tools.artifacts.schema import Artifact
from platform_tools.errors import ArtifactError

A = TypeVar("A", bound=Artifact)

SCHEMA_PREFIX = "https://schemas.getdbt.com/dbt/"

# artifact kind -> the schema versions this package reads, oldest first
SUPPORTED_VERSIONS: dict[str, tuple[str, ...]] = {
    "manifest": ("v10", "v11", "v12"),
    "run-results": ("v4", "v5", "v6"),
    "sources": ("v3",),
    "catalog": ("v1",),
}
# artifact kind -> the dbt versions that write the supported schema versions
DBT_VERSIONS: dict[str, str] = {
    "manifest": "dbt 1.6-1.12",  # v10 1.6, v11 1.7, v12 1.8-1.12
    "run-results": "dbt 1.3-1.12",  # v4 1.3-1.6, v5 1.7, v6 1.8-1.12
    "sources": "dbt 1.3-1.12",
    "catalog": "dbt 1.3-1.12",
}

# The top-level keys a command reads, per kind: (key, JSON type, required, type of each item
# or None). An optional one may be missing or null (older schemas lack ``unit_tests``, dbt
# writes ``"disabled": null``); one that is there must have the right type, as must its items.
_SHAPE: dict[str, tuple[tuple[str, type, bool, type | None], ...]] = {
    "manifest": (
        ("nodes", dict, True, dict), ("sources", dict, False, dict),
        ("exposures", dict, False, dict), ("groups", dict, False, dict),
        ("disabled", dict, False, list), ("unit_tests", dict, False, dict),
        ("semantic_models", dict, False, dict), ("metrics", dict, False, dict),
    ),
    "run-results": (("results", list, True, dict), ("args", dict, False, None)),
    "sources": (("results", list, True, dict),),
    "catalog": (("nodes", dict, True, dict), ("sources", dict, False, dict)),
}
_JSON_TYPE = {dict: "an object", list: "an array", str: "a string", int: "a number",
              float: "a number", bool: "a boolean", type(None): "null"}

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
            # orjson: about 3x faster than `json` on a large manifest (docs/benchmarks.md);
            # its errors are json.JSONDecodeError too
            data = orjson.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = ""
        if isinstance(exc, json.JSONDecodeError):
            where = f" (line {exc.lineno} column {exc.colno}: {exc.msg})"
        raise ArtifactError(
            f"{path}: is not valid JSON{where}; the file is truncated or corrupt, {hint} again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("metadata"), dict):
        raise ArtifactError(f"{path}: has no 'metadata' object; it is not a dbt {kind} artifact")
    check_version(path, data["metadata"].get("dbt_schema_version"), kind)
    check_shape(path, data, kind)
    return data


def decode_artifact(path: Path, raw: bytes, kind: str, doc_type: type[A]) -> A:
    """Decode ``raw`` (the bytes of ``path``) straight into ``doc_type``, its fields only.

    A file the typed decoder refuses (not JSON, not an artifact, a collection of the wrong
    type) goes through :func:`parse_artifact`, whose one-line error names the problem; one
    that passes there too is converted from its JSON values (:func:`to_doc`).
    """
    try:
        if not raw.isascii():  # msgspec skips unread strings unchecked; orjson rejects bad UTF-8
            raw.decode()
        with paused_gc():
            doc = _decoder(doc_type).decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):  # a ValidationError is a DecodeError
        return to_doc(path, parse_artifact(path, raw, kind), doc_type)
    check_version(path, doc.metadata.dbt_schema_version, kind)
    return doc


def to_doc(path: Path, data: Mapping[str, Any], doc_type: type[A]) -> A:
    """``data`` (JSON values) as ``doc_type``; a value of another type is an ArtifactError."""
    try:
        with paused_gc():
            return msgspec.convert(data, doc_type)
    except msgspec.ValidationError as exc:
        raise ArtifactError(
            f"{path}: unexpected structure ({exc}); regenerate it with dbt"
        ) from None


@cache
def _decoder(doc_type: type[A]) -> msgspec.json.Decoder[A]:
    return msgspec.json.Decoder(doc_type)


def check_version(path: Path, version: Any, kind: str) -> None:
    """Raise :class:`ArtifactError` unless ``version`` (``metadata.dbt_schema_version``) is
    one of the ``kind`` schema versions this package reads."""
    found = str(version or "")
    expected = [f"{SCHEMA_PREFIX}{kind}/{v}.json" for v in SUPPORTED_VERSIONS[kind]]
    if found not in expected:
        raise ArtifactError(
            f"{path}: unsupported dbt_schema_version {found or '(missing)'!r}; "
            f"platform-tools reads {supported_range(kind)}, {_REGENERATE[kind]} with a "
            "supported dbt"
        )


def supported_range(kind: str) -> str:
    """``manifest v10-v12 (dbt 1.6-1.12)``: the schema versions read, for messages."""
    versions = SUPPORTED_VERSIONS[kind]
    span = versions[0] if len(versions) == 1 else f"{versions[0]}-{versions[-1]}"
    return f"{kind} {span} ({DBT_VERSIONS[kind]})"


def _json_type(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def check_shape(path: Path, data: dict[str, Any], kind: str) -> None:
    """Raise :class:`ArtifactError` when a collection the tools read has the wrong JSON
    type (``"nodes": null``, results that are not objects...): one line naming the key."""
    hint = _REGENERATE[kind]
    for key, expected, required, item_type in _SHAPE[kind]:
        value = data.get(key)
        if value is None and not required:
            continue
        if not isinstance(value, expected):
            found = "missing" if key not in data else _json_type(value)
            raise ArtifactError(
                f"{path}: '{key}' is {found}, expected {_JSON_TYPE[expected]}; it is not a "
                f"well-formed dbt {kind} artifact, {hint} again"
            )
        if item_type is None:
            continue
        items: Iterable[tuple[Any, Any]] = (
            value.items() if isinstance(value, dict) else enumerate(cast("list[Any]", value))
        )
        for name, item in items:
            if not isinstance(item, item_type):
                raise ArtifactError(
                    f"{path}: '{key}' entry {str(name)[:120]!r} is {_json_type(item)}, expected "
                    f"{_JSON_TYPE[item_type]}; it is not a well-formed dbt {kind} artifact, "
                    f"{hint} again"
                )


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
