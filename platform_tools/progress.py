"""Progress where people wait: a tqdm bar on a terminal, nothing in pipes and CI.

The pure functions (``landing.generator.generate``, ``landing.stage.stage``) take a
:class:`Progress` and report to it; they never print. The CLI passes :func:`terminal`, which
draws a bar on standard error only when standard error is a terminal, and clears it when
the work is done, so a command's output and logs stay what they were.
"""

from __future__ import annotations

import sys
from typing import Any, Protocol


class Progress(Protocol):
    """What long-running work reports: how much there is, then each step done."""

    def start(self, total: int, what: str, unit: str) -> None: ...

    def advance(self, steps: int = 1) -> None: ...

    def close(self) -> None: ...


class NoProgress:
    """Reports nothing (the default of every pure function)."""

    def start(self, total: int, what: str, unit: str) -> None:
        del total, what, unit

    def advance(self, steps: int = 1) -> None:
        del steps

    def close(self) -> None:
        return None


class TerminalProgress:
    """A tqdm bar on standard error; disabled when that is not a terminal."""

    def __init__(self, stream: Any = None, mininterval: float = 0.1) -> None:
        self._stream = stream if stream is not None else sys.stderr
        self._mininterval = mininterval  # seconds between redraws (tqdm's own default)
        self._bar: Any = None

    def start(self, total: int, what: str, unit: str) -> None:
        from tqdm import tqdm

        self.close()
        self._bar = tqdm(
            total=total,
            desc=what,
            unit=unit,
            file=self._stream,
            leave=False,
            disable=not _is_terminal(self._stream),
            dynamic_ncols=True,
            mininterval=self._mininterval,
        )

    def advance(self, steps: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def terminal() -> Progress:
    """The CLI's progress: a bar on a terminal, silent elsewhere."""
    return TerminalProgress()
