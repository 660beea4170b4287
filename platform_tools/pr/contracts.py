"""The contract and ownership gate of a change (``platform-tools pr-contracts``).

1. ``dbt parse`` of the work tree into ``target/pr_check/current`` (its ``manifest.json`` is
   also what the dbt-checkpoint hooks read, so this hook runs before them). A tree that does
   not parse — for instance a reference to another group's private model — fails here.
2. The baseline: ``--baseline MANIFEST`` (e.g. the main branch's artifact), else the base
   commit of the change parsed from ``git archive`` and cached per commit in
   ``target/pr_check/baselines/<sha>/manifest.json``.
3. ``platform-tools deps`` against the baseline with ``--new-only`` (breaking changes BC…,
   ownership rules GU…), plus the change rules PR… (:mod:`platform_tools.rules.pr`), which
   apply only to models the change adds or alters — the dbt-checkpoint checks that matter
   most, runnable offline.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from platform_tools.artifacts.manifest import Manifest, load_manifest
from platform_tools.deps import checks
from platform_tools.deps.model import DepsReport, Finding, Severity
from platform_tools.errors import ArtifactError, PlatformError, UsageError
from platform_tools.exit_codes import ExitCode
from platform_tools.pr.gitdiff import Base
from platform_tools.pr.tools import dbt_error_lines, run_tool, tool_env, tool_path
from platform_tools.rules.rulebook import Rule, rules

# Everything pr-contracts writes, below the project: never dbt's own target/ files, so that
# `platform-tools observe/report` keep reading a manifest and run results of one invocation.
WORK_DIR = Path("target") / "pr_check"
CURRENT = "current"
BASELINES = "baselines"


# -- change rules ----------------------------------------------------------------------------
def change_rules() -> dict[str, Rule]:
    """The change rules (PR codes, :mod:`platform_tools.rules.pr`), by code."""
    return rules("PR")


def run_change_rules(
    current: Manifest, baseline: Manifest, disable: frozenset[str] = frozenset()
) -> list[Finding]:
    findings = []
    for code, rule in change_rules().items():
        if code in disable:
            continue
        for hit in rule.func(current, baseline):
            findings.append(Finding(
                code=code, rule=rule.name, severity=rule.severity or Severity.ERROR,
                message=hit.message,
                node_id=hit.node.unique_id, label=hit.node.label, team=hit.node.team,
                domain=hit.node.domain, path=hit.node.location,
            ))
    return findings


# -- dbt parse ---------------------------------------------------------------------------------
class ParseFailure(PlatformError):
    """The work tree does not parse: a finding of the change, not a tool problem."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.FINDINGS)


def dbt_parse(project_dir: Path, target_dir: Path, env: Mapping[str, str] | None = None,
              *, what: str = "the work tree") -> Path:
    """``dbt parse`` of ``project_dir`` into ``target_dir``; the path of its manifest."""
    run = run_tool(
        [tool_path("dbt"), "parse", "--project-dir", str(project_dir),
         "--target-path", str(target_dir.resolve())],
        cwd=project_dir, env=tool_env(env),
    )
    manifest = target_dir / "manifest.json"
    if not run.ok or not manifest.is_file():
        detail = " | ".join(dbt_error_lines(run.output, 6))
        raise ParseFailure(f"dbt parse of {what} failed: {detail}")
    return manifest


def _extract_commit(project_dir: Path, sha: str, destination: Path) -> None:
    try:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", sha], cwd=project_dir, capture_output=True,
            check=True,
        ).stdout
    except subprocess.CalledProcessError as exc:
        detail = " ".join(exc.stderr.decode(errors="replace").split())[:200]
        raise UsageError(f"git archive {sha[:12]} failed: {detail}") from None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")


def baseline_manifest(project_dir: Path, base: Base, cache_root: Path,
                      env: Mapping[str, str] | None = None) -> Path:
    """The manifest of the base commit, parsed once per commit and cached."""
    if base.sha is None:
        raise UsageError("no base commit to compare with; pass --base REF or --baseline MANIFEST")
    cached = cache_root / base.sha / "manifest.json"
    if cached.is_file():
        return cached
    cache_root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".tmp-{base.sha[:12]}-", dir=cache_root))
    try:
        source = work / "src"
        _extract_commit(project_dir, base.sha, source)
        try:
            parsed = dbt_parse(source, work / "target", env, what=f"the base {base.describe()}")
        except ParseFailure as exc:
            raise ArtifactError(
                f"{exc.message}; pass --baseline MANIFEST (e.g. the main branch's manifest)"
            ) from None
        final = work / "manifest.json"
        shutil.move(str(parsed), final)
        with contextlib.suppress(OSError):  # another process cached this commit first
            os.replace(work, cache_root / base.sha)
        if cached.is_file():
            return cached
        return final if final.is_file() else cached
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


# -- the gate ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ContractsResult:
    report: DepsReport
    """The deps report with the change rules' findings added."""
    baseline: str

    @property
    def failed(self) -> bool:
        return self.report.failed

    @property
    def new_findings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.report.findings if f.new)


def split_disabled(codes: list[str]) -> tuple[list[str], frozenset[str]]:
    """``--disable`` codes for deps (GU…) and for the change rules (PR…)."""
    known = change_rules()
    change = frozenset(c for c in codes if c in known)
    unknown = [c for c in codes if c.startswith("PR") and c not in known]
    if unknown:
        raise UsageError(f"--disable {unknown[0]}: unknown rule code; known: "
                         + ", ".join(sorted(known)))
    return [c for c in codes if c not in change], change


def check(
    current: Manifest,
    baseline: Manifest,
    config: checks.DepsConfig,
    *,
    disable_change_rules: frozenset[str] = frozenset(),
) -> ContractsResult:
    """Breaking changes, new ownership findings and change-rule findings of a change."""
    report = checks.run(current, config, baseline=baseline, new_only=True)
    extra = run_change_rules(current, baseline, disable_change_rules)
    if extra:
        report = replace(report, findings=report.findings + tuple(extra))
    return ContractsResult(report, str(baseline.path))


def load(path: Path) -> Manifest:
    return load_manifest(path / "manifest.json" if path.is_dir() else path)
