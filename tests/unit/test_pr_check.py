"""platform_tools.pr: the pre-commit config as the single source of truth (parsing, file
selection for slim CI), pr-check (pre-commit running the local hooks on the files of a change),
the change rules of the contract gate, and the slim-CI comment."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.ownership import ExposureRef
from platform_tools.cli import main
from platform_tools.deps import checks
from platform_tools.errors import UsageError
from platform_tools.pr import contracts, precommit, slim_ci
from platform_tools.pr import formats as pr_formats
from platform_tools.pr.gitdiff import Base, all_files, changed_files, resolve_base
from platform_tools.pr.hooks import (
    CONFIG_FILE,
    PreCommitConfig,
    file_tags,
    load_config,
    parse_config,
    select_files,
)
from platform_tools.pr.tools import tool_path
from tests.support.builder import ColumnSpec, ManifestBuilder
from tests.support.scenarios import gridunion, incident_bronze_change

REPO = Path(__file__).resolve().parents[2]


# --------------------------------------------------------------------------------------
# the project's own config
# --------------------------------------------------------------------------------------
def test_project_config_local_hooks_are_installed() -> None:
    """Every offline hook's command is in this virtualenv (pre-commit-hooks, sqlfluff,
    platform-tools): `make pr-check` needs nothing from the network."""
    config = load_config(REPO / CONFIG_FILE)
    local = {h.id: h for h in config.local_hooks()}
    assert {"check-yaml", "end-of-file-fixer", "trailing-whitespace", "sqlfluff-lint",
            "platform-contracts"} <= set(local)
    for hook in local.values():
        assert hook.language == "system"
        executable = tool_path(hook.entry.split()[0])  # type: ignore[union-attr]
        assert Path(executable).is_file(), f"{hook.id}: {executable} is not installed"
    # the contracts hook writes the manifest the dbt-checkpoint hooks read: it comes first
    ids = [h.id for h in config.hooks]
    assert ids.index("platform-contracts") < min(ids.index(h.id) for h in config.remote_hooks())


def test_project_config_pins_dbt_checkpoint_to_a_release_tag() -> None:
    config = load_config(REPO / CONFIG_FILE)
    remote = config.remote_hooks()
    assert {h.repo for h in remote} == {"https://github.com/dbt-checkpoint/dbt-checkpoint"}
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", h.rev or "") for h in remote)
    assert {"check-model-has-contract", "check-model-has-description",
            "check-model-has-tests", "check-model-has-properties-file",
            "check-model-has-meta-keys", "check-model-columns-have-desc",
            "check-source-has-freshness"} <= {h.id for h in remote}
    meta = next(h for h in remote if h.id == "check-model-has-meta-keys")
    assert meta.args[:3] == ("--meta-keys", "tier", "sla")
    # every hook reads the manifest platform-contracts writes: there is no target/manifest.json
    for hook in remote:
        args = list(hook.args)
        assert args[args.index("--manifest") + 1] == "target/pr_check/current/manifest.json", (
            hook.id)


def test_project_disables_dbt_checkpoint_tracking() -> None:
    """Without it every dbt-checkpoint hook sends a usage event and fails offline."""
    config = yaml.safe_load((REPO / ".dbt-checkpoint.yaml").read_text())
    assert config == {"version": 1, "disable-tracking": True}


def test_project_sqlfluff_hook_selects_models_and_data_tests() -> None:
    config = load_config(REPO / CONFIG_FILE)
    hook = next(h for h in config.hooks if h.id == "sqlfluff-lint")
    files = ["models/metering/gold/dim_meters.sql", "tests/data_tests/test_x.sql",
             "macros/system/x.sql", "models/metering/gold/_metering__gold.yml",
             "tests/fixtures/mini_project/models/a.sql", "snapshots/billing/snp.sql"]
    tags = {f: file_tags(f) for f in files}
    assert select_files(hook, files, config=config, tags=tags) == [
        "models/metering/gold/dim_meters.sql", "tests/data_tests/test_x.sql",
        "snapshots/billing/snp.sql"]


# --------------------------------------------------------------------------------------
# config parsing and file selection
# --------------------------------------------------------------------------------------
def _config(text: str) -> PreCommitConfig:
    import yaml

    return parse_config(yaml.safe_load(textwrap.dedent(text)), Path("cfg.yaml"))


def test_parse_config_local_and_remote() -> None:
    config = _config("""
        exclude: ^vendor/
        repos:
          - repo: local
            hooks:
              - {id: a, name: A, entry: tool --flag, language: system, types: [sql],
                 pass_filenames: false}
          - repo: https://example.org/hooks
            rev: v1.2.3
            hooks:
              - id: b
                args: [--x, "1"]
    """)
    a, b = config.hooks
    assert (a.is_local, a.needs_network, a.pass_filenames, a.types) == (
        True, False, False, ("sql",))
    assert (b.is_local, b.needs_network, b.source, b.args) == (
        False, True, "https://example.org/hooks@v1.2.3", ("--x", "1"))
    assert config.exclude == "^vendor/"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("repos: [{repo: local, hooks: [{id: a, name: A, language: system}]}]", "needs `entry`"),
        ("repos: [{repo: 'https://x', hooks: [{id: a}]}]", "needs `rev`"),
        ("repos: [{repo: local, hooks: [{id: a, name: A, entry: x, language: system, "
         "files: '('}]}]", "invalid regular expression"),
        ("repos: {}", "`repos` list"),
        ("repos: [{repo: local, hooks: []}]", "non-empty `hooks`"),
    ],
)
def test_parse_config_errors_are_usage_errors(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=re.escape(message)):
        _config(text)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="pre-commit config not found"):
        load_config(tmp_path / CONFIG_FILE)


def test_select_files_follows_pre_commit_semantics(tmp_path: Path) -> None:
    config = _config("""
        exclude: ^generated/
        repos:
          - repo: local
            hooks:
              - {id: sql, name: s, entry: x, language: system, types: [sql],
                 files: ^models/, exclude: _skip}
              - {id: any, name: t, entry: x, language: system, types_or: [yaml, sql]}
              - {id: text, name: t, entry: x, language: system, types: [text],
                 exclude_types: [csv]}
    """)
    (tmp_path / "blob.dat").write_bytes(b"\0\1\2")
    (tmp_path / "notes.dat").write_text("plain")
    files = ["models/a.sql", "models/a_skip.sql", "other/b.sql", "generated/c.sql",
             "models/x.yml", "seeds/s.csv", "blob.dat", "notes.dat"]
    sql, anything, text = config.hooks
    assert select_files(sql, files, config=config, root=tmp_path) == ["models/a.sql"]
    assert select_files(anything, files, config=config, root=tmp_path) == [
        "models/a.sql", "models/a_skip.sql", "other/b.sql", "models/x.yml"]
    assert "blob.dat" not in select_files(text, files, config=config, root=tmp_path)
    assert "notes.dat" in select_files(text, files, config=config, root=tmp_path)
    assert "seeds/s.csv" not in select_files(text, files, config=config, root=tmp_path)


# --------------------------------------------------------------------------------------
# running hooks on a change (a real git repository)
# --------------------------------------------------------------------------------------
HOOK_CONFIG = f"""\
repos:
  - repo: local
    hooks:
      - id: no-todo
        name: no TODO in SQL
        entry: {sys.executable} hooks/no_todo.py
        language: system
        types: [sql]
      - id: add-newline
        name: files end with a newline
        entry: {sys.executable} hooks/add_newline.py
        language: system
        types: [text]
      - id: yaml-only
        name: yaml hook
        entry: {sys.executable} -c pass
        language: system
        types: [yaml]
      - id: whole-repo
        name: runs once without file names
        entry: {sys.executable} hooks/base_ref.py
        language: system
        pass_filenames: false
        always_run: true
  - repo: https://github.com/dbt-checkpoint/dbt-checkpoint
    rev: v2.0.9
    hooks:
      - id: check-model-has-description
"""

NO_TODO = """\
import sys
bad = [p for p in sys.argv[1:] if "TODO" in open(p).read()]
for p in bad:
    print(f"{p}: contains TODO")
sys.exit(1 if bad else 0)
"""
ADD_NEWLINE = """\
import sys
for p in sys.argv[1:]:
    text = open(p).read()
    if not text.endswith("\\n"):
        open(p, "w").write(text + "\\n")
"""
BASE_REF = """\
import os
print("from-ref", os.environ.get("PRE_COMMIT_FROM_REF", "-"))
"""


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "hooks").mkdir(parents=True)
    (root / "models").mkdir()
    (root / CONFIG_FILE).write_text(HOOK_CONFIG)
    (root / ".gitignore").write_text("target/\n")  # the derived config and pre-commit's store
    (root / "hooks" / "no_todo.py").write_text(NO_TODO)
    (root / "hooks" / "add_newline.py").write_text(ADD_NEWLINE)
    (root / "hooks" / "base_ref.py").write_text(BASE_REF)
    (root / "models" / "old.sql").write_text("select 1 -- TODO but not part of the change\n")
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "first")
    return root


def _commit(root: Path, message: str) -> None:
    _git(root, "add", "-A")
    _git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", message)


def test_changed_files_against_the_previous_commit(repo: Path) -> None:
    (repo / "models" / "new.sql").write_text("select 2\n")
    _commit(repo, "second")
    (repo / "models" / "untracked.sql").write_text("select 3\n")
    (repo / "models" / "old.sql").write_text("select 1\n")  # unstaged edit
    base = resolve_base(repo)
    assert base.ref == "HEAD~1" and base.sha is not None
    assert changed_files(repo, base) == [
        "models/new.sql", "models/old.sql", "models/untracked.sql"]
    assert "hooks/no_todo.py" in all_files(repo)


def test_single_commit_repository_checks_every_file(repo: Path) -> None:
    base = resolve_base(repo)
    assert base == Base(None, None)
    assert "models/old.sql" in changed_files(repo, base)


def test_unknown_base_is_a_usage_error(repo: Path) -> None:
    with pytest.raises(UsageError, match="--base nope"):
        resolve_base(repo, "nope")


def _pr_check(repo: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["pr-check", "--project-dir", str(repo), *args])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_offline_config_keeps_the_local_hooks_only(repo: Path) -> None:
    path = precommit.write_offline_config(repo / CONFIG_FILE, repo)
    assert path == repo / precommit.OFFLINE_CONFIG
    derived = yaml.safe_load(path.read_text())
    assert [r["repo"] for r in derived["repos"]] == ["local"]
    original = yaml.safe_load((repo / CONFIG_FILE).read_text())
    assert derived["repos"][0] == original["repos"][0]  # the local hooks exactly as configured


def test_project_offline_config_is_the_local_part_of_the_project_config() -> None:
    derived = yaml.safe_load(precommit.offline_config_text(REPO / CONFIG_FILE))
    original = yaml.safe_load((REPO / CONFIG_FILE).read_text())
    assert derived["repos"] == [r for r in original["repos"] if r["repo"] == "local"]
    assert {k: v for k, v in derived.items() if k != "repos"} == {
        k: v for k, v in original.items() if k != "repos"}


def test_pr_check_runs_pre_commit_on_the_changed_files_only(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "models" / "bad.sql").write_text("select 1 -- TODO")  # no final newline
    _commit(repo, "second")
    (repo / "models" / "untracked.sql").write_text("select 2 -- TODO\n")  # not committed
    code, out = _pr_check(repo, capsys)
    assert code == 1
    assert "pr-check: 2 file(s) changed against HEAD~1" in out
    # pre-commit's own report: hook lines, `- hook id:`, the hook's output
    assert "- hook id: no-todo" in out
    assert "models/bad.sql: contains TODO" in out
    assert "models/untracked.sql: contains TODO" in out  # uncommitted changes count
    assert "models/old.sql" not in out  # the first commit's TODO is not part of the change
    # a fixer that changes a file fails (pre-commit: "files were modified by this hook");
    # the fix stays in the work tree
    assert "files were modified by this hook" in out
    assert (repo / "models" / "bad.sql").read_text().endswith("\n")
    assert re.search(r"yaml hook\.+\(no files to check\)Skipped", out)
    assert "pr-check FAILED: 2 hook(s) failed (no-todo, add-newline)" in out
    # the remote hook is listed, not run
    assert re.search(r"check-model-has-description\.+\(needs network\)Skipped", out)
    assert "1 remote hook(s) not run offline (https://github.com/dbt-checkpoint" in out


def test_pr_check_passes_and_hands_the_base_to_the_hooks(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "models" / "good.sql").write_text("select 1\n")
    _commit(repo, "second")
    base = resolve_base(repo)
    code, out = _pr_check(repo, capsys, "--verbose")
    assert code == 0, out
    assert "pr-check passed: 3 hook(s) passed" in out
    assert f"from-ref {base.sha}" in out  # PRE_COMMIT_FROM_REF, as --from-ref sets it
    assert "(needs network)Skipped" in out
    # no change at all: pre-commit runs on the (empty) diff, hooks without files are skipped
    _git(repo, "reset", "-q", "--hard")
    code, out = _pr_check(repo, capsys, "--base", "HEAD")
    assert code == 0, out
    assert "pr-check: 0 file(s)" in out
    assert re.search(r"no TODO in SQL\.+\(no files to check\)Skipped", out)


def test_pr_check_all_files_skip_and_hook(repo: Path, capsys: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "models" / "good.sql").write_text("select 1\n")
    _commit(repo, "second")
    # ALL=1: every file, the TODO of the first commit too
    code, out = _pr_check(repo, capsys, "--all-files")
    assert code == 1 and "models/old.sql: contains TODO" in out
    assert "(--all-files)" in out
    # skip by id: --skip, or $SKIP as pre-commit reads it
    code, out = _pr_check(repo, capsys, "--all-files", "--skip", "no-todo")
    assert code == 0, out
    assert re.search(r"no TODO in SQL\.+Skipped", out)
    monkeypatch.setenv("SKIP", "no-todo")
    code, out = _pr_check(repo, capsys, "--all-files")
    assert code == 0, out
    monkeypatch.delenv("SKIP")
    # only some hooks
    code, out = _pr_check(repo, capsys, "--all-files", "--hook", "yaml-only")
    assert code == 0 and "yaml hook" in out and "no TODO in SQL" not in out
    code, out = _pr_check(repo, capsys, "--all-files", "--hook", "yaml-only",
                          "--hook", "no-todo")
    assert code == 1 and "- hook id: no-todo" in out
    assert re.search(r"files end with a newline\.+Skipped", out)
    # usage errors: exit 2
    code, out = _pr_check(repo, capsys, "--hook", "nope")
    assert code == 2 and "no such hook id" in out
    code, out = _pr_check(repo, capsys, "--hook", "check-model-has-description")
    assert code == 2 and "--online" in out


def test_pr_check_online_runs_the_remote_hooks_too(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--online: the project's config as it is; a remote repository (here a local git
    repository standing in for GitHub) is cloned by pre-commit and its hook runs."""
    hooks = tmp_path / "remote-hooks"
    hooks.mkdir()
    (hooks / ".pre-commit-hooks.yaml").write_text(
        "- {id: remote-check, name: remote check, entry: check.sh, language: script}\n")
    script = hooks / "check.sh"
    script.write_text("#!/bin/sh\necho remote check ran on \"$@\"\n")
    script.chmod(0o755)
    _git(hooks, "init", "-q", "-b", "main")
    _commit(hooks, "hooks")
    _git(hooks, "tag", "v1")
    config = yaml.safe_load((repo / CONFIG_FILE).read_text())
    config["repos"][-1] = {"repo": str(hooks), "rev": "v1", "hooks": [{"id": "remote-check"}]}
    (repo / CONFIG_FILE).write_text(yaml.safe_dump(config))
    (repo / "models" / "good.sql").write_text("select 1\n")
    _commit(repo, "second")
    monkeypatch.setenv("PRE_COMMIT_HOME", str(tmp_path / "pre-commit-home"))
    code, out = _pr_check(repo, capsys)
    assert code == 0, out
    assert re.search(r"remote-check\.+\(needs network\)Skipped", out)  # offline: its id
    code, out = _pr_check(repo, capsys, "--online", "--verbose")
    assert code == 0, out
    assert re.search(r"remote check\.+Passed", out)
    assert "remote check ran on" in out and "models/good.sql" in out
    assert "needs network" not in out and "not run offline" not in out


def test_parse_pre_commit_output() -> None:
    output = (
        "a.......................Passed\n"
        "\x1b[41mb\x1b[m..........\x1b[41mFailed\x1b[m\n"
        "- hook id: b\n- exit code: 1\n"
        "c.......(no files to check)Skipped\n"
        "d.......................Passed\n"
        "- hook id: d\n- duration: 0.1s\n"
    )
    assert precommit.parse_output(output) == (("b",), 2)


# --------------------------------------------------------------------------------------
# the change rules of the contract gate
# --------------------------------------------------------------------------------------
def _manifest(b: ManifestBuilder) -> Manifest:
    return Manifest.from_dict(b.build(), Path("manifest.json"))


def test_change_rules_only_flag_what_the_change_did() -> None:
    baseline = gridunion()
    baseline.nodes[baseline.model_id("slv_customers")]["description"] = "Customers."
    current = gridunion()  # slv_customers without its description: dropped by the change
    current.model("slv_new_no_docs", team="nordgrid", domain="billing", layer="silver",
                  columns=[ColumnSpec("x")])
    current.model("slv_new_no_yaml", team="nordgrid", domain="billing", layer="silver",
                  description="Has a description but no properties file.")
    findings = contracts.run_change_rules(_manifest(current), _manifest(baseline))
    assert sorted((f.code, f.label) for f in findings) == [
        ("PR001", "slv_customers"), ("PR001", "slv_new_no_docs"), ("PR002", "slv_new_no_yaml")]
    # slv_meter_readings has no description on either side: an existing gap does not block
    dropped = next(f for f in findings if f.label == "slv_customers")
    assert dropped.team == "electra" and "lost its description" in dropped.message
    assert contracts.run_change_rules(_manifest(current), _manifest(baseline),
                                      frozenset({"PR001", "PR002"})) == []


def test_change_rule_pr003_gold_models_keep_their_contract() -> None:
    """A contract switched off in SQL shows in the manifest, which PR003 reads; gold models
    that are not public (public ones have GU010 and BC004)."""
    baseline = gridunion()
    baseline.model("dim_gold_kept", team="nordgrid", domain="billing", layer="gold",
                   description="Kept.", columns=[ColumnSpec("x")], contract=True)
    baseline.model("dim_gold_dropped", team="nordgrid", domain="billing", layer="gold",
                   description="Dropped.", columns=[ColumnSpec("x")], contract=True)
    baseline.model("dim_gold_old_gap", team="nordgrid", domain="billing", layer="gold",
                   description="Never had one.", columns=[ColumnSpec("x")])
    current = gridunion()
    current.model("dim_gold_kept", team="nordgrid", domain="billing", layer="gold",
                  description="Kept.", columns=[ColumnSpec("x")], contract=True)
    current.model("dim_gold_dropped", team="nordgrid", domain="billing", layer="gold",
                  description="Dropped.", columns=[ColumnSpec("x")])
    current.model("dim_gold_old_gap", team="nordgrid", domain="billing", layer="gold",
                  description="Never had one.", columns=[ColumnSpec("x")])
    current.model("dim_gold_new", team="nordgrid", domain="billing", layer="gold",
                  description="New.", columns=[ColumnSpec("x")])
    current.model("slv_silver_new", team="nordgrid", domain="billing", layer="silver",
                  description="Silver needs none.", columns=[ColumnSpec("x")])
    # public: GU010 (and BC004 when it had one) report it, PR003 does not repeat them
    current.model("dim_gold_public_new", team="nordgrid", domain="billing", layer="gold",
                  access="public", description="New.", columns=[ColumnSpec("x")])
    findings = contracts.run_change_rules(_manifest(current), _manifest(baseline))
    assert sorted((f.code, f.label, f.message) for f in findings) == [
        ("PR003", "dim_gold_dropped", "dim_gold_dropped lost its enforced contract in this change"),
        ("PR003", "dim_gold_new", "new gold model dim_gold_new has no enforced contract")]


def test_contract_gate_fails_on_a_breaking_change_and_names_the_teams() -> None:
    baseline = _manifest(gridunion())
    changed = gridunion()
    incident_bronze_change(changed)
    result = contracts.check(_manifest(changed), baseline, checks.DepsConfig())
    assert result.failed
    assert {"nordgrid", "regulatory_reporting"} <= set(result.report.affected_teams)
    text = pr_formats.render_table(result)
    assert text.startswith("pr-contracts FAILED") and "BC002" in text
    assert "Luxembourg regulator dashboard" in text
    clean = contracts.check(baseline, baseline, checks.DepsConfig())
    assert not clean.failed
    assert pr_formats.render_table(clean).startswith("pr-contracts passed")


def test_disable_splits_change_rules_from_deps_rules() -> None:
    assert contracts.split_disabled(["GU013", "PR001"]) == (["GU013"], frozenset({"PR001"}))
    with pytest.raises(UsageError, match="PR999"):
        contracts.split_disabled(["PR999"])


# --------------------------------------------------------------------------------------
# slim CI: sqlfluff output and the comment
# --------------------------------------------------------------------------------------
SQLFLUFF_JSON = """=== [dbt templater] Compiling dbt project...
[{"filepath": "models/a.sql", "violations": [{"start_line_no": 3, "start_line_pos": 5,
"code": "CP01", "description": "Keywords must be lower case.", "name": "capitalisation"}]},
{"filepath": "models/b.sql", "violations": []}]"""


def test_parse_sqlfluff_json() -> None:
    assert slim_ci.parse_sqlfluff_json(SQLFLUFF_JSON) == [
        slim_ci.LintViolation("models/a.sql", 3, "CP01", "Keywords must be lower case.")]
    assert slim_ci.parse_sqlfluff_json("") == []
    with pytest.raises(ValueError):
        slim_ci.parse_sqlfluff_json("Traceback: sqlfluff crashed")


def _report(*, breaking: bool, lint_ok: bool = True) -> slim_ci.SlimCiReport:
    baseline = _manifest(gridunion())
    changed = gridunion()
    if breaking:
        incident_bronze_change(changed)
    result = contracts.check(_manifest(changed), baseline, checks.DepsConfig())
    lint = slim_ci.LintOutcome(("models/metering/bronze/brz_dutchgrid__readings.sql",),
                               () if lint_ok else (slim_ci.LintViolation(
                                   "models/metering/bronze/brz_dutchgrid__readings.sql", 4,
                                   "AL01", "Implicit aliasing of table."),))
    build = slim_ci.BuildOutcome(True, "dbt build", 0, {"success": 4, "pass": 9})
    exposure = ExposureRef("exposure.gridunion.lu_regulator_dashboard", "lu_regulator_dashboard",
                           "Luxembourg regulator dashboard", "dashboard",
                           "regulatory_reporting", "https://bi.example/lu")
    changed_node = slim_ci.ChangedNode(
        "model.gridunion.brz_dutchgrid__readings", "brz_dutchgrid__readings", "model",
        "modified", "platform", "metering", "bronze", "private",
        "models/metering/bronze/brz_dutchgrid__readings.sql", 6, 1)
    return slim_ci.SlimCiReport(
        base=Base("origin/main", "a" * 40), head="b" * 40, baseline="base/manifest.json",
        changed_files=("models/metering/bronze/brz_dutchgrid__readings.sql",),
        changed=(changed_node,), owners=("platform",),
        downstream_teams=("nordgrid", "regulatory_reporting"), exposures=(exposure,),
        downstream_models=("slv_meter_readings", "fct_meter_readings"), contracts=result,
        lint=lint, build=build,
    )


def test_comment_names_teams_exposures_and_results() -> None:
    report = _report(breaking=True, lint_ok=False)
    assert report.failed
    text = pr_formats.to_markdown(report)
    assert text.startswith("## ❌ GridUnion pull-request checks FAILED")
    assert "**Teams affected:** `commercial_analytics`, `nordgrid`, `platform`" in text
    assert "**Teams downstream (please review):** `nordgrid`, `regulatory_reporting`" in text
    assert "Luxembourg regulator dashboard (dashboard, owned by `regulatory_reporting`)" in text
    assert "| `brz_dutchgrid__readings` | modified | platform | metering / bronze |" in text
    assert "`brz_dutchgrid__readings` | platform | brz_dutchgrid__readings: column" in text
    assert "Implicit aliasing of table." in text and "❌ 1 violation(s)" in text
    assert "SUCCESS=4 PASS=9" in text


def test_comment_of_a_clean_change_passes() -> None:
    report = _report(breaking=False)
    assert not report.failed
    text = pr_formats.to_markdown(report)
    assert text.startswith("## ✅ GridUnion pull-request checks passed")
    assert "No breaking changes against the baseline." in text
    assert "| Lint (sqlfluff, 1 changed SQL file(s)) | ✅ clean |" in text


def test_pr_ci_needs_a_baseline_manifest(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "empty").mkdir()
    code = main(["pr-ci", "--baseline-dir", str(tmp_path / "empty"), "--project-dir",
                 str(REPO), "--no-build", "--no-lint"])
    assert code == 3
    assert "baseline manifest not found" in capsys.readouterr().err
