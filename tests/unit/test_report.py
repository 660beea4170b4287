"""platform_tools.report: the self-contained HTML page, its Markdown and JSON companions, and
how it renders in headless Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from platform_tools.artifacts.settings import Settings
from platform_tools.artifacts.target import load_target
from platform_tools.observe.history import load_history
from platform_tools.report import build, render
from platform_tools.report.svg import bar_chart, dependency_graph, run_timeline
from tests.support.synthetic import (
    SyntheticSpec,
    generate,
    write_history,
    write_target,
)

CHROMIUM = Path("/usr/bin/chromium")
SECTIONS = ("overview", "dependencies", "cost", "observability", "teams")
NOW = datetime(2026, 1, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a synthetic GridUnion project with four recorded runs."""
    root = tmp_path_factory.mktemp("report")
    project = generate(SyntheticSpec(models=80, tests=200, runs=4, fail_rate=0.01))
    target = write_target(root / "target", project)
    write_history(root / "lh" / "_history", project)
    report = build.build(load_target(target), load_history(root / "lh" / "_history"),
                         root / "lh" / "warehouse", Settings(None, {}), now=NOW)
    render.write(report, root / "out")
    return root / "out"


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def test_html_is_self_contained(written: Path) -> None:
    html = (written / "report.html").read_text()
    parser = _Collector()
    parser.feed(html)
    tags = [t for t, _ in parser.tags]
    assert "script" not in tags
    for tag, attrs in parser.tags:
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"(https?:)?//", value), (tag, value)
        if tag == "link":
            assert attrs.get("rel") == "icon" and (attrs.get("href") or "").startswith("data:")
    assert "@import" not in html and "url(http" not in html
    assert tags.count("svg") >= 4


def test_html_has_every_section_and_team(written: Path) -> None:
    html = (written / "report.html").read_text()
    for section in SECTIONS:
        assert f'data-section="{section}"' in html
    for team in ("platform", "nordgrid", "electra", "regulatory_reporting"):
        assert f'data-team="{team}"' in html
    assert "Cost per team" in html and "Run durations" in html


def test_markdown_and_json_companions(written: Path) -> None:
    markdown = (written / "report.md").read_text()
    for heading in ("## Dependencies", "## Cost", "## Observability"):
        assert heading in markdown
    data = json.loads((written / "report.json").read_text())
    assert data["deps"]["summary"]["failed"] is False
    assert len(data["observe"]["runs"]["history"]) == 4
    teams = data["cost"]["teams"]
    assert sum(float(t["total"]) for t in teams) == pytest.approx(float(data["cost"]["total"]))


def test_report_without_runs_says_cost_is_unavailable(tmp_path: Path) -> None:
    project = generate(SyntheticSpec(models=12, tests=10, runs=1))
    target = write_target(tmp_path / "target", project)
    (target / "run_results.json").unlink()
    report = build.build(load_target(target), load_history(tmp_path / "none"),
                         tmp_path / "warehouse", Settings(None, {}), now=NOW)
    assert report.cost is None and report.cost_error
    html = render.to_html(report)
    assert "Not available" in html and 'data-section="cost"' in html


def test_svg_helpers_escape_and_handle_empty_input() -> None:
    assert "no data" in bar_chart([], title="x")
    svg = bar_chart([("<team>", 1.5)], title="A & B")
    assert "&lt;team&gt;" in svg and "A &amp; B" in svg
    assert "no recorded runs" in run_timeline([], title="t")
    assert "<path" in dependency_graph(["a", "b"], [("a", "b", 3)], title="g")


# --------------------------------------------------------------------------------------
# headless Chromium
# --------------------------------------------------------------------------------------
def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _console_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


@pytest.mark.browser
def test_report_renders_in_chromium_without_console_errors(written: Path,
                                                           tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("needs /usr/bin/chromium (apt-get install chromium)")
    # control: the console capture does see a console error
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head>'
                       '<body><script>console.error("control-7")</script></body></html>')
    seen = _chromium(tmp_path, "--dump-dom", control.as_uri())
    assert any("control-7" in line for line in _console_lines(seen.stderr)), seen.stderr[-2000:]

    page = (written / "report.html").as_uri()
    result = _chromium(tmp_path, "--dump-dom", page)
    assert result.returncode == 0, result.stderr[-2000:]
    assert _console_lines(result.stderr) == []
    dom = result.stdout
    for section in SECTIONS:
        assert f'data-section="{section}"' in dom
    assert dom.count("<svg") >= 4 and "Cost per team" in dom

    shot = tmp_path / "report.png"
    snap = _chromium(tmp_path, "--window-size=1280,2000", f"--screenshot={shot}", page)
    assert snap.returncode == 0, snap.stderr[-2000:]
    assert _console_lines(snap.stderr) == []
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    shutil.rmtree(tmp_path / "profile-0", ignore_errors=True)
