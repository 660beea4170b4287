"""``.pre-commit-config.yaml`` as small frozen objects, and which files each hook applies to.

The config file stays the single source of truth for the pull-request checks, and pre-commit
runs them (``platform-tools pr-check``: :mod:`platform_tools.pr.precommit`). pr-check reads the
config here to check hook ids and to list the remote hooks it leaves out offline; slim CI
(``pr-ci``) uses :func:`select_files` to lint the files the ``sqlfluff-lint`` hook would get
without running pre-commit. Its selection follows pre-commit's: the top-level ``files`` /
``exclude`` regexes first, then the hook's ``files`` / ``exclude`` (``re.search``), then
``types`` (all must match), ``types_or`` (one must match) and ``exclude_types``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from platform_tools.errors import UsageError

CONFIG_FILE = ".pre-commit-config.yaml"
LOCAL = "local"
META = "meta"
# File-name extensions and names → identify-style tags (the subset pre-commit configs of this
# project use, plus the common ones). "file" and "text"/"binary" are added per file.
_EXTENSION_TAGS: Mapping[str, frozenset[str]] = {
    ext: frozenset(tags)
    for ext, tags in {
        "sql": ("sql",),
        "yml": ("yaml",),
        "yaml": ("yaml",),
        "py": ("python",),
        "pyi": ("python", "pyi"),
        "md": ("markdown",),
        "toml": ("toml",),
        "json": ("json",),
        "csv": ("csv",),
        "html": ("html",),
        "css": ("css",),
        "js": ("javascript",),
        "sh": ("shell", "bash"),
        "cfg": ("ini",),
        "ini": ("ini",),
        "txt": ("plain-text",),
        "png": ("image", "png"),
        "jpg": ("image", "jpeg"),
        "parquet": ("parquet",),
    }.items()
}
_NAME_TAGS: Mapping[str, frozenset[str]] = {
    "Makefile": frozenset({"makefile"}),
    ".sqlfluff": frozenset({"ini"}),
    ".sqlfluffignore": frozenset({"plain-text"}),
    ".gitignore": frozenset({"plain-text"}),
}
BINARY_TAGS = frozenset({"image", "png", "jpeg", "parquet"})


@dataclass(frozen=True, slots=True)
class Hook:
    """One hook of the config, with the repository it comes from."""

    id: str
    name: str
    repo: str
    rev: str | None
    entry: str | None
    language: str | None
    args: tuple[str, ...] = ()
    files: str = ""
    exclude: str = "^$"
    types: tuple[str, ...] = ("file",)
    types_or: tuple[str, ...] = ()
    exclude_types: tuple[str, ...] = ()
    pass_filenames: bool = True
    always_run: bool = False

    @property
    def is_local(self) -> bool:
        return self.repo == LOCAL

    @property
    def needs_network(self) -> bool:
        """A hook defined in a remote repository, which pre-commit must clone first."""
        return self.repo not in (LOCAL, META)

    @property
    def source(self) -> str:
        """Where the hook comes from, as a reader wants it: ``local`` or ``<url>@<rev>``."""
        return self.repo if self.rev is None else f"{self.repo}@{self.rev}"


@dataclass(frozen=True)
class PreCommitConfig:
    path: Path
    hooks: tuple[Hook, ...]
    files: str = ""
    exclude: str = "^$"

    def local_hooks(self) -> tuple[Hook, ...]:
        return tuple(h for h in self.hooks if h.is_local)

    def remote_hooks(self) -> tuple[Hook, ...]:
        return tuple(h for h in self.hooks if h.needs_network)

    def hook_ids(self) -> set[str]:
        return {h.id for h in self.hooks}


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int | float) for v in value):
        raise UsageError(f"{where}: expected a list of strings")
    return tuple(str(v) for v in value)


def _regex(value: Any, default: str, where: str) -> str:
    if value is None:
        return default
    if not isinstance(value, str):
        raise UsageError(f"{where}: expected a regular expression string")
    try:
        re.compile(value)
    except re.error as exc:
        raise UsageError(f"{where}: invalid regular expression ({exc})") from None
    return value


def _hook(raw: Any, repo: str, rev: str | None, where: str) -> Hook:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        raise UsageError(f"{where}: every hook needs an `id`")
    hook_id = raw["id"]
    where = f"{where} hook {hook_id!r}"
    entry = raw.get("entry")
    language = raw.get("language")
    if repo == LOCAL:
        for key in ("name", "entry", "language"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise UsageError(f"{where}: a local hook needs `{key}`")
    return Hook(
        id=hook_id,
        name=str(raw.get("name") or hook_id),
        repo=repo,
        rev=rev,
        entry=str(entry) if entry is not None else None,
        language=str(language) if language is not None else None,
        args=_strings(raw.get("args"), f"{where} args"),
        files=_regex(raw.get("files"), "", f"{where} files"),
        exclude=_regex(raw.get("exclude"), "^$", f"{where} exclude"),
        types=_strings(raw.get("types"), f"{where} types") or ("file",),
        types_or=_strings(raw.get("types_or"), f"{where} types_or"),
        exclude_types=_strings(raw.get("exclude_types"), f"{where} exclude_types"),
        pass_filenames=bool(raw.get("pass_filenames", True)),
        always_run=bool(raw.get("always_run", False)),
    )


def parse_config(data: Any, path: Path) -> PreCommitConfig:
    """Check and convert the parsed YAML of a pre-commit config."""
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise UsageError(f"{path}: expected a mapping with a `repos` list (pre-commit config)")
    hooks: list[Hook] = []
    for index, repo_raw in enumerate(data["repos"]):
        where = f"{path}: repos[{index}]"
        if not isinstance(repo_raw, dict) or not isinstance(repo_raw.get("repo"), str):
            raise UsageError(f"{where}: every entry needs a `repo`")
        repo = repo_raw["repo"]
        rev = repo_raw.get("rev")
        if repo not in (LOCAL, META) and not isinstance(rev, str):
            raise UsageError(f"{where} ({repo}): a remote repository needs `rev` (a release tag)")
        raw_hooks = repo_raw.get("hooks")
        if not isinstance(raw_hooks, list) or not raw_hooks:
            raise UsageError(f"{where} ({repo}): expected a non-empty `hooks` list")
        for hook_raw in raw_hooks:
            hooks.append(_hook(hook_raw, repo, rev if isinstance(rev, str) else None, where))
    seen: set[str] = set()
    for hook in hooks:
        if hook.id in seen and hook.is_local:
            raise UsageError(f"{path}: local hook id {hook.id!r} is defined twice")
        seen.add(hook.id)
    return PreCommitConfig(
        path=path,
        hooks=tuple(hooks),
        files=_regex(data.get("files"), "", f"{path}: files"),
        exclude=_regex(data.get("exclude"), "^$", f"{path}: exclude"),
    )


def load_config(path: Path) -> PreCommitConfig:
    """Read ``.pre-commit-config.yaml``; a missing or malformed file is a usage error."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{path}: pre-commit config not found; pass --config FILE") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML ({' '.join(str(exc).split())})") from None
    return parse_config(data, path)


# -- file selection --------------------------------------------------------------------------
def file_tags(path: str, root: Path | None = None) -> frozenset[str]:
    """identify-style tags of a repository file: ``file``, ``text`` or ``binary``, and the
    kind from its name (``sql``, ``yaml``, ``python``, ``markdown`` ...)."""
    name = path.rsplit("/", 1)[-1]
    tags = set(_NAME_TAGS.get(name, frozenset()))
    if "." in name:
        tags |= _EXTENSION_TAGS.get(name.rsplit(".", 1)[-1].lower(), frozenset())
    tags.add("file")
    binary = bool(tags & BINARY_TAGS)
    if root is not None and not binary:
        try:
            with open(root / path, "rb") as handle:
                binary = b"\0" in handle.read(8192)
        except OSError:
            pass
    tags.add("binary" if binary else "text")
    return frozenset(tags)


def select_files(
    hook: Hook,
    files: Iterable[str],
    *,
    config: PreCommitConfig | None = None,
    root: Path | None = None,
    tags: Mapping[str, frozenset[str]] | None = None,
) -> list[str]:
    """The files (repository-relative, ``/``-separated) the hook runs on, in order."""
    include = re.compile(hook.files)
    exclude = re.compile(hook.exclude)
    top_include = re.compile(config.files if config else "")
    top_exclude = re.compile(config.exclude if config else "^$")
    chosen = []
    for path in files:
        if not top_include.search(path) or top_exclude.search(path):
            continue
        if not include.search(path) or exclude.search(path):
            continue
        have = tags[path] if tags is not None and path in tags else file_tags(path, root)
        if not set(hook.types) <= have:
            continue
        if hook.types_or and not have.intersection(hook.types_or):
            continue
        if have.intersection(hook.exclude_types):
            continue
        chosen.append(path)
    return chosen
