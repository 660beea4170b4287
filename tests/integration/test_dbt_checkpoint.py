"""The dbt-checkpoint hooks of `.pre-commit-config.yaml`, really run by pre-commit.

`make pr-check` runs only the local hooks offline; the dbt-checkpoint ones run where their
repository is reachable. This test runs them as configured — the same hook ids, `args`,
`files` and `types_or`, at the pinned `rev` — against a clone of the work tree:

(a) `pre-commit run --all-files` passes on the tree as it is;
(b) a change that drops a model description (`slv_meters`), the only test of a model
    (`brz_nordgrid__meters`) and a gold model's contract in its `.sql` (`dim_meters`) fails
    `check-model-has-description`, `check-model-has-tests` and `check-model-has-contract`,
    both as a pull request runs them (`--from-ref <base> --to-ref HEAD`, where the contract
    change reaches the hook only through the `.sql` file) and with `--all-files`.

The repository: `$DBT_CHECKPOINT_REPO` (a local clone or a URL), else the configured URL.
Skipped, with the reason, when it cannot be reached or lacks the pinned tag, or when
pre-commit cannot install the hooks' environment (it needs the package registry). The hooks
read the manifest that `platform-contracts` writes; here one `dbt parse` per tree writes it
(the second one partial).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from platform_tools.pr.tools import lint_env
from tests.helpers import BIN, REPO, assert_ok, clone_work_tree, dbt, git, run

CONFIG = REPO / ".pre-commit-config.yaml"
CHECKPOINT_URL = "https://github.com/dbt-checkpoint/dbt-checkpoint"
MANIFEST_DIR = Path("target/pr_check/current")
REPO_ENV = "DBT_CHECKPOINT_REPO"

SILVER_YML = Path("models/metering/silver/_metering__silver.yml")
BRONZE_YML = Path("models/metering/bronze/_metering__bronze.yml")
DIM_METERS = Path("models/metering/gold/dim_meters.sql")


def checkpoint_block() -> dict[str, Any]:
    config = yaml.safe_load(CONFIG.read_text())
    blocks = [r for r in config["repos"] if r["repo"] == CHECKPOINT_URL]
    assert len(blocks) == 1, f"{CONFIG}: expected one {CHECKPOINT_URL} repository"
    return dict(blocks[0])


def reachable_repository(rev: str) -> str:
    """Where pre-commit can clone dbt-checkpoint at ``rev`` from; skips the test otherwise."""
    location = os.environ.get(REPO_ENV) or CHECKPOINT_URL
    source = f"${REPO_ENV}" if os.environ.get(REPO_ENV) else "the configured repository"
    if Path(location).is_dir():
        location = str(Path(location).resolve())
        probe = ["git", "-C", location, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"]
    else:
        probe = ["git", "ls-remote", "--exit-code", "--tags", location, f"refs/tags/{rev}"]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=60, env=env,
                                check=False)
    except subprocess.TimeoutExpired:
        pytest.skip(f"dbt-checkpoint not reachable: {location} ({source}) timed out; "
                    f"set {REPO_ENV} to a local clone")
    if result.returncode != 0:
        why = " ".join((result.stderr or result.stdout).split())[-300:] or f"no tag {rev}"
        pytest.skip(f"dbt-checkpoint not reachable at {rev}: {location} ({source}): {why}; "
                    f"set {REPO_ENV} to a local clone of the repository")
    return location


@dataclass
class Checkout:
    root: Path
    config: Path
    env: dict[str, str]
    base: str

    def parse(self) -> None:
        """What platform-contracts does first: the manifest the hooks read."""
        assert_ok(dbt(self.root, self.env, "parse", "--target-path", str(MANIFEST_DIR)))

    def pre_commit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run([str(BIN / "pre-commit"), "run", "--config", str(self.config),
                    "--color", "never", *args], cwd=self.root, env=self.env, timeout=900)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Checkout]:
    if not (BIN / "pre-commit").is_file():
        pytest.skip("pre-commit is not installed (the `dev` extra of pyproject.toml)")
    block = checkpoint_block()
    location = reachable_repository(str(block["rev"]))
    work = tmp_path_factory.mktemp("dbt_checkpoint")
    root = work / "repo"
    base = clone_work_tree(root)
    # the configured hooks verbatim, only the repository's location replaced; outside the
    # checkout, so pre-commit does not ask for it to be committed
    source = yaml.safe_load(CONFIG.read_text())
    config = work / "pre-commit-dbt-checkpoint.yaml"
    config.write_text(yaml.safe_dump({
        "exclude": source.get("exclude", "^$"),
        "repos": [{**block, "repo": location}],
    }, sort_keys=False))
    env = lint_env()
    env.pop("PRE_COMMIT_FROM_REF", None)
    env.pop("PRE_COMMIT_TO_REF", None)
    env["SKIP"] = ""
    setup = run([str(BIN / "pre-commit"), "install-hooks", "--config", str(config)],
                cwd=root, env=env, timeout=900)
    if setup.returncode != 0:
        pytest.skip("pre-commit could not install the dbt-checkpoint hook environment "
                    f"(it needs the package registry): {(setup.stdout + setup.stderr)[-600:]}")
    checkout = Checkout(root, config, env, base)
    checkout.parse()
    yield checkout


def hook_ids() -> list[str]:
    return [str(h["id"]) for h in checkpoint_block()["hooks"]]


def hook_sections(output: str) -> dict[str, str]:
    """The report of each failed hook, by id (pre-commit prints `- hook id: <id>` under it)."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in output.splitlines():
        if line.startswith("- hook id: "):
            current = line.removeprefix("- hook id: ").strip()
            sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_configured_hooks_pass_on_the_tree(checkout: Checkout) -> None:
    result = checkout.pre_commit("--all-files")
    assert_ok(result)
    lines = result.stdout.splitlines()
    # every configured hook ran (none skipped for want of files) and passed
    assert sum(line.rstrip().endswith("Passed") for line in lines) == len(hook_ids()), (
        result.stdout)
    assert "Skipped" not in result.stdout and "Mixpanel" not in result.stdout + result.stderr


def _drop(models: list[dict[str, Any]], name: str, key: str) -> None:
    model = next(m for m in models if m["name"] == name)
    assert key in model, f"{name} has no {key}"
    del model[key]


def test_configured_hooks_fail_on_dropped_description_test_and_contract(
    checkout: Checkout,
) -> None:
    """Commits its change to the module's checkout: runs after the passing test (file order)."""
    root = checkout.root
    silver = yaml.safe_load((root / SILVER_YML).read_text())
    _drop(silver["models"], "slv_meters", "description")
    (root / SILVER_YML).write_text(yaml.safe_dump(silver, sort_keys=False))
    bronze = yaml.safe_load((root / BRONZE_YML).read_text())
    _drop(bronze["models"], "brz_nordgrid__meters", "data_tests")  # its only test
    (root / BRONZE_YML).write_text(yaml.safe_dump(bronze, sort_keys=False))
    sql = (root / DIM_METERS).read_text()
    assert "{{ config(\n" in sql
    (root / DIM_METERS).write_text(
        sql.replace("{{ config(\n", "{{ config(\n    contract={'enforced': false},\n", 1))
    git(root, "commit", "-qam", "drop a description, a test and a contract")
    checkout.parse()
    nodes = json.loads((root / MANIFEST_DIR / "manifest.json").read_text())["nodes"]
    assert nodes["model.gridunion.dim_meters"]["config"]["contract"]["enforced"] is False

    expected = {
        "check-model-has-description": "slv_meters",
        "check-model-has-tests": "brz_nordgrid__meters",
        "check-model-has-contract": "dim_meters",
    }
    # as a pull request runs them: only the changed files, dim_meters through its .sql alone
    pull_request = checkout.pre_commit("--from-ref", checkout.base, "--to-ref", "HEAD")
    everything = checkout.pre_commit("--all-files")
    for result in (pull_request, everything):
        assert result.returncode == 1, result.stdout
        failed = hook_sections(result.stdout)
        assert set(failed) == set(expected), result.stdout
        for hook_id, model in expected.items():
            assert model in failed[hook_id], f"{hook_id}:\n{failed[hook_id]}"
