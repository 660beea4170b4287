"""platform_tools.rules: one rulebook for every rule code, its listing and the generated docs."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from platform_tools.cli import main
from platform_tools.deps.model import Severity
from platform_tools.rules import docs
from platform_tools.rules.formats import rule_markdown, to_markdown
from platform_tools.rules.rulebook import FAMILIES, RULEBOOK, parse_doc, rule, rules

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _registered() -> None:
    """Every family's module imported, whichever test runs alone."""
    rules()


def test_every_family_is_registered_and_every_rule_is_documented() -> None:
    registered = rules()
    assert {r.family for r in registered.values()} == set(FAMILIES) == {"GU", "BC", "PR"}
    assert {f"BC00{i}" for i in range(1, 7)} | {"PR001", "PR002", "PR003", "GU001"} <= set(
        registered)
    for code, r in registered.items():
        assert r.code == code and code.startswith(r.family)
        assert r.summary and r.rationale and r.example and r.fix, code
        assert r.func.__module__ == FAMILIES[r.family].module, code
    # family by family, then by code
    assert [r.family for r in registered.values()] == sorted(
        (r.family for r in registered.values()), key=list(FAMILIES).index)


def test_the_rules_live_in_one_folder() -> None:
    folder = REPO / "platform_tools" / "rules"
    assert {p.name for p in folder.glob("*.py")} >= {"rulebook.py", "gu.py", "bc.py", "pr.py"}
    assert not (REPO / "platform_tools" / "deps" / "rules.py").exists()


def test_the_docs_rules_section_is_generated_from_the_docstrings() -> None:
    path = REPO / docs.DOCS_FILE
    assert docs.section(path.read_text(encoding="utf-8"), str(path)) == docs.generated(), (
        f"{docs.DOCS_FILE}: the rules section differs from the rules' docstrings; run "
        f"`{docs.REGENERATE}` (platform-tools rules --write-docs) and commit the result"
    )


def test_a_changed_docstring_makes_the_docs_stale(monkeypatch: pytest.MonkeyPatch) -> None:
    path = REPO / docs.DOCS_FILE
    assert docs.is_current(path)
    changed = dataclasses.replace(RULEBOOK["GU001"], fix="Read whatever you like.")
    monkeypatch.setitem(RULEBOOK, "GU001", changed)
    assert not docs.is_current(path)
    assert "Fix: Read whatever you like." in docs.generated()


def test_parse_doc_reads_the_four_parts() -> None:
    parts = parse_doc('''Summary on
    two lines.

    Rationale: because
    of ``this``.

    Example::

        select 1
          from x

    Fix: do ``that``.
    ''')
    assert parts == {
        "summary": "Summary on two lines.",
        "rationale": "because\nof ``this``.",
        "example": "select 1\n  from x",
        "example_is_block": True,
        "fix": "do ``that``.",
    }
    inline = parse_doc("S.\n\nRationale: r.\n\nExample: e.\nFix: f.")
    assert inline["example"] == "e." and inline["example_is_block"] is False


@pytest.mark.parametrize(("doc", "message"), [
    ("Summary.\n\nRationale: r.\n\nExample: e.", "lacks Fix"),
    ("\n\nRationale: r.\n\nExample: e.\n\nFix: f.", "lacks summary"),
    ("Summary.\n\nloose text\n\nRationale: r.\n\nExample: e.\n\nFix: f.", "before Rationale"),
    ("Summary.\n\nRationale: r.\n\nRationale: again.\n\nExample: e.\n\nFix: f.", "two Rationale"),
])
def test_the_decorator_rejects_an_incomplete_docstring(doc: str, message: str) -> None:
    def check() -> Iterator[None]:
        yield None

    check.__doc__ = doc
    with pytest.raises(ValueError, match=message):
        rule("GU999", "incomplete")(check)
    assert "GU999" not in RULEBOOK


@pytest.mark.parametrize("code", ["GU001", "XX001", "GU1", "gu001"])
def test_the_decorator_rejects_a_duplicate_or_malformed_code(code: str) -> None:
    def check() -> Iterator[None]:
        """S.

        Rationale: r.

        Example: e.

        Fix: f.
        """
        yield None

    with pytest.raises(ValueError, match="duplicate|expected a family"):
        rule(code, "again", Severity.WARN)(check)


def test_markdown_of_one_rule() -> None:
    text = rule_markdown(RULEBOOK["GU002"])
    assert text.startswith('<a id="gu002"></a>\n#### GU002 `undeclared-cross-domain-dependency`'
                           " (error)\n\nA model depends on another domain that its "
                           "`meta.upstream_domains` does not declare.\n")
    assert "Example:\n\n```text\n# dbt_project.yml\nbilling:\n  +meta:" in text
    bc = rule_markdown(RULEBOOK["BC003"])
    assert "(error or warn)" in bc and "Example: `consumption_kwh`" in bc
    assert "### PR: change rules of a pull request" in to_markdown(rules("PR").values())


def test_rules_command_formats_and_families(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    table = capsys.readouterr().out
    assert table.splitlines()[0].split() == ["CODE", "SEVERITY", "NAME", "SUMMARY"]
    assert {"GU001", "BC002", "PR003"} <= {line.split()[0] for line in table.splitlines()[2:]}
    assert "``" not in table
    assert main(["rules", "--family", "bc", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)["rules"]
    assert [r["code"] for r in data] == [f"BC00{i}" for i in range(1, 7)]
    assert set(data[0]) == {"code", "family", "name", "severity", "summary", "rationale",
                            "example", "fix"}
    assert data[0]["severity"] == "error or warn" and "\n" not in data[0]["rationale"]
    assert main(["rules", "--format", "markdown", "--family", "PR"]) == 0
    assert "#### PR001 `model-description-dropped` (error)" in capsys.readouterr().out
    assert main(["rules", "--family", "ZZ"]) == 2


def test_rules_command_writes_and_checks_the_docs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "page.md"
    page.write_text(f"# Title\n\n{docs.START}\nold text\n{docs.END}\n\nafter\n")
    assert main(["rules", "--check-docs", str(page)]) == 1
    assert "make rules-docs" in capsys.readouterr().err
    assert main(["rules", "--write-docs", str(page)]) == 0
    assert "rewritten" in capsys.readouterr().out
    text = page.read_text()
    assert text.startswith(f"# Title\n\n{docs.START}\n<!-- generated") and text.endswith(
        f"{docs.END}\n\nafter\n")
    assert docs.section(text) == docs.generated()
    assert main(["rules", "--write-docs", str(page)]) == 0
    assert "already up to date" in capsys.readouterr().out
    assert main(["rules", "--check-docs", str(page)]) == 0
    page.write_text("# no markers\n")
    assert main(["rules", "--write-docs", str(page)]) == 2
    assert "rules:start" in capsys.readouterr().err


def test_deps_list_rules_points_at_the_other_families(
    capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deps", "--list-rules"]) == 0
    out = capsys.readouterr().out
    assert "GU021 model-without-domain [error]" in out and "BC001" not in out.split("\n\n")[0]
    assert out.rstrip().endswith("`platform-tools rules` lists every rule of the platform.")
