"""Frozen report dataclasses to JSON values and back, for the answer cache (never pickle).

:func:`encode` turns a tree of dataclasses, tuples, dicts, enums and :class:`~decimal.Decimal`
into lists, strings and numbers (a dataclass is the list of its field values, a dict the
list of its ``[key, value]`` pairs); :func:`decoder` builds, from a type hint, the function
that rebuilds the tree. Floats must be finite (JSON has no NaN); anything else that JSON
cannot hold exactly raises :class:`TypeError`, so such a value is simply not cached.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import operator
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import cache
from typing import Any

Decoder = Callable[[Any], Any]


_PLAIN = frozenset({str, int, bool, type(None)})  # JSON values as they are
# dataclass type -> the getter of its field values, as a tuple: encode meets the same few
# types hundreds of thousands of times in a large report, and dataclasses.fields builds a
# tuple on every call
_FIELDS: dict[type, Callable[[Any], tuple[Any, ...]]] = {}


def encode(value: Any) -> Any:
    """``value`` as JSON-ready lists, strings and numbers (see the module docstring)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    fields = _FIELDS.get(kind)
    if fields is not None:
        return [v if type(v) in _PLAIN else encode(v) for v in fields(value)]
    if kind is float:
        if not math.isfinite(value):
            raise TypeError(f"cannot cache the float {value!r}")
        return value
    if kind is tuple or kind is list:
        return [v if type(v) in _PLAIN else encode(v) for v in value]
    if kind is frozenset or kind is set:
        return [encode(v) for v in sorted(value)]
    if isinstance(value, enum.Enum):
        return encode(value.value)
    if kind is Decimal:
        return str(value)
    if isinstance(value, Mapping):
        return [[k if type(k) in _PLAIN else encode(k), v if type(v) in _PLAIN else encode(v)]
                for k, v in value.items()]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        _FIELDS[kind] = _field_values(tuple(f.name for f in dataclasses.fields(value)))
        return encode(value)
    raise TypeError(f"cannot cache a {kind.__name__}")


def _field_values(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    if len(names) > 1:
        return operator.attrgetter(*names)
    if names:
        single = operator.attrgetter(names[0])
        return lambda value: (single(value),)
    return lambda value: ()


def _identity(value: Any) -> Any:
    return value


@cache
def decoder(hint: Any) -> Decoder:
    """The function rebuilding a value of type ``hint`` from :func:`encode`'s output."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if hint is Any or hint in (str, int, bool, type(None)):
        return _identity
    if hint is float:
        return _float
    if hint is Decimal:
        return Decimal
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint
    if origin in (types.UnionType, typing.Union):
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"cannot decode the union {hint}")
        inner = decoder(rest[0])
        return lambda v: None if v is None else inner(v)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            item = decoder(args[0])
            if item is _identity:
                return tuple
            return lambda v: tuple([item(x) for x in v])
        items = [decoder(a) for a in args]
        return lambda v: tuple([d(x) for d, x in zip(items, v, strict=True)])
    if origin is list:
        item = decoder(args[0])
        return lambda v: [item(x) for x in v]
    if origin in (frozenset, set):
        item, build = decoder(args[0]), origin
        return lambda v: build([item(x) for x in v])
    if origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        key, val = decoder(args[0]), decoder(args[1])
        return lambda v: {key(k): val(x) for k, x in v}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass_decoder(hint)
    raise TypeError(f"cannot decode {hint!r}")


def _float(value: Any) -> Any:
    # JSON keeps 1.0 a float and 1 an int, as the value was: no conversion
    return value


def _dataclass_decoder(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    if len(names) != len(dataclasses.fields(cls)):
        raise TypeError(f"cannot decode {cls.__name__}: a field is not in __init__")
    parts = [decoder(hints[name]) for name in names]
    if all(p is _identity for p in parts):
        return lambda v: cls(*v)
    return lambda v: cls(*[d(x) for d, x in zip(parts, v, strict=True)])
