"""Before a build reads the landing zone, check that something was staged and is readable.

On an empty lakehouse (nothing landed, or ``landing stage`` never ran) every bronze model
built empty and the build ended in two opaque gold test failures (row count, recency); a
corrupt staging manifest failed deep inside a bronze model with a Parquet error. The
``on-run-start`` hook (``landing_stage_tables``) calls :func:`check_staging` for a
``build``/``run`` whose selection reads the ``landing`` source; it reads the manifest the way
``platform-tools landing stage`` does and stops the command with one line saying what to run.
A staging folder on shared storage (``hdfs://``, ``s3a://``, …) is the engine's to read: not
checked here.
"""

from __future__ import annotations

from pathlib import Path


def local_staging(root: str) -> Path | None:
    """The local folder of a staging root, ``None`` for storage only the engine reaches."""
    if root.startswith("file://"):
        return Path(root[len("file://") :])
    if "://" in root:
        return None
    return Path(root)


def staging_problem(root: str) -> str | None:
    """One line when the staging area at ``root`` holds nothing or is unreadable, else None."""
    from platform_tools.errors import PlatformError
    from platform_tools.landing.stage import manifest_path, read_manifest

    staging = local_staging(root)
    if staging is None:
        return None
    try:
        manifest = read_manifest(staging)
    except PlatformError as exc:
        return f"{exc.message} (`platform-tools landing stage` then writes it again)"
    if not manifest.rows:
        return (
            f"nothing is staged in {staging} ({manifest_path(staging)} "
            f"{'has no rows' if manifest_path(staging).exists() else 'does not exist'}): land "
            "the source files under <lakehouse>/landing and run `platform-tools landing "
            "stage` before building (`make build` does both for the demo)"
        )
    return None


def check_staging(root: str) -> str:
    """Raise dbt's error with :func:`staging_problem`'s line, if any (the hook's call)."""
    problem = staging_problem(str(root))
    if problem:
        from dbt_common.exceptions import DbtRuntimeError

        raise DbtRuntimeError(problem)
    return ""


def install_staging_check() -> None:
    """``adapter.gridunion_check_staging(root)`` for the on-run-start hook (idempotent)."""
    from dbt_gridunion.adapter_methods import add_adapter_methods

    add_adapter_methods({"gridunion_check_staging": check_staging})
