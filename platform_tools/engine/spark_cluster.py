"""A Spark standalone cluster on this machine: the engine of the ``cluster`` dbt target.

``platform-tools engine up --engine spark-cluster`` starts, with pyspark's own jars and the
Delta Lake jars of ``make install`` (:func:`platform_tools.engine.jvm.delta_jars`; nothing is
downloaded):

* a standalone **Master** (``org.apache.spark.deploy.master.Master``),
* ``GRIDUNION_CLUSTER_WORKERS`` **Workers** (default 2, one core and
  ``GRIDUNION_CLUSTER_WORKER_MEMORY`` each, default ``1536m``),
* the **Spark Thrift Server** (``HiveThriftServer2``, submitted to the master in client mode
  through ``org.apache.spark.deploy.SparkSubmit``) with Delta's extension and catalog,
  ``spark.sql.session.timeZone=UTC``, the warehouse ``<lakehouse>/spark-warehouse`` and a Derby
  metastore under ``<lakehouse>/_spark`` (the ``spark`` target's layout, so tables and the
  catalog survive a restart; embedded Derby admits one JVM at a time, so the ``spark`` target
  and the cluster do not run on one lakehouse together).

Each process gets free ports chosen at start, a pid file and a log under
``<lakehouse>/_engine/spark-cluster/``, and the state file ``cluster.json`` records them all;
``status`` and ``down`` read it, and ``down`` stops every process group still alive (a worker's
executors are in its group), also when one of them crashed. The JVMs are started directly
(``java -cp <pyspark jars>:<delta jars> <class>``) with the Java 17 options that Spark's own
launcher adds (:data:`JAVA_MODULE_OPTIONS`, Spark's ``JavaModuleOptions``).

The pure functions (command lines, Spark settings, the state file) are separate from the
process handling so they can be unit-tested without a JVM.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

from platform_tools.engine.ports import free_port, port_bindable, port_open
from platform_tools.errors import ArtifactError, PlatformError, UsageError
from platform_tools.exit_codes import ExitCode

ENGINE_NAME: Final[str] = "spark-cluster"
MASTER_CLASS: Final[str] = "org.apache.spark.deploy.master.Master"
WORKER_CLASS: Final[str] = "org.apache.spark.deploy.worker.Worker"
SUBMIT_CLASS: Final[str] = "org.apache.spark.deploy.SparkSubmit"
THRIFT_SERVER_CLASS: Final[str] = "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2"
THRIFT_SERVER_JAR_PREFIX: Final[str] = "spark-hive-thriftserver_"

# What Spark 4.1's launcher (`org.apache.spark.launcher.JavaModuleOptions`, used by
# `spark-class` and `spark-submit`) adds to every JVM it starts on Java 17. Without them a
# plain `java -cp` Spark fails, e.g. on a partitioned CTAS. A unit test compares this list
# with the strings of the class in pyspark's launcher jar.
JAVA_MODULE_OPTIONS: Final[tuple[str, ...]] = (
    "-XX:+IgnoreUnrecognizedVMOptions",
    "--add-modules=jdk.incubator.vector",
    "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.invoke=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/java.net=ALL-UNNAMED",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.util=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
    "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
    "--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.cs=ALL-UNNAMED",
    "--add-opens=java.base/sun.security.action=ALL-UNNAMED",
    "--add-opens=java.base/sun.util.calendar=ALL-UNNAMED",
    "--add-opens=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
    "-Djdk.reflect.useDirectMethodHandle=false",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dio.netty.allocator.type=pooled",
    "-Dio.netty.handler.ssl.defaultEndpointVerificationAlgorithm=NONE",
    "--enable-native-access=ALL-UNNAMED",
)

DEFAULT_WORKERS: Final[int] = 2
DEFAULT_WORKER_MEMORY: Final[str] = "1536m"
DEFAULT_START_TIMEOUT_SECS: Final[float] = 240.0
STOP_TIMEOUT_SECS: Final[float] = 20.0
STATE_FILE_NAME: Final[str] = "cluster.json"


@dataclass(frozen=True)
class ClusterSettings:
    """Where the cluster keeps its files and how large it is (read from the environment)."""

    lakehouse: Path
    workers: int = DEFAULT_WORKERS
    worker_cores: int = 1
    worker_memory: str = DEFAULT_WORKER_MEMORY
    executor_memory: str = "1g"
    driver_memory: str = "2g"
    daemon_memory: str = "512m"
    host: str = "127.0.0.1"
    thrift_port: int | None = None
    start_timeout: float = DEFAULT_START_TIMEOUT_SECS

    @classmethod
    def from_env(cls, lakehouse: Path, environ: Mapping[str, str] | None = None) -> ClusterSettings:
        """``GRIDUNION_CLUSTER_WORKERS``, ``GRIDUNION_CLUSTER_WORKER_MEMORY``,
        ``GRIDUNION_CLUSTER_THRIFT_PORT`` (default: a free port) and
        ``GRIDUNION_CLUSTER_START_TIMEOUT`` (seconds)."""
        env = os.environ if environ is None else environ
        workers = _int_setting(env, "GRIDUNION_CLUSTER_WORKERS", DEFAULT_WORKERS, 1, 16)
        raw_port = env.get("GRIDUNION_CLUSTER_THRIFT_PORT", "").strip()
        port = _int_setting(env, "GRIDUNION_CLUSTER_THRIFT_PORT", 0, 1, 65535) if raw_port else None
        timeout = _int_setting(
            env, "GRIDUNION_CLUSTER_START_TIMEOUT", int(DEFAULT_START_TIMEOUT_SECS), 1, 3600
        )
        memory = env.get("GRIDUNION_CLUSTER_WORKER_MEMORY", DEFAULT_WORKER_MEMORY).strip()
        if not memory[:-1].isdigit() or memory[-1].lower() not in "mg":
            raise UsageError(
                f"GRIDUNION_CLUSTER_WORKER_MEMORY={memory!r} is not a size such as 1536m or 2g"
            )
        return cls(
            lakehouse=lakehouse,
            workers=workers,
            worker_memory=memory,
            thrift_port=port,
            start_timeout=float(timeout),
        )

    @property
    def state_dir(self) -> Path:
        return self.lakehouse / "_engine" / ENGINE_NAME

    @property
    def state_file(self) -> Path:
        return self.state_dir / STATE_FILE_NAME

    @property
    def warehouse(self) -> Path:
        return self.lakehouse / "spark-warehouse"

    @property
    def metastore_dir(self) -> Path:
        return self.lakehouse / "_spark"

    def pid_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.log"


def _int_setting(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise UsageError(f"{name}={raw!r} is not a whole number") from None
    if not low <= value <= high:
        raise UsageError(f"{name}={value} is out of range; use {low}-{high}")
    return value


# -- command lines (pure) ---------------------------------------------------------------------


def classpath(spark_jars_dir: Path, delta_jars: Sequence[Path]) -> str:
    """pyspark's jars (as a wildcard, the way `spark-class` does) followed by the Delta jars."""
    return ":".join([f"{spark_jars_dir}/*", *(str(jar) for jar in delta_jars)])


def jvm_command(
    java: Path, class_path: str, heap: str, main_class: str, args: Sequence[str],
    system_properties: Mapping[str, str] | None = None,
) -> list[str]:  # fmt: skip
    """``java <Spark's module options> -Xmx<heap> -D… -cp <class_path> <main_class> <args>``."""
    properties = [f"-D{key}={value}" for key, value in (system_properties or {}).items()]
    return [
        str(java), *JAVA_MODULE_OPTIONS, f"-Xmx{heap}", *properties,
        "-cp", class_path, main_class, *args,
    ]  # fmt: skip


def master_command(
    settings: ClusterSettings, java: Path, class_path: str, port: int, ui_port: int
) -> list[str]:
    return jvm_command(
        java, class_path, settings.daemon_memory, MASTER_CLASS,
        ["--host", settings.host, "--port", str(port), "--webui-port", str(ui_port)],
    )  # fmt: skip


def worker_command(
    settings: ClusterSettings, java: Path, class_path: str, master_url: str,
    port: int, ui_port: int, work_dir: Path,
) -> list[str]:  # fmt: skip
    return jvm_command(
        java, class_path, settings.daemon_memory, WORKER_CLASS,
        [
            "--host", settings.host, "--port", str(port), "--webui-port", str(ui_port),
            "--cores", str(settings.worker_cores), "--memory", settings.worker_memory,
            "--work-dir", str(work_dir), master_url,
        ],
    )  # fmt: skip


def metastore_url(settings: ClusterSettings) -> str:
    """The Derby metastore under ``<lakehouse>/_spark`` (the ``spark`` target's one)."""
    return f"jdbc:derby:;databaseName={settings.metastore_dir}/metastore_db;create=true"


def thrift_conf(
    settings: ClusterSettings, master_url: str, delta_jars: Sequence[Path]
) -> dict[str, str]:
    """The Spark settings of the Thrift Server's application."""
    from platform_tools.engine.jvm import DELTA_CATALOG, DELTA_EXTENSION

    return {
        "spark.master": master_url,
        "spark.app.name": "gridunion-thrift-server",
        # the executors on the workers load Delta from the jars the driver serves
        "spark.jars": ",".join(str(jar) for jar in delta_jars),
        "spark.sql.extensions": DELTA_EXTENSION,
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.sql.catalogImplementation": "hive",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.warehouse.dir": str(settings.warehouse),
        "spark.hadoop.javax.jdo.option.ConnectionURL": metastore_url(settings),
        "spark.driver.host": settings.host,
        "spark.driver.bindAddress": settings.host,
        "spark.cores.max": str(settings.workers * settings.worker_cores),
        "spark.executor.cores": str(settings.worker_cores),
        "spark.executor.memory": settings.executor_memory,
        "spark.local.dir": str(settings.state_dir / "tmp"),
        # small data on two cores: few tasks per query (Delta's log replay defaults to 50)
        "spark.sql.shuffle.partitions": "4",
        "spark.databricks.delta.snapshotPartitions": "2",
        "spark.ui.enabled": "false",
    }


def thrift_command(
    settings: ClusterSettings, java: Path, class_path: str, master_url: str, port: int,
    delta_jars: Sequence[Path],
) -> list[str]:  # fmt: skip
    """SparkSubmit in client mode: the Thrift Server is the driver, in this JVM."""
    conf: list[str] = []
    for key, value in thrift_conf(settings, master_url, delta_jars).items():
        conf += ["--conf", f"{key}={value}"]
    return jvm_command(
        java, class_path, settings.driver_memory, SUBMIT_CLASS,
        [
            "--master", master_url, "--deploy-mode", "client",
            "--class", THRIFT_SERVER_CLASS, *conf, "spark-internal",
            "--hiveconf", f"hive.server2.thrift.port={port}",
            "--hiveconf", f"hive.server2.thrift.bind.host={settings.host}",
        ],
        system_properties={"derby.system.home": str(settings.metastore_dir)},
    )  # fmt: skip


def scala_version(spark_jars: Path) -> str:
    """The Scala version of pyspark's jars, from the Thrift Server jar's name (``2.13``)."""
    for jar in sorted(spark_jars.glob(f"{THRIFT_SERVER_JAR_PREFIX}*.jar")):
        return jar.name[len(THRIFT_SERVER_JAR_PREFIX) :].split("-", 1)[0]
    return "2.13"


def process_environment(
    base: Mapping[str, str], spark_home: Path, java: Path, scala: str
) -> dict[str, str]:
    """The environment of the cluster's JVMs: Spark home and Scala version (the worker builds
    its executors' command with Spark's launcher library, which reads both: what pyspark's
    ``load-spark-env.sh`` exports), Java, loopback only."""
    env = {
        k: v for k, v in base.items()
        if k not in ("SPARK_REMOTE", "SPARK_CONNECT_MODE_ENABLED", "PYSPARK_SUBMIT_ARGS")
    }  # fmt: skip
    env.update(
        SPARK_HOME=str(spark_home),
        SPARK_SCALA_VERSION=scala,
        JAVA_HOME=str(java.parents[1]),
        SPARK_LOCAL_IP="127.0.0.1",
        SPARK_NO_DAEMONIZE="1",
    )
    return env


# -- the state file (pure) --------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterProcess:
    """One JVM of the cluster, as recorded in the state file."""

    name: str  # master, worker-1, …, thrift
    main_class: str
    pid: int
    port: int
    log: str
    ui_port: int | None = None


@dataclass(frozen=True)
class ClusterState:
    master_url: str
    thrift_host: str
    thrift_port: int
    started_at: str
    processes: tuple[ClusterProcess, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        data = asdict(self)
        data["engine"] = ENGINE_NAME
        return json.dumps(data, indent=2)


def parse_state(text: str, source: str = STATE_FILE_NAME) -> ClusterState:
    """Read a state file; ArtifactError (one line) when it is not one."""
    try:
        data: Any = json.loads(text)
        processes = tuple(
            ClusterProcess(
                name=str(p["name"]), main_class=str(p["main_class"]), pid=int(p["pid"]),
                port=int(p["port"]), log=str(p["log"]),
                ui_port=None if p.get("ui_port") is None else int(p["ui_port"]),
            )
            for p in data["processes"]
        )  # fmt: skip
        return ClusterState(
            master_url=str(data["master_url"]),
            thrift_host=str(data["thrift_host"]),
            thrift_port=int(data["thrift_port"]),
            started_at=str(data["started_at"]),
            processes=processes,
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise ArtifactError(
            f"{source} is not a spark-cluster state file ({type(exc).__name__}: {exc}); "
            "stop the processes it names by hand if any run, then delete it"
        ) from None


def client_environment(state: ClusterState) -> str:
    """What to export so that dbt's ``cluster`` target reaches this Thrift Server."""
    return (
        f"GRIDUNION_TARGET=cluster SPARK_CLUSTER_HOST={state.thrift_host} "
        f"SPARK_CLUSTER_PORT={state.thrift_port}"
    )


@dataclass(frozen=True)
class ProcessStatus:
    process: ClusterProcess
    alive: bool


@dataclass(frozen=True)
class ClusterStatus:
    lakehouse: str
    state: ClusterState | None
    processes: tuple[ProcessStatus, ...] = ()
    alive_workers: int | None = None  # as the master reports them

    @property
    def running(self) -> bool:
        return bool(self.processes) and all(p.alive for p in self.processes)

    @property
    def any_alive(self) -> bool:
        return any(p.alive for p in self.processes)

    def describe(self) -> str:
        if self.state is None:
            return f"{ENGINE_NAME} is down (lakehouse {self.lakehouse})"
        head = "up" if self.running else ("degraded" if self.any_alive else "down")
        lines = [f"{ENGINE_NAME} is {head} (lakehouse {self.lakehouse}, "
                 f"started {self.state.started_at})"]  # fmt: skip
        for item in self.processes:
            p = item.process
            host = self.state.thrift_host
            where = self.state.master_url if p.name == "master" else f"{host}:{p.port}"
            ui = f", ui {p.ui_port}" if p.ui_port else ""
            lines.append(
                f"  {p.name:<9} {'up  ' if item.alive else 'DOWN'} pid {p.pid:<7} "
                f"{where}{ui}, log {p.log}"
            )
        if self.alive_workers is not None:
            lines.append(f"  workers registered with the master: {self.alive_workers}")
        if self.running:
            lines.append(f"  dbt: export {client_environment(self.state)}")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "engine": ENGINE_NAME,
                "running": self.running,
                "lakehouse": self.lakehouse,
                "master_url": self.state.master_url if self.state else None,
                "thrift_port": self.state.thrift_port if self.state else None,
                "alive_workers": self.alive_workers,
                "processes": [
                    {**asdict(item.process), "alive": item.alive} for item in self.processes
                ],
            },
            indent=2,
        )


# -- processes --------------------------------------------------------------------------------


def spark_home() -> Path:
    """pyspark's package directory: its ``jars/`` hold Spark, Hive and the Thrift Server."""
    try:
        import pyspark
    except ImportError:
        raise UsageError("pyspark is not installed; run `make install`") from None
    return Path(pyspark.__file__).resolve().parent


def spark_jars_dir(home: Path) -> Path:
    """pyspark's jars folder, checked to hold the Thrift Server."""
    jars = home / "jars"
    if not any(jars.glob(f"{THRIFT_SERVER_JAR_PREFIX}*.jar")):
        raise ArtifactError(
            f"the Spark Thrift Server jar ({THRIFT_SERVER_JAR_PREFIX}*.jar) is missing in "
            f"{jars}; reinstall pyspark with `make install`"
        )
    return jars


def pid_alive(pid: int, main_class: str) -> bool:
    """Whether ``pid`` is a live JVM running ``main_class`` (not a zombie, not recycled)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    try:
        status_text = (proc / "status").read_text()
        args = (proc / "cmdline").read_bytes()
    except OSError:
        return True  # no /proc here, or the process just went: kill(0) saw it
    state = next((ln for ln in status_text.splitlines() if ln.startswith("State")), "")
    if "Z" in state.split(":", 1)[-1].split()[:1]:
        return False
    if not args.strip(b"\0"):
        return True  # exiting: the kernel already released its command line
    return main_class.encode() in args


def log_tail(path: Path, lines: int = 1) -> str:
    try:
        text = [ln for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    interesting = [ln for ln in text if "ERROR" in ln or "Exception" in ln or "Error" in ln]
    chosen = (interesting or text)[-lines:]
    return " | ".join(ln.strip()[:300] for ln in chosen) if chosen else "empty log"


def read_state(settings: ClusterSettings) -> ClusterState | None:
    try:
        text = settings.state_file.read_text()
    except OSError:
        return None
    return parse_state(text, str(settings.state_file))


def master_alive_workers(host: str, ui_port: int | None) -> int | None:
    """How many workers the master counts as alive (its web UI's JSON), None if unknown."""
    if not ui_port:
        return None
    try:
        with urllib.request.urlopen(f"http://{host}:{ui_port}/json/", timeout=2) as response:  # noqa: S310
            data = json.loads(response.read())
    except (OSError, ValueError):
        return None
    workers = data.get("aliveworkers") if isinstance(data, dict) else None
    return int(workers) if isinstance(workers, int) else None


def status(settings: ClusterSettings) -> ClusterStatus:
    state = read_state(settings)
    if state is None:
        return ClusterStatus(lakehouse=str(settings.lakehouse), state=None)
    processes = tuple(
        ProcessStatus(p, pid_alive(p.pid, p.main_class)) for p in state.processes
    )
    master = next((p for p in processes if p.process.name == "master"), None)
    alive_workers = (
        master_alive_workers(state.thrift_host, master.process.ui_port)
        if master is not None and master.alive
        else None
    )
    return ClusterStatus(str(settings.lakehouse), state, processes, alive_workers)


class _Starter:
    """Starts the JVMs one after the other; on failure stops what it started."""

    def __init__(self, settings: ClusterSettings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.started: list[tuple[ClusterProcess, subprocess.Popen[bytes]]] = []
        self.deadline = time.monotonic() + settings.start_timeout

    def spawn(
        self, name: str, main_class: str, command: list[str], port: int, ui_port: int | None
    ) -> ClusterProcess:
        log_path = self.settings.log_file(name)
        with open(log_path, "wb") as log:
            process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.env,
                cwd=self.settings.state_dir,
                start_new_session=True,  # own process group: down() stops its children too
            )
        self.settings.pid_file(name).write_text(f"{process.pid}\n")
        record = ClusterProcess(name, main_class, process.pid, port, str(log_path), ui_port)
        self.started.append((record, process))
        return record

    def wait_for(self, record: ClusterProcess, ready: Any, what: str) -> None:
        """Poll ``ready`` until true; fail when any process started so far exits first."""
        while True:
            for started, process in self.started:
                if process.poll() is not None:
                    raise PlatformError(
                        f"{ENGINE_NAME}: the {started.name} exited during start-up (exit "
                        f"{process.returncode}: {log_tail(Path(started.log))}); "
                        f"see {started.log}",
                        ExitCode.USAGE,
                    )
            if ready():
                return
            if time.monotonic() > self.deadline:
                raise PlatformError(
                    f"{ENGINE_NAME}: {what} not ready within {self.settings.start_timeout:.0f} s "
                    f"(GRIDUNION_CLUSTER_START_TIMEOUT); see {record.log}",
                    ExitCode.USAGE,
                )
            time.sleep(0.25)

    def abort(self) -> None:
        for record, process in reversed(self.started):
            _stop_group(record, process)


def _stop_group(record: ClusterProcess, process: subprocess.Popen[bytes] | None = None) -> None:
    """SIGTERM the process group of ``record``, then SIGKILL what is left after a while."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT_SECS
    while time.monotonic() < deadline and _group_alive(record.pid):
        if process is not None:
            process.poll()
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(record.pid, signal.SIGKILL)
    if process is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(record.pid, os.WNOHANG)


def _group_alive(pgid: int) -> bool:
    """Whether a live Spark JVM (the process or an executor it started) is left in the
    process group ``pgid``."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pgid, os.WNOHANG)
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            with contextlib.suppress(OSError):
                if b"org.apache.spark" in (proc / "cmdline").read_bytes():
                    return True
    return False


def require_pyhive() -> None:
    """PyHive (dbt-spark's ``thrift`` method, and our readiness check) or one line."""
    try:
        import pyhive  # noqa: F401
    except ImportError:
        raise UsageError(
            "PyHive is not installed (the `cluster` extra of pyproject.toml); run `make install`"
        ) from None


def thrift_answers(host: str, port: int) -> bool:
    """``SELECT 1`` through PyHive (what dbt-spark's ``thrift`` method uses)."""
    require_pyhive()
    from pyhive import hive

    try:
        connection = hive.connect(host=host, port=port, username="gridunion")
        try:
            cursor = connection.cursor()
            cursor.execute("select 1")
            return cursor.fetchall() == [(1,)]
        finally:
            connection.close()
    except Exception:  # not ready yet: the port opens before sessions are served
        return False


@contextlib.contextmanager
def _lifecycle_lock(settings: ClusterSettings) -> Iterator[None]:
    """One ``up`` or ``down`` of a lakehouse's cluster at a time."""
    try:
        settings.state_dir.mkdir(parents=True, exist_ok=True)
        handle = open(settings.state_dir / "cluster.lock", "a+")  # noqa: SIM115
    except OSError as exc:
        raise UsageError(
            f"lakehouse directory {settings.lakehouse} is not writable ({exc.strerror or exc}); "
            "set GRIDUNION_LAKEHOUSE to a writable directory"
        ) from None
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def up(settings: ClusterSettings) -> ClusterStatus:
    """Start master, workers and Thrift Server unless they all run; wait until ready."""
    with _lifecycle_lock(settings):
        return _up(settings)


def _up(settings: ClusterSettings) -> ClusterStatus:
    from platform_tools.engine.jvm import delta_jars, java_home

    current = status(settings)
    if current.running:
        return current
    if current.any_alive:
        raise UsageError(
            f"{ENGINE_NAME} of {settings.lakehouse} is partly running (a process died); run "
            f"`platform-tools engine down --engine {ENGINE_NAME}` first"
        )
    java = java_home() / "bin" / "java"
    jars = delta_jars()
    require_pyhive()
    home = spark_home()
    spark_jars = spark_jars_dir(home)
    class_path = classpath(spark_jars, jars)
    try:
        for directory in (settings.state_dir / "tmp", settings.metastore_dir, settings.warehouse):
            directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"lakehouse directory {settings.lakehouse} is not writable ({exc.strerror or exc}); "
            "set GRIDUNION_LAKEHOUSE to a writable directory"
        ) from None
    thrift_port = settings.thrift_port or free_port(settings.host)
    if not port_bindable(settings.host, thrift_port):
        raise UsageError(
            f"port {thrift_port} on {settings.host} is already in use; unset "
            "GRIDUNION_CLUSTER_THRIFT_PORT (a free port is chosen) or stop that process"
        )
    settings.state_file.unlink(missing_ok=True)
    env = process_environment(os.environ, home, java, scala_version(spark_jars))
    starter = _Starter(settings, env)
    try:
        processes = _start_all(settings, starter, java, class_path, jars, thrift_port)
    except BaseException:
        starter.abort()
        raise
    state = ClusterState(
        master_url=f"spark://{settings.host}:{processes[0].port}",
        thrift_host=settings.host,
        thrift_port=thrift_port,
        started_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        processes=tuple(processes),
    )
    settings.state_file.write_text(state.to_json())
    return status(settings)


def _start_all(
    settings: ClusterSettings, starter: _Starter, java: Path, class_path: str,
    jars: Sequence[Path], thrift_port: int,
) -> list[ClusterProcess]:  # fmt: skip
    host = settings.host
    port, ui_port = free_port(host), free_port(host)
    master = starter.spawn(
        "master", MASTER_CLASS, master_command(settings, java, class_path, port, ui_port),
        port, ui_port,
    )  # fmt: skip
    master_url = f"spark://{host}:{port}"
    starter.wait_for(master, lambda: port_open(host, port) and port_open(host, ui_port),
                     "the master")  # fmt: skip
    workers = []
    for number in range(1, settings.workers + 1):
        name = f"worker-{number}"
        w_port, w_ui = free_port(host), free_port(host)
        work_dir = settings.state_dir / name
        work_dir.mkdir(exist_ok=True)
        command = worker_command(settings, java, class_path, master_url, w_port, w_ui, work_dir)
        workers.append(starter.spawn(name, WORKER_CLASS, command, w_port, w_ui))
    for worker in workers:
        starter.wait_for(worker, lambda w=worker: port_open(host, w.port), worker.name)
    starter.wait_for(
        master, lambda: (master_alive_workers(host, ui_port) or 0) >= settings.workers,
        f"{settings.workers} workers registered with the master",
    )  # fmt: skip
    thrift = starter.spawn(
        "thrift", SUBMIT_CLASS,
        thrift_command(settings, java, class_path, master_url, thrift_port, jars),
        thrift_port, None,
    )  # fmt: skip
    starter.wait_for(
        thrift, lambda: port_open(host, thrift_port) and thrift_answers(host, thrift_port),
        f"the Thrift Server (port {thrift_port})",
    )  # fmt: skip
    return [master, *workers, thrift]


def down(settings: ClusterSettings) -> list[str]:
    """Stop every recorded process still alive (Thrift Server, workers, master, in that order);
    the names of those that were running. The lakehouse and its metastore stay."""
    if not settings.state_file.exists():
        return []
    with _lifecycle_lock(settings):
        return _down(settings)


def _down(settings: ClusterSettings) -> list[str]:
    state = read_state(settings)
    if state is None:
        return []
    stopped = []
    for process in reversed(state.processes):
        if pid_alive(process.pid, process.main_class) or _group_alive(process.pid):
            # (a dead worker's executors may outlive it in its group)
            _stop_group(process)
            stopped.append(process.name)
        settings.pid_file(process.name).unlink(missing_ok=True)
    settings.state_file.unlink(missing_ok=True)
    return stopped
