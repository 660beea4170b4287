"""A parse cache for large artifacts, like dbt's own ``partial_parse.msgpack``.

Parsing a 60 MB ``manifest.json`` with the standard ``json`` module takes seconds; the handful
of fields the tools keep takes a tenth of that. After a successful parse, the slim form is
written (as JSON, never pickle) to ``<target>/.platform_tools_cache/<file>.<key>.json``,
where the key covers the file's size, modification time and CRC-32 of its bytes, the cache
format and the package version. Any change to the artifact is a cache miss; a missing,
unreadable or malformed cache entry is ignored. ``dbt clean`` removes the cache with the rest
of ``target/``; ``PLATFORM_TOOLS_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from platform_tools import __version__
from platform_tools.artifacts._io import paused_gc

CACHE_DIR = ".platform_tools_cache"
NO_CACHE_ENV = "PLATFORM_TOOLS_NO_CACHE"
FORMAT = 3  # 3: Exposure.group
MIN_SIZE = 1_000_000  # smaller files parse faster than the cache is checked

T = TypeVar("T")


def enabled() -> bool:
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("1", "true", "yes")


def _key(path: Path, raw: bytes) -> str:
    stat = path.stat()
    text = f"{FORMAT}|{__version__}|{stat.st_size}|{stat.st_mtime_ns}|{zlib.crc32(raw)}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _entry(path: Path, key: str) -> Path:
    return path.parent / CACHE_DIR / f"{path.name}.{key}.json"


def cached_parse(
    path: Path,
    raw: bytes,
    parse: Callable[[], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
) -> T:
    """``decode`` the cached slim form of ``path`` (whose bytes are ``raw``), or ``parse``
    it and store ``encode(result)`` for next time."""
    if not enabled() or len(raw) < MIN_SIZE:
        return parse()
    try:
        key = _key(path, raw)
    except OSError:
        return parse()
    entry = _entry(path, key)
    try:
        with paused_gc():
            return decode(json.loads(entry.read_bytes()))
    except Exception:  # no entry, or an unusable one: parse the artifact
        pass
    with paused_gc():
        result = parse()
    # a read-only target directory or a full disk means no cache, and no harm
    with contextlib.suppress(Exception):
        _store(entry, encode(result))
    return result


def _store(entry: Path, slim: Any) -> None:
    entry.parent.mkdir(exist_ok=True)
    prefix = entry.name.split(".", 1)[0]
    for old in entry.parent.glob(f"{prefix}.*.json"):
        if old != entry:
            old.unlink(missing_ok=True)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(slim, separators=(",", ":")), encoding="utf-8")
    tmp.replace(entry)
