"""Progress bars on a terminal, silence in pipes: landing generate and stage report to one."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from platform_tools.landing.generator import GenerateParams, generate
from platform_tools.landing.stage import stage
from platform_tools.progress import TerminalProgress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_generate_and_stage_draw_a_bar_on_a_terminal_and_nothing_in_a_pipe(
    tmp_path: Path,
) -> None:
    params = GenerateParams(seed=3, meters=20, days=2, start=date(2024, 10, 26))
    screen, pipe = _Terminal(), io.StringIO()
    generate(params, tmp_path / "landing", progress=TerminalProgress(screen, mininterval=0))
    generate(params, tmp_path / "again", progress=TerminalProgress(pipe, mininterval=0))
    assert "generating" in screen.getvalue() and "2/2" in screen.getvalue()
    assert pipe.getvalue() == ""

    screen, pipe = _Terminal(), io.StringIO()
    bar = TerminalProgress(screen, mininterval=0)
    summary = stage(tmp_path / "landing", tmp_path / "staging", progress=bar)
    files = len(summary.staged) + summary.unchanged + len(summary.corrupt_new)
    assert "staging" in screen.getvalue() and f"{files}/{files}" in screen.getvalue()
    stage(tmp_path / "again", tmp_path / "staging2", progress=TerminalProgress(pipe, mininterval=0))
    assert pipe.getvalue() == ""
