"""What a change touches: the base it is compared with and the files it changed (git)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from platform_tools.errors import UsageError

DEFAULT_BASES = ("origin/main", "HEAD~1")


def git(root: Path, *args: str, check: bool = True) -> str:
    """Run git in ``root`` and return its standard output (a failure is a usage error)."""
    try:
        result = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise UsageError("git is not installed; the pull-request checks need it") from None
    if check and result.returncode != 0:
        detail = " ".join((result.stderr or result.stdout).split())[:300]
        raise UsageError(f"git {' '.join(args)} failed in {root}: {detail}")
    return result.stdout if result.returncode == 0 else ""


def _verify(root: Path, ref: str) -> str | None:
    sha = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return sha.strip() or None


@dataclass(frozen=True)
class Base:
    """The commit a change is compared with."""

    ref: str | None
    """What was asked for or chosen (``origin/main``, ``HEAD~1``), ``None``: no base at all."""
    sha: str | None
    """The merge base of ``ref`` and ``HEAD``, ``None`` when the repository has no base."""

    def describe(self) -> str:
        if self.ref is None or self.sha is None:
            return "no base commit (every file counts as changed)"
        return f"{self.ref} (merge base {self.sha[:12]})"


def resolve_base(root: Path, ref: str | None = None) -> Base:
    """The base of the change: ``ref`` when given (it must exist), else ``origin/main`` when it
    exists, else ``HEAD~1``, else none (a repository with a single commit)."""
    if git(root, "rev-parse", "--is-inside-work-tree", check=False).strip() != "true":
        raise UsageError(f"{root}: not a git work tree; the pull-request checks compare commits")
    candidates = (ref,) if ref else DEFAULT_BASES
    for candidate in candidates:
        sha = _verify(root, candidate)
        if sha is None:
            continue
        merge = git(root, "merge-base", sha, "HEAD", check=False).strip()
        return Base(candidate, merge or sha)
    if ref:
        raise UsageError(f"--base {ref}: no such commit or branch; fetch it or pass another ref")
    return Base(None, None)


def _names(output: str) -> list[str]:
    return [name for name in output.split("\0") if name]


def all_files(root: Path) -> list[str]:
    """Every tracked file plus untracked files that are not ignored, sorted."""
    tracked = _names(git(root, "ls-files", "-z", "--cached"))
    untracked = _names(git(root, "ls-files", "-z", "--others", "--exclude-standard"))
    return sorted(p for p in set(tracked) | set(untracked) if (root / p).is_file())


def changed_files(root: Path, base: Base) -> list[str]:
    """Files added or modified since ``base``: committed, staged, unstaged and untracked
    (deleted files are not listed — there is nothing left to check in them)."""
    if base.sha is None:
        return all_files(root)
    diff = _names(git(root, "diff", "--name-only", "-z", "--no-renames", "--diff-filter=d",
                      base.sha))
    untracked = _names(git(root, "ls-files", "-z", "--others", "--exclude-standard"))
    return sorted(p for p in set(diff) | set(untracked) if (root / p).is_file())


def head_sha(root: Path) -> str | None:
    return _verify(root, "HEAD")
