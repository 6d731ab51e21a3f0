"""One PEP 691 file entry, read into a DistFile record or refused in words that
name the offending key, and its compact *row* (:mod:`lockgen.core.compact_page`).

A big page has tens of thousands of entries and a lock reads a few hundred, so an
entry is first turned into a row: the values a record needs, type-checked in one
pass with no object per key, and nothing else. A row is read into a record only when
its version is asked for; the value checks (a sha256's form, the upload time, the
link) happen then. Anything unusual at either step is left to :func:`_checked_file`,
which reads the entry key by key, so every path accepts the same entries, gives the
same records and refuses the rest in the same words.

A row is ``[i, filename, url, sha256, size, upload_time, requires_python, yanked,
core_metadata]`` (``core_metadata``: ``None``, ``""`` for advertised without a hash,
or the hash as the page gave it), or ``[i, entry]`` for an entry whose types are
unusual. Rows may come back from the cache, so a row is checked as strictly as an
entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeGuard

from lockgen.core.hashing import is_sha256
from lockgen.core.models import DistFile
from lockgen.core.simple_page import link, sha256_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lockgen.core.errors import IndexPageError
    from lockgen.core.simple_page import Page

__all__ = ["entry_row", "row_file", "row_filename"]

_UPLOAD_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6})[0-9]*)?Z"
)
#: The number of values in a compact row.
_ROW = 9


@dataclass(frozen=True, slots=True)
class _Obj:
    """A JSON object with typed getters whose errors name the offending key."""

    data: Mapping[str, object]
    where: str
    page: Page

    def error(self, key: str, expected: str) -> IndexPageError:
        return self.page.error(f"{self.where}.{key}: expected {expected}")

    def text(self, key: str) -> str | None:
        value = self.data.get(key)
        if value is not None and not isinstance(value, str):
            raise self.error(key, "a string")
        return value

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "a string")
        return value


class _UnusualError(Exception):
    """An entry the one-pass reader leaves to the checks that name the bad key."""


def entry_row(i: int, entry: object) -> list[object]:
    """Entry ``i`` of a page's ``files`` as a compact row (see the module docstring)."""
    if type(entry) is not dict:
        return [i, entry]
    get = entry.get
    filename, url, hashes = get("filename"), get("url"), get("hashes", {})
    size, requires, yanked = get("size"), get("requires-python"), get("yanked")
    upload, metadata = get("upload-time"), get("core-metadata")
    if metadata is None:
        metadata = get("dist-info-metadata")
    if not (
        type(filename) is str
        and type(url) is str
        and type(hashes) is dict
        and _plain_size(size)
        and (requires is None or type(requires) is str)
        and (yanked is None or type(yanked) is bool or type(yanked) is str)
        and (upload is None or type(upload) is str)
    ):
        return [i, entry]
    sha256 = hashes.get("sha256")
    core = _row_core_metadata(metadata)
    if not (sha256 is None or type(sha256) is str) or core is _UNUSUAL:
        return [i, entry]
    return [i, filename, url, sha256, size, upload, requires, yanked, core]


def row_filename(row: list[object]) -> object:
    """The file name a row gives (what groups it), unchecked."""
    if len(row) == _ROW:
        return row[1]
    entry = row[1] if len(row) == 2 else None  # [i, entry]
    return entry.get("filename") if type(entry) is dict else None


def row_file(row: object, page: Page) -> DistFile:
    """The record a row stands for, or the page's error naming what is wrong."""
    if type(row) is not list or not row or type(row[0]) is not int:
        raise page.error("a file entry of the cached listing is malformed")
    where = f"files[{row[0]}]"
    if len(row) == 2:  # [i, entry]
        return _json_file(row[1], where, page)
    if len(row) != _ROW:
        raise page.error(f"{where}: malformed in the cached listing")
    try:
        return _plain_file(row, page)
    except _UnusualError:
        return _checked_file(_Obj(_as_entry(row), where, page))


class _Unusual:
    """Marks a ``core-metadata`` value a row cannot hold."""


_UNUSUAL = _Unusual()


def _row_core_metadata(value: object) -> str | _Unusual | None:
    if value is None or type(value) is bool:
        return "" if value else None
    if type(value) is not dict:
        return _UNUSUAL
    digest = value.get("sha256")
    if digest is None:
        return ""
    return digest if type(digest) is str and digest else _UNUSUAL


def _plain_size(size: object) -> TypeGuard[int | None]:
    return size is None or (type(size) is int and size >= 0)


def _as_entry(row: list[object]) -> dict[str, object]:
    """The entry a row was made from, as far as any check can tell (for the
    key-by-key reader's words)."""
    _, filename, url, sha256, size, upload, requires, yanked, core = row
    entry: dict[str, object] = {
        "filename": filename,
        "url": url,
        "hashes": {} if sha256 is None else {"sha256": sha256},
        "size": size,
        "upload-time": upload,
        "requires-python": requires,
        "yanked": yanked,
    }
    if type(core) is str:
        entry["core-metadata"] = {"sha256": core} if core else True
    else:
        entry["core-metadata"] = core
    return entry


def _json_file(entry: object, where: str, page: Page) -> DistFile:
    if not isinstance(entry, dict):
        raise page.error(f"{where}: expected an object")
    return _checked_file(_Obj(entry, where, page))


def _plain_file(row: list[object], page: Page) -> DistFile:
    """A row read in one pass; anything unusual raises :class:`_UnusualError`.
    (:func:`link` may raise here: only after every check the other path makes
    before it has passed.)"""
    _, filename, url, sha256, size, upload, requires, yanked, core = row
    if not _plain_size(size):
        raise _UnusualError
    if not (
        type(filename) is str
        and type(url) is str
        and (requires is None or type(requires) is str)
        and (yanked is None or type(yanked) is bool or type(yanked) is str)
        and (core is None or type(core) is str)
    ):
        raise _UnusualError
    return DistFile(
        filename=filename,
        url=link(url, page.url, page),
        index=page.index,
        sha256=_plain_sha256(sha256),
        size=size,
        upload_time=_plain_upload_time(upload),
        requires_python=requires or None,
        yanked=yanked is True or type(yanked) is str,  # PEP 592: a reason, even ""
        yanked_reason=(yanked or None) if type(yanked) is str else None,
        core_metadata=None if core is None else (_plain_sha256(core) if core else ""),
    )


def _plain_sha256(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is not str or not is_sha256(digest := value.lower()):
        raise _UnusualError
    return digest


def _plain_upload_time(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        return _upload_time(value if type(value) is str else "")
    except ValueError:
        raise _UnusualError from None


def _checked_file(obj: _Obj) -> DistFile:
    """An entry read key by key, each error naming the offending key."""
    page = obj.page
    yanked, reason = _json_yanked(obj)
    return DistFile(
        filename=obj.required_text("filename"),
        url=link(obj.required_text("url"), page.url, page),
        index=page.index,
        sha256=_json_sha256(obj),
        size=_json_size(obj),
        upload_time=_json_upload_time(obj),
        requires_python=obj.text("requires-python") or None,
        yanked=yanked,
        yanked_reason=reason,
        core_metadata=_json_core_metadata(obj),
    )


def _json_sha256(obj: _Obj) -> str | None:
    hashes = obj.data.get("hashes", {})
    if not isinstance(hashes, dict):
        raise obj.error("hashes", "an object")
    digest = _Obj(hashes, f"{obj.where}.hashes", obj.page).text("sha256")
    return None if digest is None else sha256_of(digest, obj.where, obj.page)


def _json_size(obj: _Obj) -> int | None:
    size = obj.data.get("size")
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise obj.error("size", "a non-negative integer")
    return size


def _json_upload_time(obj: _Obj) -> datetime | None:
    value = obj.text("upload-time")
    if value is None:
        return None
    try:
        return _upload_time(value)
    except ValueError:
        raise obj.error("upload-time", "yyyy-mm-ddThh:mm:ss[.ffffff]Z") from None


def _upload_time(value: str) -> datetime:
    """``yyyy-mm-ddThh:mm:ss[.ffffff]Z`` as an aware datetime (ValueError if not)."""
    match = _UPLOAD_TIME.fullmatch(value)
    if match is None:
        raise ValueError(value)
    if len(value) in (20, 27):  # no fraction, or exactly 6 digits: the usual forms,
        return datetime.fromisoformat(value)  # read 15 times faster by the C parser
    year, month, day, hour, minute, second = map(int, match.groups()[:6])
    micro = int((match[7] or "0").ljust(6, "0"))
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def _json_yanked(obj: _Obj) -> tuple[bool, str | None]:
    """PEP 592: ``true`` or a reason string both mean yanked."""
    value = obj.data.get("yanked")
    if value is None or isinstance(value, bool):
        return bool(value), None
    if isinstance(value, str):
        return True, value or None
    raise obj.error("yanked", "a boolean or a string")


def _json_core_metadata(obj: _Obj) -> str | None:
    """PEP 714: the ``core-metadata`` key wins over the legacy one PyPI also sends."""
    for key in ("core-metadata", "dist-info-metadata"):
        value = obj.data.get(key)
        if isinstance(value, bool):
            return "" if value else None
        if isinstance(value, dict):
            digest = _Obj(value, f"{obj.where}.{key}", obj.page).text("sha256")
            return "" if digest is None else sha256_of(digest, obj.where, obj.page)
        if value is not None:
            raise obj.error(key, "a boolean or an object")
    return None
