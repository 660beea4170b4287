"""Ask the engine again when a Spark Connect *analysis* answer arrives unreadable.

Seen once in a CI run of the ten-day soak (pyspark 4.1.1 client, Sail 0.7.2 server, four dbt
threads on one session): ``slv_consumption_priced`` failed with gRPC ``INTERNAL`` "Exception
deserializing response!" — the client could not parse an ``AnalyzePlanResponse`` — while the
same model built on the six days before and the three days after. pyspark's own retry policy
(``DefaultPolicy``) retries ``UNAVAILABLE`` and a few ``INTERNAL`` cursor errors, not this one.

An ``AnalyzePlan`` call only reads (schema, explain, version of a plan; it never runs a
command), so asking again is safe; execute calls are left alone, because a command that ran
must not run twice. Every retry is logged as a warning naming the attempt, so a build that
needed one says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

UNREADABLE_RESPONSE = "Exception deserializing response"
ATTEMPTS = 3
PAUSE_SECONDS = 0.2


def is_unreadable_response(error: BaseException) -> bool:
    """True for the client-side failure to parse an answer (raw gRPC error or pyspark's wrap)."""
    return UNREADABLE_RESPONSE in str(error)


def call_again_when_unreadable(
    call: Callable[[], Any],
    *,
    attempts: int = ATTEMPTS,
    pause_seconds: float = PAUSE_SECONDS,
    warn: Callable[[str], None] = lambda message: None,
) -> Any:
    """Run ``call``; when it fails with an unreadable answer, run it again (``attempts`` in all)."""
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except Exception as error:
            if attempt == attempts or not is_unreadable_response(error):
                raise
            warn(
                f"engine answer to an analysis request was unreadable (attempt {attempt} of "
                f"{attempts}); asking again"
            )
            time.sleep(pause_seconds * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _warn(message: str) -> None:
    try:
        from dbt.adapters.events.logging import AdapterLogger
    except ImportError:  # pragma: no cover - dbt-adapters always ships it
        return
    AdapterLogger("gridunion").warning(message)


def install_analyze_retry() -> None:
    """Wrap ``SparkConnectClient._analyze`` once per process (idempotent)."""
    try:
        from pyspark.sql.connect.client.core import SparkConnectClient
    except ImportError:  # pyspark without the connect extra: nothing to wrap
        return
    original = SparkConnectClient._analyze
    if getattr(original, "_gridunion_retry", False):
        return

    def analyze(self: Any, method: str, **kwargs: Any) -> Any:
        return call_again_when_unreadable(lambda: original(self, method, **kwargs), warn=_warn)

    analyze._gridunion_retry = True  # type: ignore[attr-defined]
    SparkConnectClient._analyze = analyze  # type: ignore[method-assign]
