"""The local Spark cluster's pure parts: command lines, settings, the state file, errors."""

from __future__ import annotations

import os
import re
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest

from platform_tools.cli import main
from platform_tools.engine import jvm, spark_cluster
from platform_tools.engine.spark_cluster import (
    ClusterProcess,
    ClusterSettings,
    ClusterState,
    parse_state,
)
from platform_tools.errors import ArtifactError, UsageError
from platform_tools.landing.defaults import staging_dir

JAVA = Path("/jdk/bin/java")
SETTINGS = ClusterSettings(lakehouse=Path("/lh"))
DELTA = [Path("/jars/delta-spark_4.1_2.13-4.1.0.jar"), Path("/jars/delta-storage-4.1.0.jar")]


def test_the_java_options_are_those_of_sparks_own_launcher() -> None:
    launcher = next((spark_cluster.spark_home() / "jars").glob("spark-launcher_*.jar"))
    with zipfile.ZipFile(launcher) as jar:
        data = jar.read("org/apache/spark/launcher/JavaModuleOptions.class")
    # the constant pool holds each option as a length-prefixed string
    options = re.findall(rb"(-(?:-add-|-enable-|XX:|D)[\x21-\x7e]+)", data)
    assert tuple(o.decode() for o in options) == spark_cluster.JAVA_MODULE_OPTIONS


def test_pyspark_ships_the_thrift_server_and_its_scala_version_is_read_from_it() -> None:
    jars = spark_cluster.spark_jars_dir(spark_cluster.spark_home())
    assert spark_cluster.scala_version(jars) == "2.13"


def test_jars_without_the_thrift_server_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "jars").mkdir()
    with pytest.raises(ArtifactError) as caught:
        spark_cluster.spark_jars_dir(tmp_path)
    assert "\n" not in caught.value.message and "spark-hive-thriftserver_" in caught.value.message


def test_master_and_worker_command_lines() -> None:
    cp = spark_cluster.classpath(Path("/spark/jars"), DELTA)
    assert cp == "/spark/jars/*:" + ":".join(str(j) for j in DELTA)
    master = spark_cluster.master_command(SETTINGS, JAVA, cp, 7077, 8080)
    assert master[0] == str(JAVA)
    assert master[1 : 1 + len(spark_cluster.JAVA_MODULE_OPTIONS)] == list(
        spark_cluster.JAVA_MODULE_OPTIONS
    )
    assert master[-7:] == [spark_cluster.MASTER_CLASS, "--host", "127.0.0.1", "--port", "7077",
                           "--webui-port", "8080"]  # fmt: skip
    assert ["-cp", cp] == master[master.index("-cp") : master.index("-cp") + 2]
    worker = spark_cluster.worker_command(
        SETTINGS, JAVA, cp, "spark://127.0.0.1:7077", 1, 2, Path("/lh/w1")
    )
    tail = worker[worker.index(spark_cluster.WORKER_CLASS) :]
    assert tail[-1] == "spark://127.0.0.1:7077"
    assert tail[tail.index("--cores") + 1] == "1" and tail[tail.index("--memory") + 1] == "1536m"
    assert tail[tail.index("--work-dir") + 1] == "/lh/w1"


def test_the_thrift_server_runs_delta_in_utc_with_its_metastore_in_the_lakehouse() -> None:
    command = spark_cluster.thrift_command(
        SETTINGS, JAVA, "cp", "spark://127.0.0.1:7077", 10001, DELTA
    )
    assert "-Dderby.system.home=/lh/_spark" in command
    submit = command[command.index(spark_cluster.SUBMIT_CLASS) :]
    assert submit[submit.index("--class") + 1] == spark_cluster.THRIFT_SERVER_CLASS
    assert submit[-5:] == ["spark-internal", "--hiveconf", "hive.server2.thrift.port=10001",
                           "--hiveconf", "hive.server2.thrift.bind.host=127.0.0.1"]  # fmt: skip
    conf = dict(
        submit[i + 1].split("=", 1) for i, arg in enumerate(submit) if arg == "--conf"
    )
    assert conf["spark.sql.session.timeZone"] == "UTC"
    assert conf["spark.sql.extensions"] == jvm.DELTA_EXTENSION
    assert conf["spark.sql.catalog.spark_catalog"] == jvm.DELTA_CATALOG
    assert conf["spark.jars"] == ",".join(str(j) for j in DELTA)
    assert conf["spark.sql.warehouse.dir"] == "/lh/spark-warehouse"
    assert conf["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        "jdbc:derby:;databaseName=/lh/_spark/metastore_db;create=true"
    )
    assert conf["spark.master"] == "spark://127.0.0.1:7077"
    assert conf["spark.cores.max"] == "2"


def test_the_processes_get_spark_home_scala_and_no_spark_connect() -> None:
    env = spark_cluster.process_environment(
        {"SPARK_REMOTE": "sc://x", "PATH": "/bin"}, Path("/spark"), JAVA, "2.13"
    )
    assert env["SPARK_HOME"] == "/spark" and env["SPARK_SCALA_VERSION"] == "2.13"
    assert env["JAVA_HOME"] == "/jdk" and "SPARK_REMOTE" not in env and env["PATH"] == "/bin"


def test_settings_from_the_environment() -> None:
    settings = ClusterSettings.from_env(Path("/lh"), {
        "GRIDUNION_CLUSTER_WORKERS": "3", "GRIDUNION_CLUSTER_WORKER_MEMORY": "2g",
        "GRIDUNION_CLUSTER_THRIFT_PORT": "10005", "GRIDUNION_CLUSTER_START_TIMEOUT": "60",
    })  # fmt: skip
    assert (settings.workers, settings.worker_memory, settings.thrift_port) == (3, "2g", 10005)
    assert settings.start_timeout == 60.0
    assert settings.state_dir == Path("/lh/_engine/spark-cluster")
    assert settings.log_file("thrift") == Path("/lh/_engine/spark-cluster/thrift.log")
    assert ClusterSettings.from_env(Path("/lh"), {}).thrift_port is None


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("GRIDUNION_CLUSTER_WORKERS", "two"),
        ("GRIDUNION_CLUSTER_WORKERS", "0"),
        ("GRIDUNION_CLUSTER_THRIFT_PORT", "70000"),
        ("GRIDUNION_CLUSTER_WORKER_MEMORY", "lots"),
    ],
)
def test_bad_settings_are_one_line(name: str, value: str) -> None:
    with pytest.raises(UsageError) as caught:
        ClusterSettings.from_env(Path("/lh"), {name: value})
    assert "\n" not in caught.value.message and name in caught.value.message


def _state() -> ClusterState:
    return ClusterState(
        master_url="spark://127.0.0.1:7077",
        thrift_host="127.0.0.1",
        thrift_port=10001,
        started_at="2026-12-06T00:00:00Z",
        processes=(
            ClusterProcess("master", spark_cluster.MASTER_CLASS, 11, 7077, "/m.log", 8080),
            ClusterProcess("thrift", spark_cluster.SUBMIT_CLASS, 12, 10001, "/t.log"),
        ),
    )


def test_the_state_file_round_trips_and_names_the_client_environment() -> None:
    state = _state()
    assert parse_state(state.to_json()) == state
    assert spark_cluster.client_environment(state) == (
        "GRIDUNION_TARGET=cluster SPARK_CLUSTER_HOST=127.0.0.1 SPARK_CLUSTER_PORT=10001"
    )


@pytest.mark.parametrize("text", ["", "[]", '{"master_url": "x"}', "{not json"])
def test_a_broken_state_file_is_one_line(text: str) -> None:
    with pytest.raises(ArtifactError) as caught:
        parse_state(text, "/lh/cluster.json")
    assert "\n" not in caught.value.message and "/lh/cluster.json" in caught.value.message


def test_status_and_down_of_a_crashed_cluster(tmp_path: Path) -> None:
    settings = ClusterSettings(lakehouse=tmp_path)
    assert spark_cluster.status(settings).describe().startswith("spark-cluster is down")
    assert spark_cluster.down(settings) == []
    settings.state_dir.mkdir(parents=True)
    # pids that run no Spark class (this test's own pid runs python): recorded, not alive
    dead = replace(_state(), processes=tuple(
        replace(p, pid=os.getpid()) for p in _state().processes
    ))  # fmt: skip
    settings.state_file.write_text(dead.to_json())
    current = spark_cluster.status(settings)
    assert not current.running and not current.any_alive
    assert "DOWN" in current.describe()
    assert spark_cluster.down(settings) == [] and not settings.state_file.exists()


def test_up_without_the_delta_jars_is_one_line_before_anything_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    monkeypatch.setenv(jvm.JARS_ENV, str(tmp_path / "no-jars"))
    assert main(["engine", "up", "--engine", "spark-cluster"]) == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "the Delta Lake jars are missing" in err
    assert not (tmp_path / "lh" / "_engine" / "spark-cluster" / "master.pid").exists()


def test_up_without_java_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert main(["engine", "up", "--engine", "spark-cluster"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Java not found" in err


def test_status_of_a_cluster_never_started_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path))
    assert main(["engine", "status", "--engine", "spark-cluster"]) == 1
    assert "spark-cluster is down" in capsys.readouterr().out
    assert main(["engine", "down", "--engine", "spark-cluster"]) == 0


def test_the_staging_folder_is_configurable(tmp_path: Path) -> None:
    assert staging_dir(tmp_path, {}) == tmp_path / "staging"
    shared = tmp_path / "mnt" / "staging"
    assert staging_dir(tmp_path, {"GRIDUNION_STAGING_DIR": str(shared)}) == shared
    assert staging_dir(tmp_path, {"GRIDUNION_STAGING_DIR": f"file://{shared}"}) == shared
    with pytest.raises(UsageError) as caught:
        staging_dir(tmp_path, {"GRIDUNION_STAGING_DIR": "s3a://bucket/staging"})
    assert "GRIDUNION_STAGING_URI" in caught.value.message


def test_an_unreachable_thrift_server_is_one_line() -> None:
    from dbt_gridunion.engine_hook import thrift_unreachable_message

    message = thrift_unreachable_message(
        "localhost", 1, "failed to connect: TTransportException: Could not connect"
    )
    assert "\n" not in message and "localhost:1" in message
    assert "platform-tools engine up --engine spark-cluster" in message


def test_a_process_that_exits_at_start_is_one_line_naming_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    try:
        jvm.delta_jars()
    except ArtifactError as exc:
        pytest.skip(exc.message)
    java = tmp_path / "jdk" / "bin" / "java"  # a JVM that refuses to start
    java.parent.mkdir(parents=True)
    java.write_text("#!/bin/sh\necho 'Error: Could not create the Java Virtual Machine.'\nexit 1\n")
    java.chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "jdk"))
    monkeypatch.setenv("GRIDUNION_LAKEHOUSE", str(tmp_path / "lh"))
    assert main(["engine", "up", "--engine", "spark-cluster"]) == 2
    err = capsys.readouterr().err.strip()
    log = tmp_path / "lh" / "_engine" / "spark-cluster" / "master.log"
    assert "\n" not in err and "the master exited during start-up" in err and str(log) in err
    assert "Could not create the Java Virtual Machine" in err
    assert not (tmp_path / "lh" / "_engine" / "spark-cluster" / "cluster.json").exists()
