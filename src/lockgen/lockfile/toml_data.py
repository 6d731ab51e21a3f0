"""A ``packaging.pylock.Pylock`` as the TOML tables PEP 751 spells, the way
``Pylock.to_dict`` makes them, without copying what cannot change.

``to_dict`` is ``dataclasses.asdict``, which deep-copies every leaf (each version,
marker, string and upload time): 90 ms of a 105-package lock's 240 ms write here.
This walks the same dataclasses by the same rules (field names with ``-``, ``None``
left out, a field holding a version, marker or specifier as its string, each of
``environments`` as its string) and shares the leaves, which are immutable.
``tests/unit/test_toml_data.py`` holds it equal to ``to_dict`` on generated locks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["toml_data"]

#: Per dataclass: (attribute name, TOML key) of each field, in declaration order.
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def toml_data(lock: DataclassInstance) -> dict[str, Any]:
    """The tables of ``lock`` (a Pylock, or any of its parts), as ``to_dict``."""
    cls = type(lock)
    names = _FIELDS.get(cls)
    if names is None:
        fields = dataclasses.fields(lock)
        names = tuple((f.name, f.name.replace("_", "-")) for f in fields)
        _FIELDS[cls] = names
    table: dict[str, Any] = {}
    for name, key in names:
        value = getattr(lock, name)
        if value is not None:
            table[key] = _field(name, _inner(value))
    return table


def _field(name: str, value: Any) -> Any:
    if isinstance(value, (Version, Marker, SpecifierSet)):
        return str(value)
    if name == "environments" and isinstance(value, Sequence):
        return [str(item) for item in value]
    return value


def _inner(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return toml_data(value)
    if type(value) is list or type(value) is tuple:
        return type(value)(_inner(item) for item in value)
    if type(value) is dict:
        return {_inner(key): _inner(item) for key, item in value.items()}
    return value
