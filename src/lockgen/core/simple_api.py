"""Turns PEP 503/691 project pages into DistFile records, so I/O code never parses.

The response's Content-Type picks the reader: :mod:`lockgen.core.simple_json` for
PEP 691 JSON, :mod:`lockgen.core.simple_html` for PEP 503 HTML; what both share
(link resolution, sha256 and API-version checks) is :mod:`lockgen.core.simple_page`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgen.core.compact_page import CompactPage, html_groups
from lockgen.core.simple_json import JSON_TYPES, json_groups, parse_json
from lockgen.core.simple_page import HTML_TYPES, Page
from lockgen.core.urls import strip_credentials

if TYPE_CHECKING:
    from lockgen.core.models import DistFile

__all__ = ["ACCEPT", "compact_project_page", "page_origin", "parse_project_page"]

ACCEPT = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
)


def parse_project_page(
    content: bytes, content_type: str, page_url: str, *, index_url: str
) -> list[DistFile]:
    """Parse one project page; the response's Content-Type decides the format.

    ``page_url`` must be the final URL after redirects, because links are relative to
    it. Files come back in page order and unfiltered: choosing among them is policy.
    """
    page, text, is_json = _open(content, content_type, page_url, index_url)
    if is_json:
        return parse_json(text, page)
    assert isinstance(text, str)  # only a JSON page is read from its bytes
    return _parse_html(text, page)


def compact_project_page(
    content: bytes, content_type: str, page_url: str, *, index_url: str
) -> CompactPage:
    """One project page in its compact form (:mod:`lockgen.core.compact_page`).

    A JSON page's entries are grouped as they are written, their values checked
    when their version is read; an HTML page is read whole (its parser is the
    cost), its links checked now. Either way a page that is broken as a whole is the page's error now.
    """
    page, text, is_json = _open(content, content_type, page_url, index_url)
    if is_json:
        return CompactPage.of(json_groups(text, page))
    assert isinstance(text, str)  # only a JSON page is read from its bytes
    return CompactPage.of(html_groups(_parse_html(text, page)))


def page_origin(page_url: str, *, index_url: str) -> Page:
    """Where a page came from, as its records and errors name it."""
    return Page(page_url, strip_credentials(page_url)[0], index_url)


def _parse_html(text: str, page: Page) -> list[DistFile]:
    # imported on use: html.parser is a cost only HTML indexes should pay
    from lockgen.core.simple_html import parse_html

    return parse_html(text, page)


def _open(
    content: bytes, content_type: str, page_url: str, index_url: str
) -> tuple[Page, str | bytes, bool]:
    """The page's origin, its text, and whether it is PEP 691 JSON.

    A JSON page in UTF-8 that is all ASCII (as index pages are: JSON escapes the
    rest) is its own text: the JSON readers take bytes, and decoding a big page
    into a copy cost more than grouping it.
    """
    page = page_origin(page_url, index_url=index_url)
    media_type, charset = _parse_content_type(content_type)
    if media_type and media_type not in JSON_TYPES | HTML_TYPES:
        raise page.error(f"unsupported content type {media_type!r}")
    if media_type in JSON_TYPES and _is_utf8(charset) and _plain_ascii(content):
        return page, content, True
    text = _decode(content, charset, page)
    is_json = media_type in JSON_TYPES or (
        not media_type and text.lstrip().startswith("{")
    )
    return page, text, is_json


def _parse_content_type(content_type: str) -> tuple[str, str]:
    """Media type (lowercase) and charset (default utf-8); other parameters are noise."""
    media_type, *params = content_type.split(";")
    charset = "utf-8"
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset" and value.strip(" \t\"'"):
            charset = value.strip(" \t\"'")
    return media_type.strip().lower(), charset


def _plain_ascii(content: bytes) -> bool:
    """Whether the JSON readers take ``content`` as the text it decodes to: ASCII
    (so no BOM) with no NUL in its first bytes, where ``json`` would guess UTF-16
    or UTF-32 from bytes."""
    return content.isascii() and b"\x00" not in content[:4]


def _is_utf8(charset: str) -> bool:
    return charset.lower().replace("_", "-") in ("utf-8", "utf8")


def _decode(content: bytes, charset: str, page: Page) -> str:
    try:
        text = content.decode(charset)
    except LookupError:
        raise page.error(f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        raise page.error(f"not valid {charset}: {exc.reason}") from None
    except UnicodeError:  # codecs such as "undefined" fail without a position
        raise page.error(f"not valid {charset}") from None
    return text.removeprefix("\ufeff")
