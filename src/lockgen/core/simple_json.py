"""PEP 691 JSON project pages read into DistFile records, every value type-checked
so a hostile or broken page is one error naming the offending key."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lockgen.core.models import DistFile
from lockgen.core.simple_page import check_api_version, link, sha256_of

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lockgen.core.errors import IndexPageError
    from lockgen.core.simple_page import Page

__all__ = ["JSON_TYPES", "parse_json"]

JSON_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json"}
)
_UPLOAD_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6})[0-9]*)?Z"
)


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


def parse_json(text: str, page: Page) -> list[DistFile]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise page.error(f"malformed JSON: {exc}") from None
    except RecursionError:  # a hostile page nested deeper than the parser can go
        raise page.error("malformed JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise page.error("expected a JSON object")
    meta = document.get("meta")
    check_api_version(meta.get("api-version") if isinstance(meta, dict) else None, page)
    files = document.get("files")
    if not isinstance(files, list):
        raise page.error("files: expected a list")
    return [_json_file(entry, f"files[{i}]", page) for i, entry in enumerate(files)]


def _json_file(entry: object, where: str, page: Page) -> DistFile:
    if not isinstance(entry, dict):
        raise page.error(f"{where}: expected an object")
    obj = _Obj(entry, where, page)
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
    match = _UPLOAD_TIME.fullmatch(value)
    try:
        if match is None:
            raise ValueError(value)
        year, month, day, hour, minute, second = map(int, match.groups()[:6])
        micro = int((match[7] or "0").ljust(6, "0"))
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)
    except ValueError:
        raise obj.error("upload-time", "yyyy-mm-ddThh:mm:ss[.ffffff]Z") from None


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
