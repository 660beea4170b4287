"""Default arguments of the generator and the staging directory, importable without numpy or
pyarrow (fast CLI start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Final

from platform_tools.errors import UsageError

DEFAULT_METERS: Final[int] = 200
DEFAULT_DAYS: Final[int] = 3
DEFAULT_START: Final[date] = date(2024, 10, 26)
DEFAULT_SEED: Final[int] = 42
DEFAULT_FAULT_RATE: Final[float] = 0.01

STAGING_DIR_NAME = "staging"
STAGING_DIR_ENV = "GRIDUNION_STAGING_DIR"


def staging_dir(lakehouse: Path, environ: Mapping[str, str] | None = None) -> Path:
    """Where `landing stage` writes: ``GRIDUNION_STAGING_DIR``, else ``<lakehouse>/staging``.

    On a cluster the engine must read the same files: point this at shared storage mounted
    here (NFS, an HDFS/S3/ABFS mount) and ``GRIDUNION_STAGING_URI`` at the same folder as the
    cluster names it (``hdfs://…``, ``s3a://…``, ``abfss://…``); the bronze macros read that.
    """
    env = os.environ if environ is None else environ
    explicit = env.get(STAGING_DIR_ENV, "").strip()
    if not explicit:
        return lakehouse / STAGING_DIR_NAME
    if "://" in explicit and not explicit.startswith("file://"):
        raise UsageError(
            f"{STAGING_DIR_ENV}={explicit!r} is a URI; staging writes a local or mounted "
            "directory: set it to the mount point and GRIDUNION_STAGING_URI to the URI"
        )
    return Path(explicit.removeprefix("file://")).expanduser().resolve()
