"""The one exception type the CLI turns into a one-line message and an exit code."""

from __future__ import annotations

from platform_tools.exit_codes import ExitCode


class PlatformError(Exception):
    """An expected failure: bad input, a missing artifact, an engine that cannot start.

    The message is a single line that names the file, argument or resource and says
    what to do. The CLI prints it without a traceback and exits with ``exit_code``.
    """

    def __init__(self, message: str, exit_code: ExitCode = ExitCode.USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


class UsageError(PlatformError):
    """Bad arguments or configuration (exit code 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.USAGE)


class ArtifactError(PlatformError):
    """A missing, unreadable or unsupported input file (exit code 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.ARTIFACT)


class BusyError(PlatformError):
    """Another writer holds the lakehouse (exit code 4)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ExitCode.BUSY)
