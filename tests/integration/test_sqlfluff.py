"""sqlfluff holds the project's SQL style (.sqlfluff: dbt templater, sparksql, lower case,
explicit aliases, trailing commas, 100 columns) without an engine.

- the whole project lints clean (one sqlfluff invocation over every folder the pre-commit
  hook lints);
- `sqlfluff fix` turns a deliberately messy copy of a model into the project's style, and the
  fixed model still compiles with `dbt compile` (in a temporary copy of the project, offline).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.helpers import BIN, REPO, assert_ok, dbt, engine_env, free_port, run

LINTED_FOLDERS = ("models", "tests/data_tests", "snapshots", "analyses")
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "target", "logs", ".lakehouse", "test-output", "__pycache__",
    ".mypy_cache", ".ruff_cache", ".pytest_cache", "*.egg-info", "fixtures",
)

# The meter dimension written the way the style forbids: upper-case keywords, leading commas,
# implicit table and column aliases, and a line far beyond 100 characters.
MESSY_DIM_METERS = (
    "-- The meter dimension (a deliberately messy copy for the sqlfluff test).\n"
    "SELECT\n"
    "    M.METER_ID\n"
    "    , M.SOURCE_SYSTEM\n"
    "    , M.LOCAL_METER_CODE\n"
    "    , M.COUNTRY_CODE\n"
    "    , M.REGION_CODE\n"
    "    , M.SUPPLY_POINT_ID\n"
    "    , COALESCE(M.METER_TYPE, 'unknown') METER_TYPE\n"
    "    , M.INSTALLED_ON\n"
    "    , M.LAST_CHANGED_ON\n"
    # one line of about 170 characters
    "FROM {{ ref('slv_meters') }} M WHERE M.METER_ID IS NOT NULL"
    " AND M.SOURCE_SYSTEM IN ('nordgrid', 'electra', 'dutchgrid', 'luxpower')"
    " AND M.COUNTRY_CODE IN ('DE', 'FR', 'NL', 'LU')\n"
)


def _env(project: Path) -> dict[str, str]:
    # no engine is started: sqlfluff (and GRIDUNION_OFFLINE=1 for dbt) use the offline connection
    env = engine_env(project / ".lakehouse", free_port(), project)
    env["GRIDUNION_OFFLINE"] = "1"
    return env


def test_the_whole_project_lints_clean() -> None:
    folders = [f for f in LINTED_FOLDERS if (REPO / f).is_dir()]
    result = run([str(BIN / "sqlfluff"), "lint", *folders], cwd=REPO, env=_env(REPO),
                 timeout=1800)
    # sqlfluff skips a file dbt cannot compile with a warning and still exits 0
    output = result.stdout + result.stderr
    skipped = [line for line in output.splitlines() if "Skipped file" in line]
    assert not skipped, "\n".join(skipped)
    assert result.returncode == 0, (
        "sqlfluff found violations (fix with `sqlfluff fix <file>`):\n"
        + "\n".join(line for line in result.stdout.splitlines()
                    if line.startswith(("==", "L:")))[-6000:]
        + result.stderr[-2000:]
    )


@pytest.fixture(scope="module")
def fixed_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project whose dim_meters is messy, after `sqlfluff fix`."""
    project = tmp_path_factory.mktemp("sqlfluff") / "project"
    shutil.copytree(REPO, project, ignore=COPY_IGNORE)
    model = project / "models" / "metering" / "gold" / "dim_meters.sql"
    model.write_text(MESSY_DIM_METERS)
    fixed = run([str(BIN / "sqlfluff"), "fix", str(model.relative_to(project))],
                cwd=project, env=_env(project), timeout=900)
    # exit 0: every violation was fixable and is fixed
    assert_ok(fixed)
    return project


def test_fix_produces_the_project_style(fixed_copy: Path) -> None:
    text = (fixed_copy / "models" / "metering" / "gold" / "dim_meters.sql").read_text()
    lines = text.splitlines()
    assert lines[0].startswith("-- The meter dimension")  # comments survive
    code = "\n".join(line for line in lines if not line.lstrip().startswith("--"))
    # lower-case keywords, identifiers and functions
    assert not re.search(r"\b(SELECT|FROM|WHERE|AND|IN|IS|NOT|NULL|COALESCE)\b", code)
    assert "m.meter_id" in code and "M." not in code
    # trailing commas, one select target per line
    assert not any(line.lstrip().startswith(",") for line in lines)
    assert "    m.meter_id,\n    m.source_system," in text
    # explicit aliases for the table and the expression
    assert "from {{ ref('slv_meters') }} as m" in text
    assert "coalesce(m.meter_type, 'unknown') as meter_type," in text
    # no line over 100 characters: the long where clause was split
    assert max(len(line) for line in lines) <= 100
    assert "\nwhere m.meter_id is not null\n" in text
    assert re.search(r"\n    and m\.country_code in \('DE', 'FR', 'NL', 'LU'\)\n", text), text
    assert text.endswith("\n") and not text.endswith("\n\n")


def test_fixed_model_still_compiles(fixed_copy: Path, tmp_path: Path) -> None:
    result = dbt(fixed_copy, _env(fixed_copy), "compile", "--select", "dim_meters",
                 "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs"))
    assert_ok(result)
    compiled = next((tmp_path / "target" / "compiled").rglob("dim_meters.sql")).read_text()
    assert "as m" in compiled and "metering_silver" in compiled and "{{" not in compiled
