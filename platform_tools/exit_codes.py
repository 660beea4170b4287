"""Process exit codes shared by every ``platform-tools`` command."""

from enum import IntEnum


class ExitCode(IntEnum):
    """What a ``platform-tools`` process returns to its caller."""

    OK = 0
    """Everything ran and nothing needs attention."""
    FINDINGS = 1
    """The command ran and found problems (failed checks, breaking changes, a failed build)."""
    USAGE = 2
    """Bad arguments or configuration: the user has to change how the command is called."""
    ARTIFACT = 3
    """An input artifact or resource is missing, unreadable or of an unsupported version."""
    BUSY = 4
    """Another process is writing the same lakehouse and did not finish within the timeout."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (128 + SIGINT, as shells report it)."""
    BROKEN_PIPE = 141
    """The reader of the output went away (``| head``); 128 + SIGPIPE, as shells report it."""
