"""PEP 503 HTML project pages (with the PEP 592/629/658/714 attributes) read into
DistFile records, the file name taken from the URL as pip takes it."""

from __future__ import annotations

import posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

from lockgen.core.models import DistFile
from lockgen.core.simple_page import Page, check_api_version, link, sha256_of

__all__ = ["parse_html"]


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


def parse_html(text: str, page: Page) -> list[DistFile]:
    collector = _AnchorCollector()
    collector.feed(text)
    collector.close()
    if collector.repository_version is not None:
        check_api_version(collector.repository_version, page)
    base = page.url if collector.base is None else link(collector.base, page.url, page)
    files = (_html_file(anchor, base, page) for anchor in collector.anchors)
    return [dist for dist in files if dist is not None]


def _html_file(anchor: dict[str, str], base: str, page: Page) -> DistFile | None:
    """One anchor as a file; the name comes from the URL, as pip reads it."""
    url, _, fragment = link(anchor["href"], base, page).partition("#")
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


def _fragment_sha256(fragment: str, filename: str, page: Page) -> str | None:
    for item in fragment.split("&"):
        name, _, value = item.partition("=")
        if name == "sha256":
            return sha256_of(value, filename, page)
    return None


def _html_core_metadata(
    anchor: dict[str, str], filename: str, page: Page
) -> str | None:
    """PEP 658/714: ``true`` or ``<hash>=<hex>``; only a sha256 is kept."""
    value = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
    if value is None:
        return None
    name, _, digest = value.partition("=")
    return sha256_of(digest, filename, page) if name == "sha256" else ""
