"""Lifecycle of the embedded Sail engine: ``up``, ``down``, ``status`` and ``ensure_running``.

One engine serves one lakehouse. Its pid, port and log live in ``<lakehouse>/_engine``; a file
lock serialises concurrent starts (several dbt threads or processes may ask at once). After
every start the session catalog is rebuilt from the lakehouse directory
(:mod:`platform_tools.engine.catalog`), so tables built before a restart are queryable again.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from platform_tools.engine.config import EngineConfig, engine_environment
from platform_tools.engine.ports import port_bindable, port_open
from platform_tools.errors import PlatformError, UsageError
from platform_tools.exit_codes import ExitCode

if TYPE_CHECKING:  # pragma: no cover
    from platform_tools.engine.catalog import RebuildReport

START_TIMEOUT_SECS = 60.0
STOP_TIMEOUT_SECS = 15.0


@dataclass(frozen=True)
class EngineStatus:
    """What ``platform-tools engine status`` reports."""

    running: bool
    pid: int | None
    port: int
    lakehouse: str
    log_file: str
    started_at: str | None = None
    catalog: str | None = None

    def describe(self) -> str:
        if not self.running:
            return f"engine is down (lakehouse {self.lakehouse}, port {self.port})"
        text = (
            f"engine is up: pid {self.pid}, sc://127.0.0.1:{self.port}, "
            f"lakehouse {self.lakehouse}, log {self.log_file}"
        )
        return f"{text}\n{self.catalog}" if self.catalog else text

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)


def _pid_alive(pid: int) -> bool:
    """Whether ``pid`` is a running Sail engine (not a zombie, not a recycled pid)."""
    _reap(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.exists():
        return True
    try:
        state = next(
            (
                line
                for line in (proc / "status").read_text().splitlines()
                if line.startswith("State")
            ),
            "",
        )
        args = (proc / "cmdline").read_bytes().split(b"\0")
    except OSError:
        return True
    if "Z" in state.split(":", 1)[-1].split()[:1]:
        return False  # exited; its parent has not collected it yet
    if not any(args):
        return True  # exiting: the kernel already released its command line
    return any(b"sail" in arg for arg in args)  # else the pid was recycled


def _read_state(cfg: EngineConfig) -> dict[str, object]:
    try:
        data = json.loads(cfg.state_file.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _running_pid(cfg: EngineConfig) -> int | None:
    try:
        pid = int(cfg.pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _pid_alive(pid) else None


def status(cfg: EngineConfig) -> EngineStatus:
    """Report whether the engine of this lakehouse runs, without starting anything."""
    pid = _running_pid(cfg)
    state = _read_state(cfg)
    port = int(str(state.get("port", cfg.port))) if pid else cfg.port
    return EngineStatus(
        running=pid is not None,
        pid=pid,
        port=port,
        lakehouse=str(cfg.lakehouse),
        log_file=str(cfg.log_file),
        started_at=str(state["started_at"]) if pid and "started_at" in state else None,
    )


def resident_mb(pid: int) -> float | None:
    """The resident memory (VmRSS) of a process in MB; ``None`` when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def recycle_if_over(cfg: EngineConfig, limit_mb: float) -> float | None:
    """Stop the engine when its resident memory exceeds ``limit_mb``; the memory it had (MB)
    when it was stopped, else ``None``. Sail keeps memory it freed (lakehq/sail#1916), so a
    long-lived engine grows by every build; a stopped engine is started afresh by the next
    client, which rebuilds the catalog from the lakehouse."""
    pid = _running_pid(cfg)
    held = resident_mb(pid) if pid is not None else None
    if held is None or held <= limit_mb:
        return None
    down(cfg)
    return held


def prepare_lakehouse(cfg: EngineConfig) -> None:
    """Create the lakehouse directories, or fail with one line if they cannot be written."""
    try:
        for directory in (cfg.warehouse, cfg.landing, cfg.state_dir):
            directory.mkdir(parents=True, exist_ok=True)
        probe = cfg.state_dir / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise UsageError(
            f"lakehouse directory {cfg.lakehouse} is not writable ({exc.strerror or exc}); "
            "set GRIDUNION_LAKEHOUSE to a writable directory"
        ) from None


@contextlib.contextmanager
def _start_lock(cfg: EngineConfig) -> Iterator[None]:
    with open(cfg.lock_file, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _sail_executable() -> str:
    beside_python = Path(sys.executable).parent / "sail"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("sail")
    if found is None:
        raise PlatformError(
            "the Sail engine (`sail`, package pysail) is not installed; run `make install`",
            ExitCode.USAGE,
        )
    return found


def _log_tail(cfg: EngineConfig) -> str:
    try:
        lines = [line for line in cfg.log_file.read_text().splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1][:300] if lines else "empty log"


def _spawn(cfg: EngineConfig) -> int:
    work_dir = cfg.state_dir / "work"
    work_dir.mkdir(parents=True, exist_ok=True)
    env = engine_environment(os.environ)
    command = [
        _sail_executable(),
        "spark",
        "server",
        "--ip",
        cfg.host,
        "--port",
        str(cfg.port),
        "--directory",
        str(work_dir),
    ]
    with open(cfg.log_file, "ab") as log:
        process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + START_TIMEOUT_SECS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PlatformError(
                f"the engine exited during start-up ({_log_tail(cfg)}); see {cfg.log_file}",
                ExitCode.USAGE,
            )
        if port_open(cfg.host, cfg.port):
            return process.pid
        time.sleep(0.02)
    process.kill()
    raise PlatformError(
        f"the engine did not answer on port {cfg.port} within {START_TIMEOUT_SECS:.0f} s; "
        f"see {cfg.log_file}",
        ExitCode.USAGE,
    )


def up(cfg: EngineConfig, rebuild_catalog: bool = True) -> EngineStatus:
    """Start the engine if it is not running, then make sure its catalog is complete."""
    prepare_lakehouse(cfg)
    with _start_lock(cfg):
        current = status(cfg)
        if current.running:
            if current.port != cfg.port:
                raise UsageError(
                    f"the engine of {cfg.lakehouse} already runs on port {current.port} "
                    f"(pid {current.pid}), not {cfg.port}; run `platform-tools engine down` first"
                )
        else:
            if not port_bindable(cfg.host, cfg.port):
                raise UsageError(
                    f"port {cfg.port} on {cfg.host} is already in use by another process; "
                    "set GRIDUNION_ENGINE_PORT to a free port or stop that process"
                )
            pid = _spawn(cfg)
            cfg.pid_file.write_text(f"{pid}\n")
            cfg.state_file.write_text(
                json.dumps(
                    {
                        "pid": pid,
                        "port": cfg.port,
                        "session_id": cfg.session_id,
                        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    },
                    indent=2,
                )
            )
        report = None
        if rebuild_catalog:
            report = _ensure_catalog_or_restart(cfg, force=not current.running)
    result = status(cfg)
    if report is not None:
        result = replace(result, catalog=report.describe())
    return result


def _ensure_catalog_or_restart(cfg: EngineConfig, force: bool) -> RebuildReport | None:
    """Rebuild the catalog if needed; restart the engine once if its session was stopped.

    A client that calls ``SparkSession.stop()`` ends the shared server-side session for good
    ("session ... is not running"); the only way back is a fresh engine, whose catalog is
    rebuilt from the lakehouse like after any restart.
    """
    from platform_tools.engine import catalog

    try:
        return catalog.ensure_catalog(cfg, force=force)
    except Exception as exc:
        if "is not running" not in str(exc):
            raise
        _stop(cfg)
        cfg.pid_file.write_text(f"{_spawn(cfg)}\n")
        return catalog.ensure_catalog(cfg, force=True)


def ensure_running(cfg: EngineConfig | None = None) -> EngineStatus:
    """Start the engine on demand (used by the dbt plugin before the first connection)."""
    return up(cfg or EngineConfig.from_env())


def down(cfg: EngineConfig) -> bool:
    """Stop the engine of this lakehouse; return whether one was running."""
    with _start_lock(cfg) if cfg.state_dir.is_dir() else contextlib.nullcontext():
        return _stop(cfg)


def _stop(cfg: EngineConfig) -> bool:
    pid = _running_pid(cfg)
    if pid is None:
        with contextlib.suppress(OSError):
            cfg.pid_file.unlink()
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECS
    while time.monotonic() < deadline and _pid_alive(pid):
        _reap(pid)
        time.sleep(0.05)
    if _pid_alive(pid):
        os.kill(pid, signal.SIGKILL)
        time.sleep(0.1)
    _reap(pid)  # collect the exit status when the engine was started by this process
    with contextlib.suppress(OSError):
        cfg.pid_file.unlink()
    return True


def _reap(pid: int) -> None:
    """Collect the exit status when the engine is our own child (tests start it in-process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
