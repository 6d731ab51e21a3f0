"""Turns PEP 503/691 project pages into DistFile records, so I/O code never parses."""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from lockgen.core.errors import IndexPageError
from lockgen.core.hashing import is_sha256
from lockgen.core.models import DistFile

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ACCEPT", "parse_project_page", "strip_credentials"]

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
)

_JSON_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json"}
)
_HTML_TYPES = frozenset({"application/vnd.pypi.simple.v1+html", "text/html"})
_UPLOAD_TIME = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]{1,6})[0-9]*)?Z"
)


@dataclass(frozen=True, slots=True)
class _Page:
    """Where a page came from: ``url`` resolves links, ``label`` is safe to print."""

    url: str
    label: str
    index: str

    def error(self, reason: str) -> IndexPageError:
        return IndexPageError(self.label, reason)


def parse_project_page(
    content: bytes, content_type: str, page_url: str, *, index_url: str
) -> list[DistFile]:
    """Parse one project page; the response's Content-Type decides the format.

    ``page_url`` must be the final URL after redirects, because links are relative to
    it. Files come back in page order and unfiltered: choosing among them is policy.
    """
    page = _Page(page_url, strip_credentials(page_url)[0], index_url)
    media_type, charset = _parse_content_type(content_type)
    if media_type and media_type not in _JSON_TYPES | _HTML_TYPES:
        raise page.error(f"unsupported content type {media_type!r}")
    text = _decode(content, charset, page)
    if media_type in _JSON_TYPES or (not media_type and text.lstrip().startswith("{")):
        return _parse_json(text, page)
    return _parse_html(text, page)


def strip_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split userinfo out of a URL so it can go to an auth header, never to a lock.

    Only the userinfo is removed; the rest of the URL keeps its spelling and
    percent-encoding. A user without a password gets ``""`` as the password.
    """
    netloc = urlsplit(url).netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    start = url.find("//") + 2
    if url[start : start + len(netloc)] == netloc:
        bare = url[:start] + hostport + url[start + len(netloc) :]
    else:  # urlsplit dropped characters; fall back to a rebuilt URL
        bare = urlunsplit(urlsplit(url)._replace(netloc=hostport))
    return bare, (unquote(user), unquote(password))


def _parse_content_type(content_type: str) -> tuple[str, str]:
    """Media type (lowercase) and charset (default utf-8); other parameters are noise."""
    media_type, *params = content_type.split(";")
    charset = "utf-8"
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \t\"'"):
            charset = value.strip(" \t\"'")
    return media_type.strip().lower(), charset


def _decode(content: bytes, charset: str, page: _Page) -> str:
    try:
        text = content.decode(charset)
    except LookupError:
        raise page.error(f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise page.error(f"not valid {charset}: {exc.reason}") from None
    except UnicodeError:  # codecs such as "undefined" fail without a position
        raise page.error(f"not valid {charset}") from None
    return text.removeprefix("\ufeff")


def _link(href: str, base: str, page: _Page) -> str:
    """Absolute, credential-free URL for a link, whatever the page's own URL held.

    Big pages list tens of thousands of files, nearly all absolute and plain: those
    skip URL parsing (it dominated the parse of such a page). Plain means none of
    what makes ``urlsplit`` look hard at the host: userinfo, IPv6 brackets (it
    refuses ``http://[::1``) or non-ASCII (it refuses hosts NFKC would change).
    """
    href = href.strip()
    if href.startswith(("https://", "http://")) and _plain(href):
        return href
    try:
        return strip_credentials(urljoin(base, href))[0]
    except ValueError:  # not echoed: a private index's links may carry a token
        raise page.error("a link is not a valid URL") from None


def _plain(href: str) -> bool:
    return href.isascii() and "@" not in href and "[" not in href and "]" not in href


def _sha256(value: str, where: str, page: _Page) -> str:
    digest = value.lower()
    if not is_sha256(digest):
        raise page.error(f"{where}: invalid sha256 {value!r}")
    return digest


def _check_api_version(version: object, page: _Page) -> None:
    """PEP 629: a client must refuse a major version it does not know."""
    if not isinstance(version, str):
        raise page.error("missing or invalid meta api-version")
    major = version.partition(".")[0].strip()
    if major != "1":
        raise page.error(f"unsupported api-version {version!r} (need 1.x)")


# ---- PEP 691 JSON -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Obj:
    """A JSON object with typed getters whose errors name the offending key."""

    data: Mapping[str, object]
    where: str
    page: _Page

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


def _parse_json(text: str, page: _Page) -> list[DistFile]:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise page.error(f"malformed JSON: {exc}") from None
    except RecursionError:  # a hostile page nested deeper than the parser can go
        raise page.error("malformed JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise page.error("expected a JSON object")
    meta = document.get("meta")
    _check_api_version(
        meta.get("api-version") if isinstance(meta, dict) else None, page
    )
    files = document.get("files")
    if not isinstance(files, list):
        raise page.error("files: expected a list")
    return [_json_file(entry, f"files[{i}]", page) for i, entry in enumerate(files)]


def _json_file(entry: object, where: str, page: _Page) -> DistFile:
    if not isinstance(entry, dict):
        raise page.error(f"{where}: expected an object")
    obj = _Obj(entry, where, page)
    yanked, reason = _json_yanked(obj)
    return DistFile(
        filename=obj.required_text("filename"),
        url=_link(obj.required_text("url"), page.url, page),
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
    return None if digest is None else _sha256(digest, obj.where, obj.page)


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
            return "" if digest is None else _sha256(digest, obj.where, obj.page)
        if value is not None:
            raise obj.error(key, "a boolean or an object")
    return None


# ---- PEP 503 HTML -------------------------------------------------------------


class _AnchorCollector(HTMLParser):
    """Collects anchors, the first ``<base href>`` and the repository version."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.anchors: list[dict[str, str]] = []
        self.base: str | None = None
        self.repository_version: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes: dict[str, str] = {}
        for name, value in attrs:  # first occurrence wins, as in browsers
            attributes.setdefault(name, value or "")
        if tag == "a" and "href" in attributes:
            self.anchors.append(attributes)
        elif tag == "base" and self.base is None and "href" in attributes:
            self.base = attributes["href"]
        elif tag == "meta" and attributes.get("name") == "pypi:repository-version":
            self.repository_version = attributes.get("content")


def _parse_html(text: str, page: _Page) -> list[DistFile]:
    collector = _AnchorCollector()
    collector.feed(text)
    collector.close()
    if collector.repository_version is not None:
        _check_api_version(collector.repository_version, page)
    base = page.url if collector.base is None else _link(collector.base, page.url, page)
    files = (_html_file(anchor, base, page) for anchor in collector.anchors)
    return [dist for dist in files if dist is not None]


def _html_file(anchor: dict[str, str], base: str, page: _Page) -> DistFile | None:
    """One anchor as a file; the name comes from the URL, as pip reads it."""
    url, _, fragment = _link(anchor["href"], base, page).partition("#")
    filename = unquote(posixpath.basename(urlsplit(url).path))
    if not filename:
        return None
    yanked = anchor.get("data-yanked")
    return DistFile(
        filename=filename,
        url=url,
        index=page.index,
        sha256=_fragment_sha256(fragment, filename, page),
        requires_python=anchor.get("data-requires-python") or None,
        yanked=yanked is not None,
        yanked_reason=yanked or None,
        core_metadata=_html_core_metadata(anchor, filename, page),
    )


def _fragment_sha256(fragment: str, filename: str, page: _Page) -> str | None:
    for item in fragment.split("&"):
        name, _, value = item.partition("=")
        if name == "sha256":
            return _sha256(value, filename, page)
    return None


def _html_core_metadata(
    anchor: dict[str, str], filename: str, page: _Page
) -> str | None:
    """PEP 658/714: ``true`` or ``<hash>=<hex>``; only a sha256 is kept."""
    value = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
    if value is None:
        return None
    name, _, digest = value.partition("=")
    return _sha256(digest, filename, page) if name == "sha256" else ""
