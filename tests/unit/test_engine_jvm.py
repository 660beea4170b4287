"""The JVM targets' prerequisites: Java and the Delta Lake jars, each missing in one line."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from platform_tools.engine import jvm
from platform_tools.errors import ArtifactError, UsageError


def test_missing_delta_jars_name_the_folder_and_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(jvm.JARS_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(ArtifactError) as caught:
        jvm.delta_spark_conf()
    message = caught.value.message
    assert "\n" not in message and str(tmp_path / "nowhere") in message
    assert "make install" in message and jvm.JARS_ENV in message


def test_resolved_jars_become_spark_jars_with_the_delta_catalog(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("delta-spark_4.1_2.13-4.1.0.jar", "delta-storage-4.1.0.jar", "notes.txt"):
        (tmp_path / name).write_text("")
    monkeypatch.setenv(jvm.JARS_ENV, str(tmp_path))
    conf = jvm.delta_spark_conf()
    assert conf["spark.jars"].split(",") == [
        str(tmp_path / "delta-spark_4.1_2.13-4.1.0.jar"),
        str(tmp_path / "delta-storage-4.1.0.jar"),
    ]
    assert conf["spark.sql.extensions"] == jvm.DELTA_EXTENSION
    assert conf["spark.sql.catalog.spark_catalog"] == jvm.DELTA_CATALOG


def test_no_java_is_one_line_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UsageError) as caught:
        jvm.java_home()
    assert "\n" not in caught.value.message and "JDK 17" in caught.value.message


def test_the_pom_declares_the_delta_build_that_matches_the_pinned_pyspark() -> None:
    from importlib.metadata import version

    pom = (Path(jvm.__file__).resolve().parents[2] / "engines" / "spark" / "pom.xml").read_text()
    spark_minor = ".".join(version("pyspark").split(".")[:2])
    assert f"<artifactId>delta-spark_{spark_minor}_2.13</artifactId>" in pom
    assert f"<delta.version>{version('delta-spark')}</delta.version>" in pom


@pytest.mark.skipif(not (shutil.which("mvn") and shutil.which("java")), reason="needs Maven")
def test_maven_that_cannot_resolve_the_jars_stops_make_install_in_one_line(
    tmp_path: Path,
) -> None:
    # Maven offline with an empty local repository: what an unreachable registry looks like
    home = tmp_path / "home"
    (home / ".m2").mkdir(parents=True)
    (home / ".m2" / "settings.xml").write_text("<settings><offline>true</offline></settings>")
    jars = tmp_path / "engines" / "jars"
    repo = Path(jvm.__file__).resolve().parents[2]
    result = subprocess.run(
        ["make", "--no-print-directory", "spark-jars", f"JARS_DIR={jars}"],
        cwd=repo, env={**os.environ, "MAVEN_OPTS": f"-Duser.home={home}"},
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("make install:")]
    assert len(ours) == 1, result.stderr
    assert "Maven could not resolve engines/spark/pom.xml" in ours[0]
    assert "run make install again" in ours[0]
    assert not list(jars.glob(".resolved-*"))  # nothing marked as resolved: the next try runs
