"""Start the embedded engine on demand when dbt-spark opens a local Spark Connect session."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from dbt_gridunion.connect_retry import install_analyze_retry
from dbt_gridunion.pii_pepper import define_pepper_view

_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
_lock = threading.Lock()
_checked: dict[str, Any] = {}  # remote URL -> the EngineConfig it was started with


PEPPER_FILE = Path("_secrets") / "pii_pepper"


def load_dev_pepper() -> None:
    """Use the lakehouse's development pepper when ``GRIDUNION_PII_PEPPER`` is not set.

    `make build` creates ``<lakehouse>/_secrets/pii_pepper`` (random, mode 600) once, so local
    pseudonyms are keyed and stable across builds; production sets the variable from its
    secret store and never has this file.
    """
    lakehouse = os.environ.get("GRIDUNION_LAKEHOUSE")
    if os.environ.get("GRIDUNION_PII_PEPPER") or not lakehouse:
        return
    try:
        pepper = (Path(lakehouse) / PEPPER_FILE).read_text().strip()
    except OSError:
        return
    if pepper:
        os.environ["GRIDUNION_PII_PEPPER"] = pepper  # read by dbt_gridunion.pii_pepper only


def set_default_lakehouse() -> None:
    """Set ``GRIDUNION_LAKEHOUSE`` to ``<project>/.lakehouse`` when the user has not."""
    if os.environ.get("GRIDUNION_LAKEHOUSE"):
        load_dev_pepper()
        return
    project_dir: str | None = None
    try:
        from dbt.flags import get_flags

        project_dir = getattr(get_flags(), "PROJECT_DIR", None)
    except Exception:  # flags are not set outside a dbt command
        project_dir = None
    from platform_tools.engine.config import find_project_dir

    base = Path(project_dir).resolve() if project_dir else find_project_dir()
    lakehouse = str(base / ".lakehouse")
    os.environ["GRIDUNION_LAKEHOUSE"] = lakehouse
    _set_invocation_env("GRIDUNION_LAKEHOUSE", lakehouse)
    load_dev_pepper()


def _set_invocation_env(key: str, value: str) -> None:
    """Make ``env_var(key)`` see a value set after dbt snapshotted the environment.

    dbt's ``env_var`` reads the invocation context, which copies ``os.environ`` when the
    command starts, before plugins are imported.
    """
    try:
        from dbt_common.context import get_invocation_context
    except ImportError:  # pragma: no cover - dbt-common always ships it
        return
    try:
        context = get_invocation_context()
    except LookupError:  # imported outside a dbt command: os.environ is all there is
        return
    current = context.env
    if key in current:
        return
    updated = {k: current[k] for k in current}
    updated[key] = value
    factory: Any = type(current)
    context._env = updated if isinstance(current, dict) else factory(updated)


def local_engine_port(remote_url: str) -> int | None:
    """The port of a ``sc://`` URL that points at this machine, else ``None``."""
    if not remote_url.startswith("sc://"):
        return None
    parsed = urlparse("http://" + remote_url[len("sc://") :].split(";")[0])
    if parsed.hostname not in _LOCAL_HOSTS:
        return None
    return parsed.port or 15002


def ensure_engine_for(remote_url: str) -> None:
    """Start (or check) the engine behind ``remote_url`` once per process.

    Once per process on purpose: an engine that dies during a build fails that build (its
    statements are not retried against a fresh engine). A long-running process such as the
    hub calls :func:`forget_stopped_engines` between builds instead.
    """
    port = local_engine_port(remote_url)
    if port is None:
        return
    with _lock:
        if remote_url in _checked:
            return
        from dataclasses import replace

        from dbt_common.exceptions import DbtRuntimeError

        from platform_tools.engine import server
        from platform_tools.engine.config import EngineConfig
        from platform_tools.errors import PlatformError

        try:
            cfg = EngineConfig.from_env()
            session_id = _session_id(remote_url) or cfg.session_id
            cfg = replace(cfg, port=port, session_id=session_id)
            server.up(cfg)
        except PlatformError as exc:
            raise DbtRuntimeError(f"embedded engine: {exc.message}") from None
        _checked[remote_url] = cfg


def forget_stopped_engines() -> list[str]:
    """Forget the engines checked earlier in this process that no longer run, so that the
    next connection starts them again; the URLs forgotten. Call it between builds only."""
    from platform_tools.engine import server

    with _lock:
        stopped = [url for url, cfg in _checked.items() if not server.status(cfg).running]
        for url in stopped:
            del _checked[url]
    return stopped


def embedded_engines() -> list[Any]:
    """The configs of the embedded engines this process started or checked."""
    with _lock:
        return [cfg for url, cfg in _checked.items() if url != DELTA_FLAG]


def lost_engine() -> Any | None:
    """The config of a local engine this process started or checked that no longer runs."""
    from platform_tools.engine import server

    with _lock:
        configs = [cfg for url, cfg in _checked.items() if url != DELTA_FLAG]
    for cfg in configs:
        if not server.status(cfg).running:
            return cfg
    return None


def lost_engine_message(cfg: Any) -> str:
    return (
        f"embedded engine: it stopped during this command (port {cfg.port}, lakehouse "
        f"{cfg.lakehouse}); see its log {cfg.log_file}, then run `dbt retry`, which starts it "
        "again and re-runs what did not finish"
    )


def damaged_lakehouse(error: BaseException) -> str | None:
    """One line for an engine error caused by a table whose Delta log is gone (the engine's
    own message names neither the table nor a remedy), else ``None``."""
    if "_delta_log" not in str(error):
        return None
    lakehouse = os.environ.get("GRIDUNION_LAKEHOUSE")
    if not lakehouse:
        return None
    from platform_tools.engine.catalog import damaged_tables, damaged_tables_message

    warehouse = Path(lakehouse) / "warehouse"
    damaged = damaged_tables(warehouse)
    return damaged_tables_message(warehouse, damaged) if damaged else None


def _fail_fast_when_engine_lost(method: Any) -> Any:
    """Wrap a dbt-spark session-connection method: an error while the local engine is gone,
    or caused by a table whose Delta log is gone, becomes one line naming it and what to do."""

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            cfg = lost_engine()
            message = lost_engine_message(cfg) if cfg is not None else damaged_lakehouse(exc)
            if message is None:
                raise
            from dbt_common.exceptions import DbtRuntimeError

            raise DbtRuntimeError(message) from None

    wrapper._gridunion_hook = True  # type: ignore[attr-defined]
    return wrapper


def install_lost_engine_check() -> None:
    """Fail fast and in one line when the local engine dies mid-command (idempotent): Spark
    Connect's own policy retries an unreachable server for ~40 s; with the engine's process
    gone there is nothing to wait for."""
    try:
        from dbt.adapters.spark.session import SessionConnectionWrapper
        from pyspark.sql.connect.client.retries import DefaultPolicy
    except ImportError:  # dbt-spark or the Spark Connect client missing: nothing to wrap
        return
    for name in ("execute", "fetchall"):
        method = getattr(SessionConnectionWrapper, name)
        if not getattr(method, "_gridunion_hook", False):
            setattr(SessionConnectionWrapper, name, _fail_fast_when_engine_lost(method))
    description = SessionConnectionWrapper.__dict__["description"]  # a property: the schema
    if not getattr(description.fget, "_gridunion_hook", False):
        wrapped = property(_fail_fast_when_engine_lost(description.fget))
        SessionConnectionWrapper.description = wrapped  # type: ignore[assignment,method-assign]
    can_retry = DefaultPolicy.can_retry
    if getattr(can_retry, "_gridunion_hook", False):
        return

    def can_retry_unless_lost(self: Any, e: BaseException) -> bool:
        error = e
        import grpc

        if (
            isinstance(error, grpc.RpcError)
            and error.code() == grpc.StatusCode.UNAVAILABLE
            and lost_engine() is not None
        ):
            return False
        return bool(can_retry(self, error))

    can_retry_unless_lost._gridunion_hook = True  # type: ignore[attr-defined]
    DefaultPolicy.can_retry = can_retry_unless_lost  # type: ignore[method-assign]


def _session_id(remote_url: str) -> str | None:
    for part in remote_url.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip() == "session_id":
            return value.strip()
    return None


DELTA_FLAG = "spark.gridunion.withDelta"


def offline_mode() -> bool:
    """Whether dbt runs without an engine: under sqlfluff, or with ``GRIDUNION_OFFLINE=1``.

    Linting compiles every model but reads no data; an offline connection answers each
    statement with no rows, so no relation exists and ``is_incremental()`` is false.
    """
    return os.environ.get("GRIDUNION_OFFLINE") == "1" or "sqlfluff" in sys.modules


def use_placeholder_pepper() -> None:
    """Offline (lint) compilation needs some pepper to render pseudonyms; never a real one."""
    if not os.environ.get("GRIDUNION_PII_PEPPER"):
        os.environ["GRIDUNION_PII_PEPPER"] = "offline-placeholder-not-a-secret"


class _OfflineCursor:
    description: list[Any] = []

    def execute(self, sql: str, *parameters: Any) -> None:
        del sql, parameters

    def fetchall(self) -> list[Any]:
        return []

    def fetchone(self) -> None:
        return None

    def close(self) -> None:
        return None


class _OfflineConnection:
    def cursor(self) -> _OfflineCursor:
        return _OfflineCursor()


def open_offline(connection: Any) -> Any:
    """Give dbt-spark's ``session`` method a connection that needs no engine."""
    use_placeholder_pepper()
    from dbt.adapters.contracts.connection import ConnectionState
    from dbt.adapters.spark.session import SessionConnectionWrapper

    connection.handle = SessionConnectionWrapper(_OfflineConnection())  # type: ignore[arg-type]
    connection.state = ConnectionState.OPEN
    return connection


def start_classic_spark_with_delta(parameters: dict[str, str]) -> None:
    """Create the JVM Spark session with Delta Lake from the jars `make install` resolved.

    dbt-spark's ``session`` method then finds this session through ``getOrCreate()``. Java or
    jars missing, or Delta's classes not loadable in the session: one line, no session, so a
    command fails before its first statement instead of at its first Delta write. (``dbt
    debug`` loads no plugin and never gets here.)
    """
    with _lock:
        if _checked.get(DELTA_FLAG):
            return  # one JVM session per process; later connections share it
        _start_classic_spark_with_delta(parameters)
        _checked[DELTA_FLAG] = True


def _start_classic_spark_with_delta(parameters: dict[str, str]) -> None:
    from dbt_common.exceptions import DbtRuntimeError

    from platform_tools.engine.jvm import DELTA_EXTENSION, delta_spark_conf, java_home
    from platform_tools.errors import PlatformError

    # a Spark Connect client used earlier in the environment (the embedded engine's) marks it
    # for Spark Connect; this target is a classic JVM session
    for variable in ("SPARK_CONNECT_MODE_ENABLED", "SPARK_REMOTE"):
        os.environ.pop(variable, None)
    try:
        os.environ.setdefault("JAVA_HOME", str(java_home()))
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # loopback only, never a LAN
        delta = delta_spark_conf()
    except PlatformError as exc:
        raise DbtRuntimeError(f"spark target: {exc.message}") from None
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.enableHiveSupport()
    for key, value in {**parameters, **delta}.items():
        if key != DELTA_FLAG:
            builder = builder.config(key, value)
    session = builder.getOrCreate()
    try:  # Spark only warns about a session extension it cannot load: ask its class loader
        jvm: Any = session._jvm
        jvm.org.apache.spark.util.Utils.classForName(DELTA_EXTENSION, True, False)
    except Exception:
        raise DbtRuntimeError(
            f"spark target: Delta Lake does not load ({DELTA_EXTENSION} missing from "
            f"spark.jars {delta['spark.jars']}); run `make install` again"
        ) from None


def thrift_unreachable_message(host: str, port: object, error: str) -> str:
    """One line for a cluster target whose Thrift Server does not answer."""
    reason = error.strip().splitlines()[-1].strip() if error.strip() else "no answer"
    return (
        f"cluster target: no Spark Thrift Server answers at {host}:{port} ({reason[:200]}); "
        "start the local one with `platform-tools engine up --engine spark-cluster` and export "
        "the SPARK_CLUSTER_PORT it prints, or set SPARK_CLUSTER_HOST/SPARK_CLUSTER_PORT"
    )


def open_thrift(original_func: Any, cls: Any, connection: Any) -> Any:
    """dbt-spark's ``thrift`` open; a server that is down or a wrong port fails in one line
    (dbt-spark's own message spans several lines and names no way out)."""
    from dbt.adapters.exceptions import FailedToConnectError
    from dbt_common.exceptions import DbtRuntimeError

    try:
        return original_func(cls, connection)
    except FailedToConnectError as exc:
        credentials = connection.credentials
        message = thrift_unreachable_message(
            str(getattr(credentials, "host", "?")), getattr(credentials, "port", "?"),
            str(getattr(exc, "msg", "") or exc),
        )  # fmt: skip
        raise DbtRuntimeError(message) from None


def install_engine_hook() -> None:
    """Wrap dbt-spark's ``SparkConnectionManager.open`` (idempotent)."""
    try:
        from dbt.adapters.spark.connections import SparkConnectionManager
    except ImportError:  # dbt-spark is not installed: nothing to hook
        return
    original = SparkConnectionManager.open
    if getattr(original, "_gridunion_hook", False):
        return
    original_func = original.__func__  # type: ignore[attr-defined]

    def open_with_engine(cls: Any, connection: Any) -> Any:
        credentials = connection.credentials
        if offline_mode() and str(getattr(credentials, "method", "")) == "session":
            return open_offline(connection)
        if str(getattr(credentials, "method", "")) in {"session", "SparkConnectionMethod.SESSION"}:
            parameters = getattr(credentials, "server_side_parameters", None) or {}
            remote = parameters.get("spark.remote") or os.environ.get("SPARK_REMOTE", "")
            if remote:
                ensure_engine_for(remote)
                install_analyze_retry()
                install_lost_engine_check()
            elif parameters.get(DELTA_FLAG) == "true":
                start_classic_spark_with_delta(parameters)
        if str(getattr(credentials, "method", "")) in {"thrift", "SparkConnectionMethod.THRIFT"}:
            opened = open_thrift(original_func, cls, connection)
        else:
            opened = original_func(cls, connection)
        define_pepper_view(opened)
        return opened

    open_with_engine._gridunion_hook = True  # type: ignore[attr-defined]
    SparkConnectionManager.open = classmethod(open_with_engine)  # type: ignore[method-assign,assignment]
