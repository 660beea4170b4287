"""Hand the PII pepper to the engine, never to dbt's rendered SQL, artifacts or logs.

The keyed pseudonyms of the customers domain are ``sha2(concat(<pepper>, ':', id), 256)``.
When the macro ``pseudonymize`` rendered the pepper as a literal, the secret landed in every
compiled model, ``manifest.json``, ``run_results.json``, ``partial_parse.msgpack`` and
``logs/dbt.log``. Now the macro renders ``(select pepper from gridunion_pii_pepper)`` and this
module defines that *temporary* view on every connection dbt-spark opens (Spark Connect
session, JVM session, Thrift session), straight on the connection's cursor: dbt never sees
the statement, so it is neither written nor logged. A temporary view lives in its engine
session only and is never stored in the lakehouse.

The pepper comes from ``GRIDUNION_PII_PEPPER`` (production: the secret store) or the
lakehouse's development pepper (``engine_hook.load_dev_pepper``). Without one, the macro
fails at compile time with a line naming the variable
(``adapter.gridunion_pii_pepper_is_set()``).
"""

from __future__ import annotations

import os
from typing import Any

PEPPER_VARIABLE = "GRIDUNION_PII_PEPPER"
PEPPER_VIEW = "gridunion_pii_pepper"


def pepper() -> str | None:
    """The pepper of this process, or ``None`` when none is set."""
    return os.environ.get(PEPPER_VARIABLE) or None


def sql_string(value: str) -> str:
    """``value`` as a Spark SQL string literal (backslash and quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def define_view_sql(secret: str) -> str:
    literal = sql_string(secret)
    return f"create or replace temporary view {PEPPER_VIEW} as select {literal} as pepper"


def define_pepper_view(connection: Any) -> None:
    """Define the pepper view on an open dbt-spark connection (no pepper: nothing to do)."""
    secret = pepper()
    handle = getattr(connection, "handle", None)
    if not secret or handle is None:
        return
    cursor = handle.cursor()  # dbt-spark's wrapper: it keeps the new cursor as ``_cursor``
    try:
        cursor.execute(define_view_sql(secret))
    finally:
        # close the statement's cursor only: the wrapper's own close() of the Thrift method
        # also closes the Hive session (and with it the view and the connection)
        inner = getattr(cursor, "_cursor", None)
        if inner is not None:
            inner.close()


def install_pepper_adapter_method() -> None:
    """``adapter.gridunion_pii_pepper_is_set()`` for the macro ``pseudonymize`` (idempotent)."""
    from dbt_gridunion.adapter_methods import add_adapter_methods

    add_adapter_methods({"gridunion_pii_pepper_is_set": lambda: pepper() is not None})
