"""Documents broken one place at a time, for the parser property tests.

A parser that checks the top of a document first (``files`` is a list, ``packages``
is a list) would stop every fully random document there; mutating a realistic one at
a random place (a value of another type, a deleted key, a key it does not expect)
drives the parser past those checks to the code that reads each field.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypothesis import strategies as st

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["at", "mutated", "places"]

Where = tuple[Any, ...]


def places(value: Any, path: Where = ()) -> list[Where]:
    """Every key path and list index in ``value`` (the root excluded)."""
    found: list[Where] = []
    if isinstance(value, (dict, list)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, child in items:
            found.append((*path, key))
            found.extend(places(child, (*path, key)))
    return found


def at(value: Any, path: Where) -> Any:
    """The value at ``path`` (a result of :func:`places`, or ``()`` for the root)."""
    for key in path:
        value = value[key]
    return value


def _rebuilt(base: Any, path: Where, change: Callable[[Any], Any]) -> Any:
    """``base`` with ``change`` applied to the container at ``path`` (copies, so a
    shared base document is never modified)."""
    if not path:
        return change(base)
    if isinstance(base, dict):
        return {
            k: _rebuilt(v, path[1:], change) if k == path[0] else v
            for k, v in base.items()
        }
    return [
        _rebuilt(v, path[1:], change) if i == path[0] else v for i, v in enumerate(base)
    ]


def _replace(data: Any, path: Where, new: Any) -> Any:
    def change(parent: Any) -> Any:
        copy = dict(parent) if isinstance(parent, dict) else list(parent)
        copy[path[-1]] = new
        return copy

    return _rebuilt(data, path[:-1], change)


def _delete(data: Any, path: Where) -> Any:
    def change(parent: Any) -> Any:
        copy = dict(parent) if isinstance(parent, dict) else list(parent)
        del copy[path[-1]]
        return copy

    return _rebuilt(data, path[:-1], change)


def _add(data: Any, path: Where, key: str, new: Any) -> Any:
    def change(parent: Any) -> Any:
        if isinstance(parent, dict):
            return {**parent, key: new}
        return [*parent, new]

    return _rebuilt(data, path, change)


@st.composite
def mutated(
    draw: st.DrawFn,
    base: dict[str, Any],
    like: Callable[[Any], st.SearchStrategy[Any]],
    keys: st.SearchStrategy[str],
) -> dict[str, Any]:
    """``base`` after one to three mutations: a value replaced by one drawn from
    ``like(old value)``, a key or list item deleted, or an entry added (a key from
    ``keys``, a value from ``like(None)``) to a table or list."""
    data: Any = base
    for _ in range(draw(st.integers(1, 3))):
        paths = places(data)
        operation = draw(st.sampled_from(["replace", "delete", "add"]))
        if operation != "add" and paths:
            path = draw(st.sampled_from(paths))
            if operation == "replace":
                data = _replace(data, path, draw(like(at(data, path))))
            else:
                data = _delete(data, path)
        else:
            containers = [
                p for p in [(), *paths] if isinstance(at(data, p), (dict, list))
            ]
            path = draw(st.sampled_from(containers))
            data = _add(data, path, draw(keys), draw(like(None)))
    assert isinstance(data, dict)
    return data
