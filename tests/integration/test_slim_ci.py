"""Slim CI end to end (`platform-tools pr-ci`) on two commits of the project, against the real
engine and the real dbt CLI.

A clone of the repository (with the work tree's uncommitted changes committed on top, so the
test checks what is being developed) is "main": its landing zone is generated and staged, the
project is built once and that build's manifest is the baseline artifact. Then, as pull
requests on top of it:

(a) a harmless change (a comment in a metering gold model) passes: only the modified model and
    its children are built (`state:modified+ --defer`), the comment lists them and the teams
    downstream;
(b) a breaking change to a public model (a column dropped from `dim_meters` and its YAML)
    fails, and the comment names the teams and exposures it hits.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from platform_tools.engine import server
from platform_tools.engine.config import DEFAULT_SESSION_ID, EngineConfig
from tests.helpers import (
    assert_ok,
    clone_work_tree,
    dbt,
    engine_env,
    free_port,
    git,
    platform_tools,
)

pytestmark = pytest.mark.engine

HARMLESS = Path("models/metering/gold/fct_region_hourly_consumption.sql")
DIM_METERS = Path("models/metering/gold/dim_meters.sql")
DIM_METERS_YML = Path("models/metering/gold/_metering__gold.yml")


@dataclass
class Sandbox:
    repo: Path
    work: Path
    env: dict[str, str]
    baseline: Path
    main_sha: str

    def pr_ci(self, name: str) -> tuple[int, str, str]:
        comment = self.work / f"{name}.md"
        result = platform_tools(
            self.env, "pr-ci", "--baseline-dir", str(self.baseline), "--base", self.main_sha,
            "--target-dir", str(self.work / f"target-{name}"), "--comment-out", str(comment),
            cwd=self.repo,
        )
        text = comment.read_text() if comment.exists() else ""
        return result.returncode, text, result.stdout + result.stderr

    def branch(self, name: str) -> None:
        git(self.repo, "checkout", "-q", "-B", name, self.main_sha)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    work = tmp_path_factory.mktemp("slim_ci")
    repo = work / "repo"
    main_sha = clone_work_tree(repo)
    port = free_port()
    lakehouse = work / "lakehouse"
    env = engine_env(lakehouse, port, repo)
    try:
        assert_ok(platform_tools(env, "landing", "generate", "--meters", "40", "--days", "2",
                                 cwd=repo))
        assert_ok(platform_tools(env, "landing", "stage", cwd=repo))
        # production: main is built once; its manifest is the baseline artifact
        baseline = work / "baseline"
        assert_ok(dbt(repo, env, "build", "--target-path", str(baseline),
                      "--log-path", str(work / "logs")))
        yield Sandbox(repo, work, env, baseline, main_sha)
    finally:
        server.down(EngineConfig(lakehouse=lakehouse, port=port, session_id=DEFAULT_SESSION_ID))


def test_harmless_change_builds_only_what_changed_and_passes(sandbox: Sandbox) -> None:
    sandbox.branch("harmless")
    model = sandbox.repo / HARMLESS
    model.write_text("-- Reviewed: the hourly grain is UTC.\n" + model.read_text())
    git(sandbox.repo, "commit", "-qam", "comment only")

    code, comment, output = sandbox.pr_ci("harmless")
    assert code == 0, output + comment
    assert comment.startswith("## ✅ GridUnion pull-request checks passed")
    assert "| `fct_region_hourly_consumption` | modified | platform | metering / gold |" in comment
    assert "No breaking changes against the baseline." in comment
    assert "| Lint (sqlfluff, 1 changed SQL file(s)) | ✅ clean |" in comment
    # the forecasting team reads the hourly consumption: it is told to review
    assert re.search(r"\*\*Teams downstream \(please review\):\*\* .*`demand_forecasting`",
                     comment), comment
    # slim: the build selected the model and its children only, not the whole project
    results = (sandbox.work / "target-harmless" / "run_results.json").read_text()
    assert "model.gridunion.fct_region_hourly_consumption" in results
    assert "model.gridunion.dim_meters\"" not in results
    assert "model.gridunion.fct_invoices\"" not in results
    built = re.search(r"SUCCESS=(\d+)", comment)
    assert built is not None and int(built.group(1)) >= 1
    assert "ERROR=" not in comment and "FAIL=" not in comment


def test_breaking_change_to_a_public_model_fails_and_names_the_teams(sandbox: Sandbox) -> None:
    sandbox.branch("breaking")
    sql = sandbox.repo / DIM_METERS
    sql.write_text(sql.read_text().replace("    meter_type,\n", ""))
    yml = sandbox.repo / DIM_METERS_YML
    text = yml.read_text()
    dropped = re.sub(r"      - name: meter_type\n(        .*\n)+?(?=      - name:)", "", text,
                     count=1)
    assert dropped != text
    yml.write_text(dropped)
    git(sandbox.repo, "commit", "-qam", "drop dim_meters.meter_type")

    code, comment, output = sandbox.pr_ci("breaking")
    assert code == 1, output + comment
    assert comment.startswith("## ❌ GridUnion pull-request checks FAILED")
    assert "| `dim_meters` | platform | dim_meters: column meter_type removed | error |" in comment
    hit = re.search(r"\*\*Teams hit by a breaking change:\*\* (.*)", comment)
    assert hit is not None, comment
    # billing prices consumption per meter and customers map meters to supply points
    assert "`nordgrid`" in hit.group(1) and "`electra`" in hit.group(1)
    assert "**Exposures downstream:**" in comment and "Billing revenue dashboard" in comment
    assert "pr-ci FAILED" in output


# --------------------------------------------------------------------------------------
# `make pr-check` (platform-tools pr-check) on the same commits: no engine needed
# --------------------------------------------------------------------------------------
def pr_check(sandbox: Sandbox, base: str) -> tuple[int, str]:
    result = platform_tools(sandbox.env, "pr-check", "--base", base, cwd=sandbox.repo)
    return result.returncode, result.stdout + result.stderr


def test_pr_check_passes_on_main(sandbox: Sandbox) -> None:
    """The last commit of main (here: the work tree under test) passes its own checks."""
    git(sandbox.repo, "checkout", "-q", "--detach", sandbox.main_sha)
    parent = git(sandbox.repo, "rev-parse", "--verify", "--quiet", "HEAD~1")
    code, output = pr_check(sandbox, parent)
    assert code == 0, output[-8000:]
    assert "pr-check passed" in output and "(needs network)Skipped" in output


def test_pr_check_fails_readably_on_description_lint_and_contract(sandbox: Sandbox) -> None:
    sandbox.branch("three-problems")
    # a dropped model description (slv_meters is private: only the change rule sees it)
    yml = sandbox.repo / "models" / "metering" / "silver" / "_metering__silver.yml"
    text = yml.read_text()
    match = re.search(r"(  - name: slv_meters\n)    description: (>\n(      .*\n)+|.*\n)", text)
    assert match is not None
    yml.write_text(text[:match.start()] + match.group(1) + text[match.end():])
    # SQL against the lint rules
    sql = sandbox.repo / "models" / "metering" / "silver" / "slv_meters.sql"
    head, final_select = sql.read_text().rsplit("\nselect\n", 1)
    sql.write_text(head + "\nSELECT\n" + final_select)
    # a column dropped from a public model
    dim = sandbox.repo / DIM_METERS
    dim.write_text(dim.read_text().replace("    installed_on,\n", ""))
    gold = sandbox.repo / DIM_METERS_YML
    gold.write_text(re.sub(r"      - name: installed_on\n(        .*\n)+?(?=      - name:)", "",
                           gold.read_text(), count=1))
    git(sandbox.repo, "commit", "-qam", "three problems")

    code, output = pr_check(sandbox, sandbox.main_sha)
    assert code == 1, output[-8000:]
    assert "pr-check FAILED: 2 hook(s) failed (sqlfluff-lint, platform-contracts)" in output
    assert "CP01 | Keywords must be lower case." in output
    assert "PR001" in output and "slv_meters lost its description in this change" in output
    assert "BC002" in output and "dim_meters: column installed_on removed" in output
    assert "teams affected by this change:" in output and "nordgrid" in output
