"""A parse cache for large artifacts, like dbt's own ``partial_parse.msgpack``.

Parsing a 60 MB ``manifest.json`` takes a third of a second or more; the handful of fields
the tools keep takes a fraction of that. After a successful parse, the slim form is written
(as JSON, never pickle: the manifest's structs as arrays through msgspec, others through
orjson) to ``<target>/.platform_tools_cache/<file>.<key>.json``, where the key covers
the cache format, the package version and the file's stat: size, inode, modification and
change times (ns), like git's index. A hit never reads the artifact. A file modified less
than :data:`SETTLE_NS` ago (a later write within the same file-system timestamp tick could
keep its stat) is keyed by the CRC-32 of its bytes too. Any change to the artifact is a cache
miss; a missing, unreadable or malformed cache entry is ignored. ``dbt clean`` removes the
cache with the rest of ``target/``; ``PLATFORM_TOOLS_NO_CACHE=1`` turns it off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from platform_tools import __version__
from platform_tools.artifacts._io import paused_gc

CACHE_DIR = ".platform_tools_cache"
NO_CACHE_ENV = "PLATFORM_TOOLS_NO_CACHE"
FORMAT = 4  # 3: Exposure.group; 4: the manifest as arrays of msgspec structs
MIN_SIZE = 1_000_000  # smaller files parse faster than the cache is checked
SETTLE_NS = 2_000_000_000  # a stat this recent might not tell two versions apart

T = TypeVar("T")


def enabled() -> bool:
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() not in ("1", "true", "yes")


def _key(stat: os.stat_result, read: Callable[[], bytes]) -> str:
    text = (
        f"{FORMAT}|{__version__}|{stat.st_size}|{stat.st_ino}|{stat.st_mtime_ns}|"
        f"{stat.st_ctime_ns}"
    )
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < SETTLE_NS:
        text += f"|{zlib.crc32(read())}"
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def _entry(path: Path, key: str) -> Path:
    return path.parent / CACHE_DIR / f"{path.name}.{key}.json"


def cached_parse(
    path: Path,
    read: Callable[[], bytes],
    parse: Callable[[bytes], T],
    encode: Callable[[T], Any],
    decode: Callable[[Any], T],
    *,
    dump: Callable[[Any], bytes] = orjson.dumps,
    load: Callable[[bytes], Any] = orjson.loads,
) -> T:
    """``decode`` the cached slim form of ``path``, or ``parse`` its bytes (``read()``, which
    raises the artifact's own errors) and store ``encode(result)`` for next time. The slim
    form is JSON through orjson (``dump``, ``load``) unless ``encode`` and ``decode`` do
    their own (``dump=load=`` :func:`as_is`)."""
    raw: bytes | None = None

    def once() -> bytes:
        nonlocal raw
        if raw is None:
            raw = read()
        return raw

    try:
        stat = path.stat()
    except OSError:
        return parse(once())
    if not enabled() or stat.st_size < MIN_SIZE:
        return parse(once())
    entry = _entry(path, _key(stat, once))
    try:
        with paused_gc():
            return decode(load(entry.read_bytes()))
    except Exception:  # no entry, or an unusable one: parse the artifact
        pass
    with paused_gc():
        result = parse(once())
    # a read-only target directory or a full disk means no cache, and no harm
    with contextlib.suppress(Exception):
        store_bytes(entry, dump(encode(result)))
    return result


def as_is(value: T) -> T:
    return value


def store_bytes(entry: Path, data: bytes) -> None:
    """Write the cache entry ``entry`` atomically, removing the older entries of its
    artifact (or command): the name's part before the first dot."""
    entry.parent.mkdir(exist_ok=True)
    prefix = entry.name.split(".", 1)[0]
    for old in entry.parent.glob(f"{prefix}.*.json"):
        if old != entry:
            old.unlink(missing_ok=True)
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(entry)
