"""What counts as a run of the pipeline, and which run a command reads from a target.

One rule for every command (``observe``, ``observe record``, ``cost``, ``report``,
``products``):

- **Runs are runs.** Only ``run_results.json`` of a dbt command that executes nodes —
  ``build``, ``run``, ``test``, ``seed``, ``snapshot``, ``retry`` (``args.which``) — is a run.
  ``docs generate``, ``compile``, ``ls``, ``parse``, ``show``, ``debug``, ``run-operation``,
  ``source freshness``... write run results too, but their nodes were not executed. A run
  without ``args.which`` (hand-made artifacts) counts as a run.
- **One rule for mismatched artifacts.** When ``run_results.json`` comes from another
  invocation than ``manifest.json`` (the common case after ``dbt ls``, ``dbt parse`` or
  ``dbt docs generate`` following a build), the recorded run history is used when it holds
  runs; only without history are the results read against the current manifest. Either way
  the command says in one line what it used (:attr:`TargetRun.note`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from platform_tools.artifacts.manifest import Manifest
from platform_tools.artifacts.run_results import RunResults, load_run_results, peek_invocation_id

# ``args.which`` of the dbt commands whose run_results describe executed nodes.
PIPELINE_COMMANDS = frozenset({"build", "run", "test", "seed", "snapshot", "retry"})

# How people type the commands that are not runs (``args.which`` -> command line).
_COMMAND_LINE = {"generate": "docs generate", "list": "ls", "freshness": "source freshness",
                 "serve": "docs serve"}


def is_pipeline_command(command: str | None) -> bool:
    """Whether ``args.which`` names a command that executes nodes (unknown counts as one)."""
    return command is None or command in PIPELINE_COMMANDS


def is_pipeline_run(run_results: RunResults) -> bool:
    """Whether ``run_results`` is a run of the pipeline (see the module docstring)."""
    return is_pipeline_command(run_results.command)


def command_line(command: str | None) -> str:
    """``dbt <command>`` as people type it (``args.which`` ``generate`` -> ``docs generate``)."""
    return f"dbt {_COMMAND_LINE.get(command or '', command or '(unknown command)')}"


@dataclass(frozen=True)
class TargetRun:
    """The target's run a command counts besides the history, and what it set aside."""

    run_results: RunResults | None
    """The target's run to add to the recorded history; ``None`` when absent, not a run,
    already recorded, or set aside for the history."""
    note: str | None = None
    """One line saying what was used instead, when the target's run_results were not used
    as they are (printed by the command on standard error)."""


def _recorded_note(path: Path, invocation: str, manifest: Manifest, count: int) -> str | None:
    """Nothing to say when the recorded run is the manifest's own; else what was used."""
    if manifest.invocation_id is None or invocation == manifest.invocation_id:
        return None
    return (
        f"{path}: from invocation {invocation} (already recorded), {manifest.path.name} from "
        f"{manifest.invocation_id}; using {_runs(count)}"
    )


def _runs(count: int) -> str:
    return f"the {count} recorded run(s) of the history" if count else "no run (nothing recorded)"


def target_run(
    path: Path,
    manifest: Manifest,
    recorded: Collection[str],
    *,
    prefer_history: bool = True,
) -> TargetRun:
    """Decide how the run results at ``path`` are used next to ``recorded`` (the invocation
    ids of the recorded runs a command reads).

    Missing file: nothing. Already recorded: the history has it. Not a pipeline run: not
    counted. From another invocation than ``manifest``: the history when ``recorded`` holds
    runs and ``prefer_history``, else the results against this manifest. A corrupt or
    unsupported file is an :class:`~platform_tools.errors.ArtifactError`.
    """
    if not path.exists():
        return TargetRun(None)
    recorded = set(recorded)
    theirs = manifest.invocation_id
    peeked = peek_invocation_id(path)
    if peeked is not None and peeked in recorded:
        return TargetRun(None, _recorded_note(path, peeked, manifest, len(recorded)))
    run_results = load_run_results(path)
    mine = run_results.invocation_id
    if mine is not None and mine in recorded:
        return TargetRun(None, _recorded_note(path, mine, manifest, len(recorded)))
    if not is_pipeline_run(run_results):
        return TargetRun(None, (
            f"{path}: written by `{command_line(run_results.command)}`, which runs nothing; "
            f"its {len(run_results.results)} node(s) are not counted, using "
            f"{_runs(len(recorded))}"
        ))
    if not run_results.results:
        return TargetRun(None)
    if mine is None or theirs is None or mine == theirs:
        return TargetRun(run_results)
    mismatch = (
        f"{path}: from invocation {mine} (`{command_line(run_results.command)}`), "
        f"{manifest.path.name} from {theirs}"
    )
    if prefer_history and recorded:
        return TargetRun(None, f"{mismatch}; using {_runs(len(recorded))} instead")
    why = "no recorded run history, so " if prefer_history else ""
    return TargetRun(run_results, (
        f"{mismatch}; {why}its results are read against this {manifest.path.name}"
    ))
