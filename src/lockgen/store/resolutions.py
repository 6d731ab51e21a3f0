"""Resolutions recorded for replay (``ROOT/v1/resolutions/<key>``): the text of a
lock and the fingerprint of every index page its resolution read
(:mod:`lockgen.app.replay` says when one may stand for a new resolution).

The key is made by the caller from everything that decides a resolution besides the
pages (the inputs digest, the previous lock's pins); the entry is untrusted like any
other, and its lock is used only if it is sealed for the run's inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.limits import RESOLUTION_LIMIT
from lockgen.store.entry import BadEntryError, load_keyed_json, store

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Recorded", "ResolutionStore"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Recorded:
    """A lock's text, what its summary line said, and the pages it was made from."""

    text: str
    packages: int
    warnings: tuple[str, ...]
    #: (page URL, fingerprint) of every page read, in the order they were read
    pages: tuple[tuple[str, str], ...]


class ResolutionStore:
    """The recorded resolutions under ``base`` (``ROOT/v1``); best effort."""

    def __init__(self, base: Path) -> None:
        self._resolutions = base / "resolutions"
        self._resolutions_tmp = base / "tmp"

    def get_resolution(self, key: str) -> Recorded | None:
        """The resolution recorded under ``key``, or ``None`` if absent or bad."""

        path = self._resolution_path(key)
        return load_keyed_json(path, key, _recorded, RESOLUTION_LIMIT)

    def put_resolution(self, key: str, recorded: Recorded) -> None:
        """Record ``recorded`` under ``key`` (best effort: disk errors are ignored)."""
        fields = {
            "text": recorded.text,
            "packages": recorded.packages,
            "warnings": list(recorded.warnings),
            "pages": [list(page) for page in recorded.pages],
        }
        payload = json.dumps(fields, separators=(",", ":")).encode()
        if len(payload) <= RESOLUTION_LIMIT:
            path = self._resolution_path(key)
            store(self._resolutions_tmp, path, {"key": key}, payload)

    def _resolution_path(self, key: str) -> Path:
        return self._resolutions / key


def _recorded(fields: object) -> Recorded:
    """The payload's fields, each of the type it must have."""
    if not isinstance(fields, dict):
        raise BadEntryError("payload is not an object")
    text, packages = fields.get("text"), fields.get("packages")
    warnings, pages = fields.get("warnings"), fields.get("pages")
    if not isinstance(text, str) or type(packages) is not int or packages < 0:
        raise BadEntryError("no text, or no package count")
    if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
        raise BadEntryError("warnings are not strings")
    if not isinstance(pages, list) or not all(_is_page(p) for p in pages):
        raise BadEntryError("pages are not (URL, fingerprint) pairs")
    return Recorded(
        text=text,
        packages=packages,
        warnings=tuple(warnings),
        pages=tuple((url, fingerprint) for url, fingerprint in pages),
    )


def _is_page(page: object) -> bool:
    return (
        isinstance(page, list)
        and len(page) == 2
        and all(isinstance(part, str) for part in page)
    )
