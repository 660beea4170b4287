"""The project's generic data tests run on the embedded engine and find exactly the failures
they name (called on inline rows with `dbt show --inline`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import REPO, assert_ok, dbt, engine_env, free_port, platform_tools

pytestmark = pytest.mark.engine

REPEATED = (
    "(1, 'a', 'x'), (1, 'a', 'x'), (1, 'a', 'y'), (2, null, 'x'), (2, null, 'x'), "
    "(3, 'b', null), (3, 'b', null), (3, 'b', null), (4, 'c', 'x')"
)
UNIQUE = "(1, 'a', 'x'), (1, 'a', 'y'), (2, null, 'x'), (3, 'b', null), (4, 'c', 'x')"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    work = tmp_path_factory.mktemp("generic")
    environment = engine_env(work / "lakehouse", free_port())
    try:
        yield environment
    finally:
        platform_tools(environment, "engine", "down")


def _show(env: dict[str, str], work: Path, sql: str) -> list[dict[str, Any]]:
    result = dbt(
        REPO, env, "show", "--inline", sql, "--output", "json", "--limit", "100",
        "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
    )  # fmt: skip
    assert_ok(result)
    start = result.stdout.rindex("{", 0, result.stdout.index('"show"'))
    text = result.stdout[start : result.stdout.rindex("}") + 1]
    return list(json.loads(text)["show"])


def _repeated_combinations(env: dict[str, str], work: Path, rows: str) -> list[tuple[Any, ...]]:
    relation = f"(select * from values {rows} as t(k, v, w)) rows"
    sql = (
        '{{ test_unique_combination_of_columns(model="' + relation + '", '
        "combination_of_columns=['k', 'v', 'w']) }}"
    )
    return sorted((r["k"], r["v"], r["w"], r["occurrences"]) for r in _show(env, work, sql))


def test_unique_combination_of_columns_returns_each_repeated_combination_once(
    env: dict[str, str], tmp_path: Path
) -> None:
    # (1, 'a', 'y') and (4, 'c', 'x') are unique; NULLs group together as in GROUP BY
    assert _repeated_combinations(env, tmp_path, REPEATED) == [
        (1, "a", "x", 2), (2, None, "x", 2), (3, "b", None, 3),
    ]  # fmt: skip


def test_unique_combination_of_columns_passes_on_unique_rows(
    env: dict[str, str], tmp_path: Path
) -> None:
    assert _repeated_combinations(env, tmp_path, UNIQUE) == []
