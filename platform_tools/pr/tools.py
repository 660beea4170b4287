"""Running the project's command-line tools (dbt, sqlfluff, hook entries) as subprocesses.

Tools are looked up next to the running Python first (the project's virtualenv), so
``.venv/bin/platform-tools pr-check`` works without an activated virtualenv, in any clone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_tools.errors import PlatformError, UsageError

BIN_DIR = Path(sys.executable).parent
# Compiling a model that pseudonymizes needs GRIDUNION_PII_PEPPER (macros/privacy). Linting and
# parsing read no data, so they get a placeholder when none is set — otherwise sqlfluff would
# skip those models with a warning and still pass. Builds never use it.
PEPPER_VAR = "GRIDUNION_PII_PEPPER"
LINT_PEPPER = "lint-only-placeholder-not-a-secret"
SQLFLUFF_SKIPPED = "because dbt raised a fatal exception"


def lint_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """:func:`tool_env` plus a placeholder pepper when none is set (linting, parsing only)."""
    env = tool_env(base, **extra)
    if not env.get(PEPPER_VAR):
        env[PEPPER_VAR] = LINT_PEPPER
    return env


def tool_path(name: str) -> str:
    """``name`` from this virtualenv's bin directory, else from ``PATH``, else ``name``."""
    candidate = BIN_DIR / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    return shutil.which(name) or name


def tool_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """The environment for a tool: this virtualenv's bin directory first on ``PATH``, no
    colours, no anonymous usage statistics."""
    env = dict(os.environ if base is None else base)
    path = env.get("PATH", "")
    if str(BIN_DIR) not in path.split(os.pathsep):
        env["PATH"] = os.pathsep.join(p for p in (str(BIN_DIR), path) if p)
    env.setdefault("DBT_USE_COLORS", "False")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.update(extra)
    return env


@dataclass(frozen=True)
class ToolRun:
    command: tuple[str, ...]
    returncode: int
    output: str
    """Standard output (and standard error, interleaved, unless ``separate_stderr``)."""
    seconds: float
    stderr: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def run_tool(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 3600,
    separate_stderr: bool = False,
) -> ToolRun:
    """Run ``command`` and capture its output; a missing executable is a usage error."""
    started = time.perf_counter()
    try:
        result = subprocess.run(
            list(command), cwd=cwd, env=dict(env) if env is not None else None,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if separate_stderr else subprocess.STDOUT,
            text=True, errors="replace", timeout=timeout, check=False,
        )
    except FileNotFoundError:
        raise UsageError(
            f"{command[0]}: command not found; install the project (`make install`) or put it "
            "on PATH"
        ) from None
    except subprocess.TimeoutExpired:
        raise PlatformError(f"{' '.join(command[:3])}: timed out after {timeout:.0f} s") from None
    return ToolRun(tuple(command), result.returncode, result.stdout or "",
                   time.perf_counter() - started, result.stderr or "")


def dbt_error_lines(output: str, limit: int = 12) -> list[str]:
    """The lines of dbt's output that explain a failure (errors, not the progress log)."""
    lines = [line.rstrip() for line in output.splitlines()]
    keep: list[str] = []
    capture = False
    for line in lines:
        text = line.split("  ", 1)[-1] if line[:2].isdigit() else line
        lowered = text.lower()
        if "error" in lowered or "failure in" in lowered or "compilation" in lowered:
            capture = True
        if capture and text.strip():
            keep.append(text.strip())
        if len(keep) >= limit:
            break
    return keep or [line.strip() for line in lines if line.strip()][-limit:]
