"""An answer cache: a command's analysis result, reused while none of its inputs changed.

``deps``, ``cost``, ``observe`` and ``report`` are pure functions of their input files (the
manifest and the other artifacts, the configuration, the run history, the warehouse's Delta
logs) and of their arguments. Each stores its result (not its output: the format, filters and
``--now`` are applied afterwards) in ``<target>/.platform_tools_cache/answer-<name>.<key>.json``
through :mod:`platform_tools.artifacts.codec` (JSON, never pickle). The key hashes:

* the cache format, the package version and the size and modification time of every module
  of the package (an edited checkout never serves an answer of the old code);
* the stat of every input file (size, inode, modification and change times, ns), or its
  absence, like the parse cache of :mod:`platform_tools.artifacts.cache`; a file changed less
  than :data:`~platform_tools.artifacts.cache.SETTLE_NS` ago is keyed by its CRC-32 too;
* the listing of every input directory (the runs of the history, the tables of the
  warehouse and their ``_delta_log`` folders), so that an added run or commit is a miss;
* the command's own parameters (configuration values, flags).

One entry is kept per command; any change is a miss; a missing, unreadable or malformed entry
is ignored. ``PLATFORM_TOOLS_NO_CACHE=1`` turns it off with the parse cache.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import orjson

from platform_tools import __version__
from platform_tools.artifacts import cache, codec
from platform_tools.artifacts.cache import CACHE_DIR, enabled

FORMAT = 1
_PACKAGE = Path(__file__).resolve().parents[1]


T = TypeVar("T")

def file_part(path: Path) -> list[Any]:
    """What identifies the content of ``path``: its stat (and CRC-32 when it changed within
    the settle time), or ``["-"]`` when there is no such file."""
    try:
        stat = os.stat(path)
    except OSError:
        return [os.fspath(path), "-"]
    part: list[Any] = [os.fspath(path), stat.st_size, stat.st_ino, stat.st_mtime_ns,
                       stat.st_ctime_ns]
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) < cache.SETTLE_NS:
        try:
            part.append(zlib.crc32(path.read_bytes()))
        except OSError:
            part.append("?")
    return part


def dir_part(path: Path) -> list[Any]:
    """The sorted names in directory ``path`` (``["-"]`` when it cannot be listed)."""
    try:
        return [os.fspath(path), sorted(os.listdir(path))]
    except OSError:
        return [os.fspath(path), "-"]


def history_part(history_dir: Path) -> list[Any]:
    """Every recorded run of ``history_dir``: its ``run.json`` and manifest summary."""
    from platform_tools.observe.history_store import RUN_FILE, SUMMARY_FILE

    runs = history_dir / "runs"
    listing = dir_part(runs)
    parts: list[Any] = [listing]
    if isinstance(listing[1], list):
        for name in listing[1]:
            if not name.startswith("."):
                parts.append(file_part(runs / name / RUN_FILE))
                parts.append(file_part(runs / name / SUMMARY_FILE))
    return parts


def warehouse_part(warehouse: Path) -> list[Any]:
    """The tables of ``warehouse`` (``<schema>/<table>``) and their Delta logs: a Delta table
    changes only by adding files to its ``_delta_log``, and its versioned files (commits,
    checkpoints, named by their version) are never rewritten, so the listing and the stat
    of the others (``_last_checkpoint``) tell every version apart."""
    schemas = dir_part(warehouse)
    parts: list[Any] = [schemas]
    for schema in schemas[1] if isinstance(schemas[1], list) else ():
        tables = dir_part(warehouse / schema)
        parts.append(tables)
        for table in tables[1] if isinstance(tables[1], list) else ():
            log = warehouse / schema / table / "_delta_log"
            if os.path.isdir(log):
                entries = dir_part(log)
                parts.append(entries)
                parts.extend(file_part(log / name) for name in entries[1]
                             if isinstance(name, str) and not name[:1].isdigit())
    return parts


def _code_part() -> list[Any]:
    parts: list[Any] = []
    for folder, dirs, files in os.walk(_PACKAGE):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".py"):
                with contextlib.suppress(OSError):
                    stat = os.stat(os.path.join(folder, name))
                    parts.append([name, stat.st_size, stat.st_mtime_ns])
    return parts


class Answers:
    """The cached answer of command ``name`` for the inputs ``parts`` (JSON values: use the
    ``*_part`` helpers for files and folders), kept in ``target_dir``."""

    def __init__(self, target_dir: Path | None, name: str, parts: Iterable[Any]) -> None:
        self.entry: Path | None = None
        if target_dir is not None and enabled() and target_dir.is_dir():
            head = [FORMAT, __version__, name, _code_part()]
            digest = hashlib.sha1(orjson.dumps([head, list(parts)])).hexdigest()[:20]
            self.entry = target_dir / CACHE_DIR / f"answer-{name}.{digest}.json"

    @classmethod
    def of(cls, target_dir: Path | None, name: str,
           parts: Callable[[Path], Iterable[Any]]) -> Answers:
        """The answer of ``name`` in the target directory of ``--target-dir`` (resolved as
        the commands do), its inputs listed by ``parts(target_dir)``. Resolving them is
        the command's business: when it fails (a bad lakehouse setting...), there is no
        cache and the command reports the problem as it would without one."""
        from platform_tools.artifacts.target import resolve_target_dir

        if not enabled():
            return cls(None, name, ())
        try:
            resolved = resolve_target_dir(target_dir)
            return cls(resolved, name, parts(resolved))
        except Exception:
            return cls(None, name, ())

    def load(self, hint: Any) -> Any | None:
        """The cached answer as a ``hint`` (a type), or ``None`` on a miss."""
        if self.entry is None:
            return None
        try:
            return codec.decoder(hint)(orjson.loads(self.entry.read_bytes()))
        except Exception:  # no entry, or an unusable one: compute the answer
            return None

    def get(
        self, hint: type[T], compute: Callable[[], T], on_hit: Callable[[T], None] | None = None
    ) -> T:
        """The cached answer, else ``compute()``, kept for the next run; ``on_hit`` repeats
        on a hit what computing would have printed (a note on the target's run)."""
        answer: T | None = self.load(hint)
        if answer is None:
            answer = compute()
            self.store(answer)
        elif on_hit is not None:
            on_hit(answer)
        return answer

    def store(self, value: Any) -> None:
        """Keep ``value`` for the next run with the same inputs (never raises)."""
        if self.entry is None:
            return
        from platform_tools.artifacts.cache import store_bytes

        with contextlib.suppress(Exception):
            store_bytes(self.entry, orjson.dumps(codec.encode(value)))
