"""Slim CI for a pull request (``platform-tools pr-ci``).

Against the main branch's ``manifest.json`` (the baseline artifact):

1. ``dbt ls --select state:modified --state <baseline>``: the models, seeds and snapshots the
   change modifies (this also parses the project into the target directory);
2. the contract and ownership gate (:mod:`platform_tools.pr.contracts`): breaking changes
   and the findings the change introduces, with the teams and exposures they reach;
3. sqlfluff on the changed SQL files (the ``sqlfluff-lint`` hook's file pattern of
   ``.pre-commit-config.yaml``);
4. ``dbt build --select state:modified+ --defer --state <baseline>``: the modified nodes and
   everything downstream, with their tests; unmodified parents are read from production;
5. a Markdown comment for the reviewer (:func:`platform_tools.pr.formats.to_markdown`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from platform_tools.artifacts.manifest import BUILDABLE_TYPES, Manifest, load_manifest
from platform_tools.artifacts.ownership import ExposureRef, Ownership
from platform_tools.artifacts.run_results import (
    ERROR_STATUSES,
    OK_STATUSES,
    WARN_STATUSES,
    load_run_results,
)
from platform_tools.deps import checks
from platform_tools.errors import ArtifactError, PlatformError
from platform_tools.pr import contracts
from platform_tools.pr.gitdiff import Base, changed_files, head_sha, resolve_base
from platform_tools.pr.hooks import CONFIG_FILE, load_config, select_files
from platform_tools.pr.tools import (
    SQLFLUFF_SKIPPED,
    dbt_error_lines,
    lint_env,
    run_tool,
    tool_env,
    tool_path,
)

SQLFLUFF_HOOK = "sqlfluff-lint"
# used when the pre-commit config has no sqlfluff-lint hook
DEFAULT_LINT_FILES = r"^(models|tests/data_tests|snapshots|analyses)/.*\.sql$"
# statuses of a build that need no attention (exposures and saved queries report no-op)
FINE_STATUSES = OK_STATUSES | {"no-op"}


@dataclass(frozen=True)
class SlimCiSettings:
    project_dir: Path
    baseline_dir: Path
    target_dir: Path
    base_ref: str | None = None
    build: bool = True
    lint: bool = True
    deps_config: checks.DepsConfig = field(default_factory=checks.DepsConfig)
    disable_change_rules: frozenset[str] = frozenset()
    env: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class ChangedNode:
    unique_id: str
    label: str
    resource_type: str
    change: str  # new | modified | removed
    team: str | None
    domain: str | None
    layer: str | None
    access: str | None
    path: str
    downstream_models: int = 0
    downstream_exposures: int = 0


@dataclass(frozen=True, slots=True)
class LintViolation:
    path: str
    line: int | None
    code: str
    description: str


@dataclass(frozen=True)
class LintOutcome:
    files: tuple[str, ...]
    violations: tuple[LintViolation, ...] = ()
    error: str | None = None
    """sqlfluff itself failed (not a style finding)."""
    seconds: float = 0.0
    ran: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None and not self.violations


@dataclass(frozen=True, slots=True)
class BuildProblem:
    label: str
    resource_type: str
    status: str
    team: str | None
    message: str


@dataclass(frozen=True)
class BuildOutcome:
    ran: bool
    reason: str
    returncode: int = 0
    counts: Mapping[str, int] = field(default_factory=dict)
    problems: tuple[BuildProblem, ...] = ()
    seconds: float = 0.0
    command: tuple[str, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.error is None


@dataclass(frozen=True)
class SlimCiReport:
    base: Base
    head: str | None
    baseline: str
    changed_files: tuple[str, ...]
    changed: tuple[ChangedNode, ...]
    owners: tuple[str, ...]
    downstream_teams: tuple[str, ...]
    exposures: tuple[ExposureRef, ...]
    downstream_models: tuple[str, ...]
    contracts: contracts.ContractsResult | None
    lint: LintOutcome
    build: BuildOutcome
    fatal: str | None = None
    """The project could not be parsed: nothing but lint could run."""

    @property
    def failed(self) -> bool:
        return bool(
            self.fatal
            or (self.contracts is not None and self.contracts.failed)
            or not self.lint.ok
            or not self.build.ok
        )

    @property
    def affected_teams(self) -> tuple[str, ...]:
        """Owners of the changed models, teams downstream and teams hit by a break."""
        teams = set(self.owners) | set(self.downstream_teams)
        if self.contracts is not None:
            teams |= set(self.contracts.report.affected_teams)
        return tuple(sorted(teams))


# -- steps -------------------------------------------------------------------------------------
def modified_nodes(settings: SlimCiSettings) -> list[str]:
    """``dbt ls --select state:modified``: unique ids of the modified models, seeds and
    snapshots (the project is parsed into the target directory on the way)."""
    command = [
        tool_path("dbt"), "ls", "--project-dir", str(settings.project_dir),
        "--target-path", str(settings.target_dir),
        "--select", "state:modified", "--state", str(settings.baseline_dir),
        "--resource-type", "model", "--resource-type", "seed", "--resource-type", "snapshot",
        "--output", "json", "--output-keys", "unique_id",
    ]
    run = run_tool(command, cwd=settings.project_dir, env=tool_env(settings.env),
                   separate_stderr=True)
    if not run.ok:
        detail = " | ".join(dbt_error_lines(run.output + "\n" + run.stderr, 6))
        raise contracts.ParseFailure(f"dbt could not parse the change: {detail}")
    found = []
    for line in run.output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and isinstance(value.get("unique_id"), str):
            found.append(value["unique_id"])
    return found


def describe_changes(
    current: Manifest, baseline: Manifest, modified: Sequence[str], owner: Ownership
) -> list[ChangedNode]:
    out = []
    project = current.metadata.project_name
    for uid in modified:
        node = current.nodes.get(uid)
        if node is None:
            continue
        reach = owner.impact([uid], node.team)
        out.append(ChangedNode(
            uid, node.label, node.resource_type,
            "modified" if uid in baseline.nodes else "new",
            node.team, node.domain, node.layer, node.access, node.location,
            len(reach.models), len(reach.exposures),
        ))
    for uid, old in baseline.nodes.items():
        if old.resource_type not in BUILDABLE_TYPES or uid in current.nodes:
            continue
        if project and old.package_name and old.package_name != project:
            continue
        out.append(ChangedNode(uid, old.label, old.resource_type, "removed", old.team,
                               old.domain, old.layer, old.access, old.location))
    order = {"removed": 0, "modified": 1, "new": 2}
    out.sort(key=lambda c: (order[c.change], c.domain or "", c.label))
    return out


def parse_sqlfluff_json(text: str) -> list[LintViolation]:
    """Violations from ``sqlfluff lint --format json`` output (log lines before the JSON
    document are skipped); ``ValueError`` when no JSON document is found."""
    data = None
    for match in re.finditer(r"^\[", text, re.MULTILINE):
        try:
            data = json.loads(text[match.start():])
            break
        except ValueError:
            continue
    if data is None:
        if text.strip():
            raise ValueError("no JSON document in sqlfluff's output")
        return []
    out = []
    for entry in data if isinstance(data, list) else []:
        path = str(entry.get("filepath") or "")
        for violation in entry.get("violations") or []:
            line = violation.get("start_line_no", violation.get("line_no"))
            out.append(LintViolation(
                path=path,
                line=int(line) if isinstance(line, int) else None,
                code=str(violation.get("code") or ""),
                description=str(violation.get("description") or ""),
            ))
    return out


def lint_files(
    project_dir: Path, files: Sequence[str], env: Mapping[str, str] | None
) -> LintOutcome:
    """sqlfluff on ``files`` (one invocation)."""
    if not files:
        return LintOutcome((), ran=False)
    run = run_tool([tool_path("sqlfluff"), "lint", "--format", "json", *files],
                   cwd=project_dir, env=lint_env(env), separate_stderr=True)
    try:
        violations = parse_sqlfluff_json(run.output)
    except ValueError:
        violations = []
    skipped = [line.strip() for line in run.stderr.splitlines() if SQLFLUFF_SKIPPED in line]
    if skipped:
        # sqlfluff exits 0 when dbt cannot compile a file: that file was not linted
        return LintOutcome(tuple(files), tuple(violations),
                           error=f"{len(skipped)} file(s) not linted: " + " | ".join(skipped[:3]),
                           seconds=run.seconds)
    if run.returncode not in (0, 1) or (run.returncode == 1 and not violations):
        tail = (run.stderr or run.output).strip().splitlines()[-6:]
        return LintOutcome(tuple(files), tuple(violations),
                           error=f"sqlfluff exited {run.returncode}: " + " | ".join(tail),
                           seconds=run.seconds)
    return LintOutcome(tuple(files), tuple(violations), seconds=run.seconds)


def lintable(project_dir: Path, files: Sequence[str]) -> list[str]:
    """The changed files the ``sqlfluff-lint`` hook of the pre-commit config applies to."""
    config_path = project_dir / CONFIG_FILE
    if config_path.is_file():
        config = load_config(config_path)
        for hook in config.hooks:
            if hook.id == SQLFLUFF_HOOK and hook.is_local:
                return select_files(hook, files, config=config, root=project_dir)
    pattern = re.compile(DEFAULT_LINT_FILES)
    return [f for f in files if pattern.search(f)]


def build_modified(settings: SlimCiSettings, current: Manifest) -> BuildOutcome:
    """``dbt build --select state:modified+ --defer --state <baseline>``."""
    command = [
        tool_path("dbt"), "build", "--project-dir", str(settings.project_dir),
        "--target-path", str(settings.target_dir),
        "--select", "state:modified+", "--defer", "--state", str(settings.baseline_dir),
    ]
    run = run_tool(command, cwd=settings.project_dir, env=tool_env(settings.env))
    results_path = settings.target_dir / "run_results.json"
    try:
        results = load_run_results(results_path)
    except ArtifactError as exc:
        return BuildOutcome(True, "dbt build", run.returncode or 1, seconds=run.seconds,
                            command=tuple(command),
                            error=f"{exc.message} | " + " | ".join(dbt_error_lines(run.output, 4)))
    counts: Counter[str] = Counter()
    problems = []
    owner = Ownership(current)
    for result in results.results:
        counts[result.status] += 1
        if result.status in FINE_STATUSES:
            continue
        node = current.nodes.get(result.unique_id)
        team = owner.charged_team(node.unique_id) if node is not None else None
        problems.append(BuildProblem(
            label=node.label if node else result.unique_id,
            resource_type=node.resource_type if node else result.unique_id.split(".")[0],
            status=result.status, team=team, message=result.message or "",
        ))
    severity = {s: 0 for s in ERROR_STATUSES} | {s: 1 for s in WARN_STATUSES}
    problems.sort(key=lambda p: (severity.get(p.status, 2), p.label))
    error = None
    if run.returncode != 0 and not any(p.status in ERROR_STATUSES for p in problems):
        error = " | ".join(dbt_error_lines(run.output, 6))
    return BuildOutcome(True, "dbt build", run.returncode, dict(counts), tuple(problems),
                        run.seconds, tuple(command), error)


def run(settings: SlimCiSettings) -> SlimCiReport:
    """Every step of slim CI; a step that cannot run is reported, not raised."""
    project = settings.project_dir
    baseline_manifest = settings.baseline_dir / "manifest.json"
    if not baseline_manifest.is_file():
        raise ArtifactError(
            f"{baseline_manifest}: baseline manifest not found; download the main branch's "
            "`dbt-manifest` artifact into --baseline-dir (or run `dbt parse` on main)"
        )
    baseline = load_manifest(baseline_manifest)
    base = resolve_base(project, settings.base_ref)
    files = changed_files(project, base)
    lint = (lint_files(project, lintable(project, files), settings.env) if settings.lint
            else LintOutcome((), ran=False))
    try:
        modified = modified_nodes(settings)
    except contracts.ParseFailure as exc:
        return SlimCiReport(
            base, head_sha(project), str(baseline_manifest), tuple(files), (), (), (), (), (),
            None, lint, BuildOutcome(False, "the project does not parse"), fatal=exc.message,
        )
    current = load_manifest(settings.target_dir / "manifest.json")
    owner = Ownership(current)
    changed = describe_changes(current, baseline, modified, owner)
    present = [uid for uid in modified if uid in current.nodes]
    owners = sorted({c.team for c in changed if c.team})
    impact = owner.impact(present)
    downstream_models = tuple(
        sorted(owner.label(uid) for uid in impact.models if uid not in set(present))
    )
    result = contracts.check(current, baseline, settings.deps_config,
                             disable_change_rules=settings.disable_change_rules)
    if not settings.build:
        build = BuildOutcome(False, "skipped (--no-build)")
    elif not present:
        build = BuildOutcome(False, "no model, seed or snapshot was modified")
    else:
        try:
            build = build_modified(settings, current)
        except PlatformError as exc:
            build = BuildOutcome(True, "dbt build", 1, error=exc.message)
    return SlimCiReport(
        base=base,
        head=head_sha(project),
        baseline=str(baseline_manifest),
        changed_files=tuple(files),
        changed=tuple(changed),
        owners=tuple(owners),
        downstream_teams=tuple(t for t in impact.teams if t not in owners),
        exposures=impact.exposures,
        downstream_models=downstream_models,
        contracts=result,
        lint=lint,
        build=build,
    )
