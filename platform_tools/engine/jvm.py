"""The JVM side of the `spark` and `cluster` targets: Java, and the Delta Lake jars.

`make install` resolves the jars declared in ``engines/spark/pom.xml`` with Maven into
``engines/spark/jars/`` (``GRIDUNION_SPARK_JARS`` points elsewhere); Spark gets them as
``spark.jars``, so nothing is downloaded when a session or a server starts.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Final

from platform_tools.errors import ArtifactError, UsageError

JARS_ENV: Final[str] = "GRIDUNION_SPARK_JARS"
DELTA_EXTENSION: Final[str] = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG: Final[str] = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
_REPO: Final[Path] = Path(__file__).resolve().parents[2]


def jars_dir() -> Path:
    explicit = os.environ.get(JARS_ENV)
    return (
        Path(explicit).expanduser().resolve() if explicit else _REPO / "engines" / "spark" / "jars"
    )


def java_home() -> Path:
    """The JDK that runs Spark (``JAVA_HOME``, else ``java`` on the PATH)."""
    explicit = os.environ.get("JAVA_HOME")
    if explicit and (Path(explicit) / "bin" / "java").is_file():
        return Path(explicit)
    found = shutil.which("java")
    if found is None:
        raise UsageError(
            "Java not found (no JAVA_HOME, no `java` on the PATH): the spark and cluster "
            "targets need a JDK 17, e.g. `apt-get install openjdk-17-jdk-headless`"
        )
    return Path(found).resolve().parents[1]


def delta_jars() -> list[Path]:
    """The jar files Spark needs for Delta Lake; ArtifactError when they were never resolved."""
    folder = jars_dir()
    jars = sorted(folder.glob("*.jar")) if folder.is_dir() else []
    if not any(jar.name.startswith("delta-spark_") for jar in jars):
        raise ArtifactError(
            f"the Delta Lake jars are missing in {folder}: run `make install` (Maven resolves "
            f"engines/spark/pom.xml once), or point {JARS_ENV} at a folder holding them"
        )
    return jars


def delta_spark_conf() -> dict[str, str]:
    """Spark settings that load Delta Lake from the resolved jars."""
    return {
        "spark.jars": ",".join(str(jar) for jar in delta_jars()),
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
    }
