"""How ``run.json`` stores its columns (one string each, decoded on first use): the
encoding the run-history store writes and :class:`RunColumns`, the lazy reader over it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

# Column encoding in run.json. A JSON parser reads one long string far faster than
# thousands of short values, and most reports need only a few columns, so every column is
# stored as one string and decoded on first use:
#   unique_id, status       space-joined strings (a JSON string without escapes)
#   execution_time, start_s, end_s, rows_affected, rows_written, failures
#                           comma-joined numbers, an empty field for null
#   message                 an object {row index: text} holding only the non-null rows
# A plain JSON list is accepted for any column.
_TEXT = frozenset({"unique_id", "status"})
_FLOATS = frozenset({"execution_time", "start_s", "end_s"})
_INTS = frozenset({"rows_affected", "rows_written", "failures"})
_SPARSE = frozenset({"message"})


def _pack(name: str, values: list[Any]) -> Any:
    if name in _TEXT and all(" " not in v for v in values):
        return " ".join(values)
    if name in _FLOATS or name in _INTS:
        return ",".join("" if v is None else repr(v) for v in values)
    if name in _SPARSE:
        return {str(i): v for i, v in enumerate(values) if v is not None}
    return values


def _unpack(name: str, value: Any, size: int | None) -> list[Any]:
    if isinstance(value, list):
        column = value
    elif isinstance(value, str) and name == "unique_id":
        column = _split_shared(value)
    elif isinstance(value, str) and name in _TEXT:
        column = value.split(" ") if value else []
    elif isinstance(value, str) and (name in _FLOATS or name in _INTS):
        column = _numbers(value, name in _FLOATS)
    elif isinstance(value, dict) and size is not None:
        column = [None] * size
        for index, text in value.items():
            column[int(index)] = text
    else:
        raise ValueError(f"column {name} has an unknown encoding")
    if size is not None and len(column) != size:
        raise ValueError(f"column {name} has {len(column)} rows, not {size}")
    return column


def _numbers(value: str, floats: bool) -> list[Any]:
    """A comma-joined number column, an empty field for null. Parsed as one JSON array (five
    times faster than a ``float()`` per field) when every field is a plain number or empty;
    anything else (``nan``, a malformed value) goes through ``float``/``int`` field by field,
    which give the same numbers and raise the same errors."""
    if value and "n" not in value:  # "n": no null, nan or inf of its own
        text = value
        if ",," in text:
            text = text.replace(",,", ",null,").replace(",,", ",null,")
        if text[0] == ",":
            text = "null" + text
        if text[-1] == ",":
            text += "null"
        try:
            column = orjson.loads("[" + text + "]")
        except orjson.JSONDecodeError:
            column = None
        if column is not None:
            kinds = set(map(type, column))
            if kinds <= ({float, int, type(None)} if floats else {int, type(None)}):
                if floats and int in kinds:
                    return [v if v is None else float(v) for v in column]
                return column
    parts = value.split(",") if value else []
    convert: Any = float if floats else int
    if "" in parts:
        return [convert(p) if p else None for p in parts]
    return list(map(convert, parts))


_SHARED: dict[str, list[str]] = {}
_SHARED_MAX = 16


def _split_shared(value: str) -> list[str]:
    """Split a joined node list; runs with the same node list share one list object (runs of
    one project usually have identical node lists, and the analyses key on identity). Only
    node lists are kept: the status column differs from run to run, and keeping those would
    fill the cache and evict the shared node list every :data:`_SHARED_MAX` runs."""
    column = _SHARED.get(value)
    if column is None:
        if len(_SHARED) >= _SHARED_MAX:
            _SHARED.clear()
        column = _SHARED[value] = value.split(" ") if value else []
    return column


class RunColumns(Mapping[str, list[Any]]):
    """The node columns of a run, decoded on first access.

    The encoded text of a decoded column is let go (a copy of a ``dict`` of columns is kept,
    not the caller's): the node ids of a large run are megabytes of text that is never read
    again, and memory freed run by run is reused by the next run instead of being fresh
    pages for the kernel to fault in (half the page faults of loading 30 runs)."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self._raw = dict(raw) if type(raw) is dict else raw
        self._decoded: dict[str, list[Any]] = {}
        self.size = len(self["unique_id"])

    def __getitem__(self, name: str) -> list[Any]:
        column = self._decoded.get(name)
        if column is None:
            if name not in self._raw:
                raise KeyError(name)
            size = None if name == "unique_id" else self.size
            column = self._decoded[name] = _unpack(name, self._raw[name], size)
            if type(self._raw) is dict:
                self._raw[name] = None
        return column

    def remember(self, name: str, values: list[Any]) -> None:
        """Keep a derived column (e.g. all nulls) for the next access."""
        self._decoded[name] = values

    def check(self, *names: str) -> None:
        """Decode these columns now (raising ValueError when one is malformed)."""
        for name in names:
            self.__getitem__(name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)
