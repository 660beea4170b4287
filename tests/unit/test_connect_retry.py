"""The plugin asks again when a Spark Connect analysis answer is unreadable, and only then."""

from __future__ import annotations

import grpc
import pytest

from dbt_gridunion import connect_retry


class _RpcError(grpc.RpcError):
    def __init__(self, details: str) -> None:
        self._details = details

    def __str__(self) -> str:
        return f"<_InactiveRpcError status = StatusCode.INTERNAL details = \"{self._details}\">"


def _flaky(failures: list[BaseException]):
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return "schema"

    return call, calls


def test_an_unreadable_answer_is_asked_for_again_and_each_retry_is_logged() -> None:
    call, calls = _flaky([_RpcError("Exception deserializing response!")] * 2)
    warnings: list[str] = []
    result = connect_retry.call_again_when_unreadable(call, pause_seconds=0, warn=warnings.append)
    assert result == "schema"
    assert len(calls) == 3
    assert [w.split("(")[1].split(")")[0] for w in warnings] == ["attempt 1 of 3", "attempt 2 of 3"]


def test_the_last_unreadable_answer_is_raised_after_the_attempts() -> None:
    call, calls = _flaky([_RpcError("Exception deserializing response!")] * 5)
    with pytest.raises(grpc.RpcError, match="deserializing"):
        connect_retry.call_again_when_unreadable(call, attempts=3, pause_seconds=0)
    assert len(calls) == 3


def test_other_engine_errors_are_not_retried() -> None:
    call, calls = _flaky([_RpcError("[TABLE_OR_VIEW_NOT_FOUND] x"), ValueError("boom")])
    with pytest.raises(grpc.RpcError, match="TABLE_OR_VIEW_NOT_FOUND"):
        connect_retry.call_again_when_unreadable(call, pause_seconds=0)
    assert len(calls) == 1


def test_only_the_analysis_call_of_the_real_client_is_wrapped_once() -> None:
    from pyspark.sql.connect.client.core import SparkConnectClient

    execute = SparkConnectClient._execute
    connect_retry.install_analyze_retry()
    wrapped = SparkConnectClient._analyze
    connect_retry.install_analyze_retry()
    assert SparkConnectClient._analyze is wrapped
    assert getattr(wrapped, "_gridunion_retry", False)
    assert SparkConnectClient._execute is execute


def test_pysparks_wrapped_form_of_the_unreadable_answer_is_recognised() -> None:
    from pyspark.errors.exceptions.connect import SparkConnectGrpcException

    wrapped = SparkConnectGrpcException(
        message=str(_RpcError("Exception deserializing response!")), grpc_status_code=None
    )
    call, calls = _flaky([wrapped])
    assert connect_retry.call_again_when_unreadable(call, pause_seconds=0) == "schema"
    assert len(calls) == 2


def test_the_pepper_view_leaves_a_thrift_session_open() -> None:
    """dbt-spark's Thrift wrapper closes the Hive session in close(): defining the view must
    close the statement's cursor only (the CI cluster build failed with 'Transport not open')."""
    from dbt.adapters.spark.connections import PyhiveConnectionWrapper

    from dbt_gridunion import pii_pepper

    class Cursor:
        def __init__(self) -> None:
            self.sql: list[str] = []
            self.closed = False

        def execute(self, sql: str, *args: object, **kwargs: object) -> None:
            self.sql.append(sql)

        def poll(self) -> object:
            from TCLIService.ttypes import TOperationState

            finished = {"operationState": TOperationState.FINISHED_STATE, "errorMessage": None}
            return type("Status", (), finished)()

        def close(self) -> None:
            self.closed = True

    class Session:
        def __init__(self) -> None:
            self.cursors: list[Cursor] = []
            self.closed = False

        def cursor(self) -> Cursor:
            self.cursors.append(Cursor())
            return self.cursors[-1]

        def close(self) -> None:
            self.closed = True

    session = Session()
    connection = type("Connection", (), {"handle": PyhiveConnectionWrapper(session)})()
    import os

    saved = os.environ.get(pii_pepper.PEPPER_VARIABLE)
    os.environ[pii_pepper.PEPPER_VARIABLE] = "s3cr'et"
    try:
        pii_pepper.define_pepper_view(connection)
    finally:
        if saved is None:
            del os.environ[pii_pepper.PEPPER_VARIABLE]
        else:
            os.environ[pii_pepper.PEPPER_VARIABLE] = saved
    assert not session.closed
    assert session.cursors[0].closed
    assert session.cursors[0].sql == [
        "create or replace temporary view gridunion_pii_pepper as select 's3cr\\'et' as pepper"
    ]
