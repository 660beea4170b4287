"""One writer per lakehouse: an exclusive lock on ``<lakehouse>/_locks/writer.lock``.

Every command that writes the lakehouse (a ``dbt build | run | seed | snapshot | test |
run-operation | retry | clone``, ``platform-tools landing stage`` and each hub batch) holds
this lock while it writes; a second writer waits for it, saying once on stderr who holds it,
and gives up after ``GRIDUNION_LOCK_TIMEOUT`` seconds (default 1800; ``0`` refuses at once)
with one line and exit code 4. Read-only commands (``dbt ls | parse | compile | show |
docs generate | debug``) never take it: Delta readers see the last committed version.

The lock is an advisory ``flock`` on a local file, so it is released by the kernel when its
process dies (a killed build never leaves a stale lock). It is re-entrant within a process:
the hub takes it for a batch and the dbt build it runs in-process takes it again without
waiting for itself. The holder's pid, command and start time are written into the lock file
for the waiting message.

On shared storage without POSIX locks (S3, ABFS) and on a cluster target, this lock guards
only the processes of one machine; ``docs/hub.md`` says what guards concurrency there.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

from platform_tools.errors import BusyError, UsageError

LOCK_DIR: Final[str] = "_locks"
LOCK_FILE: Final[str] = "writer.lock"
TIMEOUT_ENV: Final[str] = "GRIDUNION_LOCK_TIMEOUT"
DEFAULT_TIMEOUT_S: Final[float] = 1800.0
POLL_S: Final[float] = 0.2


@dataclass
class _Held:
    handle: IO[str]
    depth: int


_guard = threading.Lock()
_held: dict[Path, _Held] = {}


def lock_path(lakehouse: Path) -> Path:
    return lakehouse / LOCK_DIR / LOCK_FILE


def timeout_from_env(environ: Mapping[str, str] = os.environ) -> float:
    """``GRIDUNION_LOCK_TIMEOUT`` in seconds (a number >= 0), else the default."""
    raw = environ.get(TIMEOUT_ENV, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value >= 0:  # also rejects nan
        raise UsageError(
            f"{TIMEOUT_ENV}={raw!r} is not a number of seconds >= 0; unset it (default "
            f"{DEFAULT_TIMEOUT_S:g}) or set e.g. {TIMEOUT_ENV}=600"
        )
    return value


def holder_of(lakehouse: Path) -> str:
    """Who holds (or last held) the lock, as text for a message."""
    try:
        info = json.loads(lock_path(lakehouse).read_text(encoding="utf-8"))
        return f"pid {info['pid']} ({info['command']}, since {info['since']})"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def acquire(
    lakehouse: Path,
    command: str,
    timeout_s: float,
    notify: Callable[[str], None],
) -> None:
    """Take the writer lock of ``lakehouse`` (re-entrant per process); raise BusyError when
    another process still holds it after ``timeout_s``."""
    key = lakehouse.resolve()
    with _guard:
        held = _held.get(key)
        if held is not None:
            held.depth += 1
            return
    path = lock_path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise UsageError(
            f"cannot open the lakehouse writer lock {path}: {exc.strerror}; check that "
            "GRIDUNION_LAKEHOUSE points at a writable directory"
        ) from None
    deadline = time.monotonic() + timeout_s
    told = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = holder_of(key)
                handle.close()
                raise BusyError(
                    f"lakehouse {key} is being written by {holder}; gave up after "
                    f"{timeout_s:g} s ({TIMEOUT_ENV}); run again when it has finished"
                ) from None
            if not told:
                notify(
                    f"waiting for the lakehouse writer lock held by {holder_of(key)} "
                    f"(up to {timeout_s:g} s, {TIMEOUT_ENV}) ..."
                )
                told = True
            time.sleep(POLL_S)
    handle.seek(0)
    handle.truncate()
    since = datetime.now(UTC).isoformat(timespec="seconds")
    handle.write(json.dumps({"pid": os.getpid(), "command": command, "since": since}))
    handle.flush()
    with _guard:
        _held[key] = _Held(handle, 1)


def release(lakehouse: Path) -> None:
    """Give back one level of the lock taken by :func:`acquire` in this process."""
    key = lakehouse.resolve()
    with _guard:
        held = _held.get(key)
        if held is None:
            return
        held.depth -= 1
        if held.depth > 0:
            return
        del _held[key]
    held.handle.close()  # closing the descriptor releases the flock


@contextmanager
def writer_lock(
    lakehouse: Path,
    command: str,
    *,
    timeout_s: float | None = None,
    notify: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock of ``lakehouse`` for the block."""
    acquire(
        lakehouse,
        command,
        timeout_from_env() if timeout_s is None else timeout_s,
        notify or (lambda message: None),
    )
    try:
        yield
    finally:
        release(lakehouse)
