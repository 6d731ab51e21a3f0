"""What the PEP 691 JSON and PEP 503 HTML readers of a project page share: where the
page came from, how a link becomes a credential-free URL, how a sha256 and the API
version are checked, so both formats refuse the same things in the same words."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin

from lockgen.core.errors import IndexPageError
from lockgen.core.hashing import is_sha256
from lockgen.core.urls import strip_credentials

__all__ = ["HTML_TYPES", "Page", "check_api_version", "link", "sha256_of"]

#: The media types of PEP 503 HTML pages (here, so that what tells the formats apart
#: needs no HTML parser: most indexes serve JSON).
HTML_TYPES = frozenset({"application/vnd.pypi.simple.v1+html", "text/html"})


@dataclass(frozen=True, slots=True)
class Page:
    """Where a page came from: ``url`` resolves links, ``label`` is safe to print."""

    url: str
    label: str
    index: str

    def error(self, reason: str) -> IndexPageError:
        return IndexPageError(self.label, reason)


def link(href: str, base: str, page: Page) -> str:
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


def sha256_of(value: str, where: str, page: Page) -> str:
    """``value`` as a lowercase sha256, or the page's error naming ``where``."""
    digest = value.lower()
    if not is_sha256(digest):
        raise page.error(f"{where}: invalid sha256 {value!r}")
    return digest


def check_api_version(version: object, page: Page) -> None:
    """PEP 629: a client must refuse a major version it does not know."""
    if not isinstance(version, str):
        raise page.error("missing or invalid meta api-version")
    major = version.partition(".")[0].strip()
    if major != "1":
        raise page.error(f"unsupported api-version {version!r} (need 1.x)")
