"""``run_hooks(config, files, root) -> PrCheckReport``: the core of ``platform-tools pr-check``.

Every ``repo: local`` hook of the pre-commit config runs here, on the files it applies to, in
the order of the config, like ``pre-commit run --from-ref <base> --to-ref HEAD`` would run it.
Hooks of remote repositories are listed as skipped with the reason (they need network to be
cloned; ``docs/pull_requests.md``). A hook fails when it exits non-zero or changes a file it
was given (a fixer: the fix is left in the work tree for the author to commit).
"""

from __future__ import annotations

import hashlib
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from platform_tools.errors import PlatformError
from platform_tools.pr.gitdiff import Base
from platform_tools.pr.hooks import (
    META,
    RUNNABLE_LANGUAGES,
    Hook,
    PreCommitConfig,
    select_files,
    tag_files,
)
from platform_tools.pr.tools import lint_env, run_tool, tool_path

PASSED, FAILED, SKIPPED = "passed", "failed", "skipped"


@dataclass(frozen=True)
class HookResult:
    hook: Hook
    status: str  # passed | failed | skipped
    reason: str
    files: tuple[str, ...] = ()
    output: str = ""
    seconds: float = 0.0
    command: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()


@dataclass(frozen=True)
class PrCheckReport:
    config_path: Path
    base: Base | None
    """``None`` with ``--all-files``."""
    files: tuple[str, ...]
    results: tuple[HookResult, ...]

    @property
    def failed(self) -> tuple[HookResult, ...]:
        return tuple(r for r in self.results if r.status == FAILED)

    @property
    def passed(self) -> tuple[HookResult, ...]:
        return tuple(r for r in self.results if r.status == PASSED)

    @property
    def skipped(self) -> tuple[HookResult, ...]:
        return tuple(r for r in self.results if r.status == SKIPPED)

    @property
    def network_skipped(self) -> tuple[HookResult, ...]:
        return tuple(r for r in self.skipped if r.hook.needs_network)


def _digest(root: Path, files: Sequence[str]) -> dict[str, str]:
    digests = {}
    for path in files:
        try:
            digests[path] = hashlib.sha1((root / path).read_bytes()).hexdigest()
        except OSError:
            digests[path] = ""
    return digests


def hook_command(hook: Hook, files: Sequence[str], root: Path) -> list[str]:
    """The command line pre-commit would run for a local hook on ``files``."""
    assert hook.entry is not None
    parts = shlex.split(hook.entry)
    if hook.language == "script":
        parts[0] = str(root / parts[0])
    else:
        parts[0] = tool_path(parts[0])
    return [*parts, *hook.args, *(files if hook.pass_filenames else ())]


def _skip_reason(hook: Hook) -> str | None:
    if hook.needs_network:
        return f"remote hook from {hook.source}: needs network to clone it (run `pre-commit`)"
    if hook.repo == META:
        return "pre-commit meta hook: only pre-commit itself runs it"
    if hook.language not in RUNNABLE_LANGUAGES:
        return (f"language {hook.language!r} needs an environment pre-commit builds; "
                "run `pre-commit`")
    return None


def run_hook(
    hook: Hook,
    files: Sequence[str],
    root: Path,
    env: Mapping[str, str],
    *,
    timeout: float = 3600,
) -> HookResult:
    """Run one local hook on the files it applies to (already selected)."""
    if not files and not hook.always_run:
        return HookResult(hook, SKIPPED, "no files to check")
    command = hook_command(hook, files, root)
    before = _digest(root, files) if hook.pass_filenames else {}
    try:
        run = run_tool(command, cwd=root, env=env, timeout=timeout)
    except PlatformError as exc:  # command not found, timeout
        return HookResult(hook, FAILED, exc.message, tuple(files), "", 0.0, tuple(command))
    after = _digest(root, files) if hook.pass_filenames else {}
    modified = tuple(p for p in files if before.get(p) != after.get(p))
    if not run.ok:
        status, reason = FAILED, f"exit code {run.returncode}"
    elif modified:
        status, reason = FAILED, f"the hook modified {len(modified)} file(s); review and commit"
    else:
        status, reason = PASSED, f"{len(files)} file(s)" if hook.pass_filenames else "ran"
    return HookResult(hook, status, reason, tuple(files), run.output, run.seconds,
                      tuple(command), modified)


def run_hooks(
    config: PreCommitConfig,
    files: Sequence[str],
    root: Path,
    *,
    base: Base | None,
    only: set[str] | None = None,
    skip: set[str] | None = None,
    env: Mapping[str, str] | None = None,
) -> PrCheckReport:
    """Run the local hooks of ``config`` on ``files`` (repository-relative paths)."""
    extra: dict[str, str] = {}
    if base is not None and base.sha is not None:
        # what `pre-commit run --from-ref/--to-ref` exports to its hooks
        extra = {"PRE_COMMIT_FROM_REF": base.sha, "PRE_COMMIT_TO_REF": "HEAD"}
    # the local hooks lint and parse; none builds data (see tools.LINT_PEPPER)
    hook_env = lint_env(env, **extra)
    tags = tag_files(files, root)
    results = []
    for hook in config.hooks:
        if only is not None and hook.id not in only:
            continue
        if skip and hook.id in skip:
            results.append(HookResult(hook, SKIPPED, "skipped with --skip"))
            continue
        reason = _skip_reason(hook)
        if reason is not None:
            results.append(HookResult(hook, SKIPPED, reason))
            continue
        chosen = select_files(hook, files, config=config, root=root, tags=tags)
        results.append(run_hook(hook, chosen, root, hook_env))
    return PrCheckReport(config.path, base, tuple(files), tuple(results))


def render(report: PrCheckReport, *, verbose: bool = False, width: int = 79) -> str:
    """pre-commit-style lines per hook, the output of failed hooks, and a verdict."""
    out = []
    if report.base is None:
        out.append(f"pr-check: {len(report.files)} file(s) (--all-files)")
    else:
        out.append(f"pr-check: {len(report.files)} file(s) changed against "
                   f"{report.base.describe()}")
    for result in report.results:
        hook = result.hook
        label = hook.name
        status = {PASSED: "Passed", FAILED: "Failed", SKIPPED: "Skipped"}[result.status]
        note = ""
        if result.status == SKIPPED:
            note = "(needs network)" if hook.needs_network else f"({result.reason})"
        dots = "." * max(3, width - len(label) - len(note) - len(status))
        timing = f" {result.seconds:.1f}s" if result.status != SKIPPED else ""
        out.append(f"{label}{dots}{note}{status}{timing}")
        if result.status == FAILED or (verbose and result.output.strip()):
            out.append(f"- hook id: {result.hook.id}")
            out.append(f"- {result.reason}")
            for path in result.modified:
                out.append(f"  modified: {path}")
            text = result.output.rstrip()
            if text:
                out.append("")
                out.extend(("    " + line).rstrip() for line in text.splitlines())
                out.append("")
    network = report.network_skipped
    if report.failed:
        names = ", ".join(r.hook.id for r in report.failed)
        out.append(f"pr-check FAILED: {len(report.failed)} hook(s) failed ({names})")
    else:
        ran = len(report.passed)
        out.append(f"pr-check passed: {ran} hook(s) passed")
    if network:
        repos = sorted({r.hook.source for r in network})
        out.append(
            f"{len(network)} remote hook(s) not run offline ({', '.join(repos)}); they run "
            "with `pre-commit run --from-ref <base> --to-ref HEAD` where GitHub is reachable "
            "(docs/pull_requests.md)"
        )
    return "\n".join(out) + "\n"
