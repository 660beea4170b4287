"""The answer cache of deps, cost, observe and report (platform_tools.artifacts.answers): a hit
gives what the command computes, and any change to an input is a miss."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from platform_tools import cli
from platform_tools.artifacts import answers, cache, codec
from platform_tools.cost.chargeback import CostReport, ModelCost
from platform_tools.deps.model import Severity
from tests.support.builder import write_json
from tests.support.synthetic import (
    SyntheticSpec,
    chain_project,
    generate,
    write_history,
    write_target,
)

pytestmark = pytest.mark.usefixtures("isolated")

NOW = "2026-01-04T12:00:00Z"
LATER = "2026-03-01T00:00:00Z"
MODULES = {"deps": "platform_tools.deps.cli", "cost": "platform_tools.cost.cli",
           "observe": "platform_tools.observe.cli", "report": "platform_tools.report.cli"}


@pytest.fixture
def root(tmp_path: Path, isolated: Path) -> Path:
    """A synthetic project: ``target/`` and four recorded runs in the lakehouse's history."""
    project = generate(SyntheticSpec(models=40, tests=120, runs=4))
    write_target(tmp_path / "target", project)
    write_history(isolated / "_history", project)
    return tmp_path


def _argv(command: str, root: Path, now: str = NOW) -> list[str]:
    common = ["--target-dir", str(root / "target")]
    if command == "report":
        return ["report", *common, "--now", now, "--out", str(root / "out")]
    extra = ["--now", now] if command == "observe" else []
    return [command, *common, "--format", "json", *extra]


def _answer(command: str, root: Path, capsys: pytest.CaptureFixture[str],
            now: str = NOW) -> tuple[int, str, str]:
    """Exit code, output (the report's three files for ``report``) and standard error."""
    code = cli.main(_argv(command, root, now))
    captured = capsys.readouterr()
    out = captured.out
    if command == "report":
        out = "".join((root / "out" / name).read_text()
                      for name in ("report.html", "report.md", "report.json"))
    return code, out, captured.err


def _uncached(command: str, root: Path, capsys: pytest.CaptureFixture[str],
              monkeypatch: pytest.MonkeyPatch, now: str = NOW) -> tuple[int, str, str]:
    with monkeypatch.context() as patch:
        patch.setenv(cache.NO_CACHE_ENV, "1")
        return _answer(command, root, capsys, now)


def _entries(root: Path, command: str) -> list[Path]:
    return sorted((root / "target" / cache.CACHE_DIR).glob(f"answer-{command}.*.json"))


def _no_computing(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("computed instead of answered from the cache")

    monkeypatch.setattr(f"{MODULES[command]}.load_target", refuse)


@pytest.mark.parametrize("command", sorted(MODULES))
def test_a_hit_answers_without_computing_and_as_computed(
    command: str, root: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = _answer(command, root, capsys)
    assert len(_entries(root, command)) == 1
    with monkeypatch.context() as patch:
        _no_computing(patch, command)
        assert _answer(command, root, capsys) == first
    assert _uncached(command, root, capsys, monkeypatch) == first


@pytest.mark.parametrize("command", ["observe", "report"])
def test_the_clock_is_read_after_the_cache(
    command: str, root: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    earlier = _answer(command, root, capsys, NOW)
    with monkeypatch.context() as patch:
        _no_computing(patch, command)
        later = _answer(command, root, capsys, LATER)
    assert later == _uncached(command, root, capsys, monkeypatch, LATER)
    assert later != earlier


def _started(run: Path) -> str:
    return (run / "run.json").read_text().split('"started_at":"')[1][:30]


def _latest_run(root: Path) -> Path:
    return max((root / "lh" / "_history" / "runs").iterdir(), key=_started)


def _same_size_edit(path: Path, old: str, new: str) -> None:
    """Rewrite ``path`` with ``old`` replaced by ``new`` (same length), keeping its size and
    modification time: only the inode change time and the bytes tell the versions apart."""
    assert len(old) == len(new)
    stat = path.stat()
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size


def _slower_first_node(root: Path) -> None:
    run = _latest_run(root) / "run.json"
    text = run.read_text()
    times = text.split('"execution_time":"')[1]
    first = times.split(",")[0]
    _same_size_edit(run, f'"execution_time":"{first},',
                    f'"execution_time":"{"9" * len(first.split(".")[0])}.{first.split(".")[1]},'
                    if "." in first else f'"execution_time":"{"9" * len(first)},')


def _drop_a_run(root: Path) -> None:
    shutil.rmtree(min((root / "lh" / "_history" / "runs").iterdir(), key=_started))


def _write_config(root: Path) -> None:
    (root / "platform_tools.toml").write_text(
        '[cost]\ncurrency = "USD"\n[observe]\nruns = 2\n[deps]\ndisable = ["GU001"]\n'
    )


def _rename_a_team(root: Path) -> None:
    manifest = root / "target" / "manifest.json"
    _same_size_edit(manifest, '"group": "electra"', '"group": "xlectra"')


def _stale_sources(root: Path) -> None:
    sources = root / "target" / "sources.json"
    _same_size_edit(sources, '"status": "pass"', '"status": "warn"')


CHANGES: dict[str, Callable[[Path], None]] = {
    "run.json, same size and mtime": _slower_first_node,
    "a run removed": _drop_a_run,
    "configuration": _write_config,
    "manifest, same size and mtime": _rename_a_team,
    "sources.json, same size and mtime": _stale_sources,
}
# the commands whose answer each change alters
AFFECTS = {
    "run.json, same size and mtime": ("cost", "observe", "report"),
    "a run removed": ("cost", "observe", "report"),
    "configuration": ("deps", "cost", "observe", "report"),
    "manifest, same size and mtime": ("deps", "cost", "observe", "report"),
    "sources.json, same size and mtime": ("observe", "report"),
}


@pytest.mark.parametrize("settled", [False, True], ids=["fresh", "settled"])
@pytest.mark.parametrize("change", sorted(CHANGES))
@pytest.mark.parametrize("command", sorted(MODULES))
def test_any_change_to_an_input_is_a_miss(
    command: str, change: str, settled: bool, root: Path,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    if command not in AFFECTS[change]:
        pytest.skip(f"{change} is not an input of {command}")
    if settled:  # files written by the test are "recent": without this, their CRC is keyed
        monkeypatch.setattr(cache, "SETTLE_NS", 0)
    before = _answer(command, root, capsys)
    CHANGES[change](root)
    after = _answer(command, root, capsys)
    assert after == _uncached(command, root, capsys, monkeypatch)
    assert after != before


def test_inputs_of_folders_change_with_their_content(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    log = warehouse / "gold" / "fct_x" / "_delta_log"
    log.mkdir(parents=True)
    (log / "00000000000000000000.json").write_text("{}\n")
    first = answers.warehouse_part(warehouse)
    (log / "00000000000000000001.json").write_text("{}\n")
    second = answers.warehouse_part(warehouse)
    (log / "_last_checkpoint").write_text("{}")
    third = answers.warehouse_part(warehouse)
    assert len({repr(first), repr(second), repr(third)}) == 3

    history = tmp_path / "_history"
    (history / "runs" / "a").mkdir(parents=True)
    (history / "runs" / "a" / "run.json").write_text("{}")
    one = answers.history_part(history)
    (history / "runs" / "b").mkdir()
    assert answers.history_part(history) != one
    assert answers.file_part(tmp_path / "missing")[1:] == ["-"]


def test_an_edited_module_is_a_new_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "mod.py").write_text("x = 1\n")
    monkeypatch.setattr(answers, "_PACKAGE", package)
    target = tmp_path / "target"
    target.mkdir()
    first = answers.Answers(target, "deps", [1]).entry
    (package / "mod.py").write_text("x = 22\n")
    assert answers.Answers(target, "deps", [1]).entry != first
    assert answers.Answers(target, "deps", [2]).entry != answers.Answers(target, "deps", [1]).entry


def test_no_cache_setting_and_unusable_entries(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "target"
    target.mkdir()
    entry = answers.Answers(target, "deps", [1])
    assert entry.load(int) is None
    entry.store(7)
    assert entry.load(int) == 7
    assert entry.entry is not None
    entry.entry.write_text("[not json")
    assert entry.load(int) is None
    monkeypatch.setenv(cache.NO_CACHE_ENV, "1")
    off = answers.Answers(target, "deps", [1])
    assert off.entry is None and off.load(int) is None


def test_codec_round_trip_and_refusals() -> None:
    model = ModelCost("model.p.m", "m", "model", "team", None, "gold", True, 1.5, 10, 1, None,
                      Decimal("1.20"))
    report = CostReport("EUR", 30, "history", 2, Decimal("1E+2"), Decimal("0.10"),
                        Decimal("0"), (), (("billing", Decimal("3.000")),), (), (model,), (),
                        (), "equal", {"compute": "1"})
    again = codec.decoder(CostReport)(codec.encode(report))
    assert again == report
    assert str(again.total) == "1E+2" and str(again.models[0].amount) == "1.20"
    assert codec.decoder(tuple[Severity, ...])(codec.encode((Severity.ERROR,))) == (
        Severity.ERROR,)
    assert codec.decoder(frozenset[str])(codec.encode(frozenset({"b", "a"}))) == {"a", "b"}
    with pytest.raises(TypeError):
        codec.encode(float("nan"))
    with pytest.raises(TypeError):
        codec.encode(object())
    with pytest.raises(TypeError):
        codec.decoder(int | str)


def test_a_changed_baseline_is_a_miss(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = chain_project(20)
    current = json.loads(json.dumps(baseline))
    del current["nodes"]["model.chain.m00000"]["columns"]["value"]
    write_json(tmp_path / "target" / "manifest.json", current)
    write_json(tmp_path / "base" / "manifest.json", baseline)
    argv = ["deps", "--target-dir", str(tmp_path / "target"), "--baseline",
            str(tmp_path / "base"), "--format", "json"]

    def answer() -> tuple[int, str]:
        code = cli.main(argv)
        return code, capsys.readouterr().out

    broken = answer()
    assert json.loads(broken[1])["breaking_changes"]
    write_json(tmp_path / "base" / "manifest.json", current)  # the change is now in both
    fixed = answer()
    assert not json.loads(fixed[1])["breaking_changes"]
    with monkeypatch.context() as patch:
        patch.setenv(cache.NO_CACHE_ENV, "1")
        assert answer() == fixed
