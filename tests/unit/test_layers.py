"""The import structure of ``platform_tools`` reads load -> analyse -> render -> CLI with no
arrow back up (``docs/decisions.md``, "Layers")."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "platform_tools"

# The CLI layer: the entry point, the shared options and every command's ``cli.py``.
CLI_MODULES = {"platform_tools.cli", "platform_tools.__main__", "platform_tools.cliutil"}
# The render layer: each domain's formatters, the report's and products' pages and the rules'
# section of the docs.
RENDER_NAMES = {"formats", "render", "svg", "textfmt"}
RENDER_MODULES = {"platform_tools.rules.docs"}
# ``landing/dialects.py`` describes the source systems' files (data the loaders read).
NOT_RENDER = {"platform_tools.landing.dialects"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_cli(module: str) -> bool:
    return module in CLI_MODULES or module.endswith(".cli")


def _is_render(module: str) -> bool:
    return module not in NOT_RENDER and (
        module.rsplit(".", 1)[-1] in RENDER_NAMES or module in RENDER_MODULES
    )


def _imports() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                edges += [(module, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                edges.append((module, node.module))
                edges += [(module, f"{node.module}.{alias.name}") for alias in node.names
                          if (PACKAGE.parent / f"{node.module}.{alias.name}".replace(".", "/")
                              ).with_suffix(".py").exists()]
    return edges


EDGES = _imports()


def test_the_edges_are_found() -> None:
    assert ("platform_tools.deps.cli", "platform_tools.cliutil") in EDGES
    assert ("platform_tools.report.cli", "platform_tools.report.render") in EDGES


@pytest.mark.parametrize("importer", sorted({a for a, _ in EDGES if not _is_cli(a)}))
def test_only_the_cli_layer_knows_argparse_and_the_commands(importer: str) -> None:
    up = sorted(b for a, b in EDGES if a == importer and (b == "argparse" or _is_cli(b)))
    assert not up, f"{importer} imports the CLI layer: {up}"


def test_no_command_imports_another_commands_cli() -> None:
    across = sorted(
        (a, b) for a, b in EDGES
        if _is_cli(a) and b.endswith(".cli") and a != "platform_tools.__main__"
        and a != "platform_tools.cli" and a.rsplit(".", 1)[0] != b.rsplit(".", 1)[0]
    )
    assert not across


def test_load_and_analysis_import_no_renderer() -> None:
    up = sorted(
        (a, b) for a, b in EDGES
        if not _is_cli(a) and not _is_render(a) and _is_render(b)
    )
    assert not up
