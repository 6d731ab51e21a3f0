"""Any bytes, any JSON, any HTML: an index page parses to well-formed files or to an
IndexPageError, and link scoping keeps only the URLs the page may name.

A project page is untrusted input (any index, any find-links page, a proxy in
between). Whatever it holds (wrong types at every PEP 691 key, entities, odd
attributes, a ``<base href>``, a charset Python has no decoder for, bytes in another
encoding than announced), ``parse_project_page`` returns files whose every field has
the type and form the resolver relies on, or raises its one-line error; ``confine``
then never raises and keeps only http(s) links, plus ``file:`` links a local source
may name. Pages are generated fully at random and by mutating a realistic page at a
random place, so the parser is driven past its first type check.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from packaging.utils import canonicalize_name

from lockgen.core.errors import IndexPageError, LockgenError
from lockgen.core.file_groups import version_text
from lockgen.core.link_scope import confine
from lockgen.core.models import DistFile
from lockgen.core.simple_api import (
    compact_project_page,
    page_origin,
    parse_project_page,
)
from lockgen.net.findlinks import FindLinks
from lockgen.store.cache import CachedPage
from tests.support.mutations import mutated

#: Pages per test: about a second per test in all, most of it spent drawing pages.
EXAMPLES = 150

SETTINGS = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_SHA = "ab" * 32
_HEX = re.compile(r"[0-9a-f]{64}")
_MIRROR_ROOT = Path("/srv/mirror")

#: (page URL, the source it came from, whether that source may name any local file)
REMOTE = ("http://127.0.0.1:1/simple/demo/", "http://127.0.0.1:1/simple/", False)
FILE_INDEX = ("file:///srv/mirror/simple/demo/", "file:///srv/mirror/simple/", False)
LOCAL_PAGE = ("file:///srv/links/index.html", "file:///srv/links/index.html", True)
SOURCES = st.sampled_from([REMOTE, FILE_INDEX, LOCAL_PAGE])
Source = tuple[str, str, bool]

JSON_TYPES = [
    "application/vnd.pypi.simple.v1+json",
    "application/vnd.pypi.simple.latest+json",
]
HTML_TYPES = ["text/html", "application/vnd.pypi.simple.v1+html", "TEXT/HTML", ""]
#: Charsets a server may announce: real ones, ones Python has as non-text codecs
#: or as codecs that fail in their own way, and ones it has not at all.
CHARSETS = [
    "utf-8",
    "latin-1",
    "utf-16",
    "cp1252",
    "shift_jis",
    "ascii",
    "utf-7",
    "undefined",
    "punycode",
    "idna",
    "rot13",
    "base64",
    "x-bogus",
    '"utf-8"',
]

#: URLs and strings a hostile page would try where a URL or a name belongs.
HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\ud800",
        "file:///etc/passwd",
        "file://otherhost/srv/mirror/x.whl",
        "file://localhost/srv/mirror/files/demo-1.0.tar.gz",
        "file:///srv/mirror/../../etc/passwd",
        "file:///srv/mirror/files/a%00b.whl",
        "/srv/mirror/files/demo-1.0.tar.gz",
        "../../../../etc/passwd",
        "javascript:alert(1)",
        "data:,x",
        "ftp://127.0.0.1/demo-1.0.tar.gz",
        "HTTPS://127.0.0.1/DEMO-1.0.TAR.GZ",
        "//127.0.0.1/demo-1.0.tar.gz",
        "http://[::1",
        "//[::1/demo-1.0.tar.gz",
        "http://[::1]:99999/demo-1.0.tar.gz",
        "http://a\uff03b/demo-1.0.tar.gz",
        "http://user:secret@127.0.0.1/demo-1.0.tar.gz",
        "https://u@[::1/x.whl",
        "demo-1.0.tar.gz#sha256=" + "AB" * 32,
        "demo-1.0.tar.gz#sha256=zz&md5=1",
        "%ff%fe.whl",
        "\x1b[31mdemo-1.0.tar.gz",
        ">=3.8",
        "sha256=" + _SHA,
        "2024-02-30T00:00:00Z",
        "9999999-01-01T00:00:00.1234567Z",
        "1.1",
        "2.0",
    ]
) | st.integers(1000, 20_000).map(lambda n: "x" * n + ".whl")  # huge values

_SCHEMES = ["http://", "https://", "HTTP://", "file://", "file:", "FILE:///", "ftp://",
            "javascript:", "data:", "//", "", "../", "/"]  # fmt: skip
_HOSTS = ["", "localhost", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1", "::1]",
          "otherhost", "u:p@127.0.0.1", "[v1.x]", "h\uff03", "h\u00e9"]  # fmt: skip
_SEGMENTS = ["srv", "mirror", "files", "..", ".", "", "etc", "passwd", "%00", "\x00",
             "a%2fb", "%2e%2e", "\\", "demo-1.0.tar.gz",
             "demo-1.0-py3-none-any.whl"]  # fmt: skip
#: URLs assembled from parts, so schemes, hosts and paths meet in every combination.
LINKS = HOSTILE | st.builds(
    lambda scheme, host, path, fragment: f"{scheme}{host}/{path}{fragment}",
    st.sampled_from(_SCHEMES),
    st.sampled_from(_HOSTS),
    st.lists(st.sampled_from(_SEGMENTS), max_size=6).map("/".join),
    st.sampled_from(["", "#sha256=" + _SHA, "#md5=1", "#"]),
)


# --- checks -------------------------------------------------------------------------


def well_formed(dist: DistFile, index: str) -> None:
    """What the resolver and the lock writer take for granted about a parsed file."""
    assert isinstance(dist.filename, str)  # "" is no wheel or sdist: it is never used
    assert isinstance(dist.url, str)
    assert "@" not in urlsplit(dist.url).netloc  # credentials never reach a lock
    assert dist.index == index
    assert dist.sha256 is None or _HEX.fullmatch(dist.sha256)
    assert dist.core_metadata in (None, "") or _HEX.fullmatch(dist.core_metadata)
    assert dist.size is None or (type(dist.size) is int and dist.size >= 0)
    # Widened to object: the parser's output is checked at run time, not trusted.
    upload_time: object = dist.upload_time
    assert upload_time is None or (
        isinstance(upload_time, datetime) and upload_time.tzinfo is not None
    )
    requires_python: object = dist.requires_python
    assert requires_python is None or (
        isinstance(requires_python, str) and requires_python
    )
    assert type(dist.yanked) is bool
    assert dist.yanked_reason is None or (
        dist.yanked and isinstance(dist.yanked_reason, str)
    )


def allowed(url: str, source: str, any_local: bool) -> None:
    """The issue's rule: http(s) only, but a ``file://`` index may name files under
    its root and a local find-links page any local file."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https"):
        return
    assert parts.scheme == "file" and source.startswith("file:"), url
    assert parts.netloc in ("", "localhost"), url
    if not any_local:
        path = Path(url2pathname(parts.path)).resolve()
        assert path.is_relative_to(_MIRROR_ROOT), url


def check(content: bytes, content_type: str, where: Source) -> list[DistFile] | None:
    """Parse and scope one page; the files kept (``None``: the page was refused)."""
    page_url, source, any_local = where
    index = "" if any_local else source
    read_lazily = _lazily(content, content_type, page_url, index)
    try:
        files = parse_project_page(content, content_type, page_url, index_url=index)
    except IndexPageError as exc:
        assert "\n" not in str(exc), str(exc)
        return None
    # what the page gives read whole, it gives a version at a time through its
    # compact form (which also tolerates a broken entry it never reads)
    grouped = [d for d in files if version_text(d.filename) is not None]
    assert read_lazily is not None
    assert sorted(map(repr, read_lazily)) == sorted(map(repr, grouped))
    for dist in files:
        well_formed(dist, index)
    skipped: list[str] = []
    kept = confine(files, source, any_local=any_local, on_skip=skipped.append)
    assert len(kept) + len(skipped) == len(files)
    for dist in kept:
        allowed(dist.url, source, any_local)
    return kept


def _lazily(
    content: bytes, content_type: str, page_url: str, index: str
) -> list[DistFile] | None:
    """Every group of the page's compact form, read (``None``: refused)."""
    try:
        compact = compact_project_page(content, content_type, page_url, index_url=index)
        page = page_origin(page_url, index_url=index)
        return [dist for text in compact.spans for dist in compact.read(text, page)]
    except IndexPageError as exc:
        assert "\n" not in str(exc), str(exc)
        return None


def record(kept: list[DistFile] | None) -> None:
    """How a page ended, in Hypothesis' statistics (to see the mix stays useful)."""
    event("refused" if kept is None else f"{min(len(kept), 2)} files kept (2: or more)")


# --- JSON pages ---------------------------------------------------------------------

_KEYS = st.sampled_from(
    [
        "files",
        "name",
        "filename",
        "url",
        "hashes",
        "sha256",
        "requires-python",
        "yanked",
        "size",
        "core-metadata",
        "dist-info-metadata",
        "upload-time",
        "versions",
        "meta",
        "api-version",
    ]
) | st.text(max_size=6)
_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | HOSTILE
)
JSON_VALUES = st.recursive(
    _JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=3)
    ),
    max_leaves=8,
)

#: A PEP 691 page with every key lockgen reads, to be broken one place at a time.
JSON_PAGE: dict[str, Any] = {
    "meta": {"api-version": "1.1", "_last-serial": 7},
    "name": "demo",
    "versions": ["1.0"],
    "files": [
        {
            "filename": "demo-1.0-py3-none-any.whl",
            "url": "../../files/demo-1.0-py3-none-any.whl",
            "hashes": {"sha256": _SHA, "md5": "0" * 32},
            "requires-python": ">=3.8",
            "yanked": False,
            "size": 10,
            "upload-time": "2024-01-01T00:00:00.123456Z",
            "core-metadata": {"sha256": _SHA},
            "dist-info-metadata": {"sha256": _SHA},
        },
        {
            "filename": "demo-1.0.tar.gz",
            "url": "http://127.0.0.1:1/files/demo-1.0.tar.gz",
            "hashes": {},
            "yanked": "broken build",
            "core-metadata": True,
        },
    ],
}


_LIKE_TEXT = HOSTILE | st.text(max_size=12) | JSON_VALUES
_LIKE_INT = st.integers() | JSON_VALUES


def _like(value: Any) -> st.SearchStrategy[Any]:
    """A value of ``value``'s type (valid past the type check more often), or any."""
    if isinstance(value, str):
        return _LIKE_TEXT
    if isinstance(value, int) and not isinstance(value, bool):
        return _LIKE_INT
    return JSON_VALUES


JSON_DOCUMENTS = mutated(JSON_PAGE, _like, _KEYS) | JSON_VALUES
_JSON_MEDIA_TYPES = st.sampled_from([*JSON_TYPES, ""])


@st.composite
def _json_pages(draw: st.DrawFn) -> tuple[bytes, str]:
    """A document as a server would send it: maybe non-ASCII, maybe cut short."""
    text = json.dumps(draw(JSON_DOCUMENTS), ensure_ascii=draw(st.booleans()))
    if draw(st.integers(0, 9)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    # lone surrogates (from JSON escapes) cannot be encoded: a server sends escapes
    return text.encode("utf-8", "backslashreplace"), draw(_JSON_MEDIA_TYPES)


JSON_PAGES = _json_pages()


@SETTINGS
@given(page=JSON_PAGES, where=SOURCES)
@example(page=(b"[" * 100_000, JSON_TYPES[0]), where=REMOTE)
@example(page=(json.dumps(JSON_PAGE).encode(), JSON_TYPES[0]), where=REMOTE)
@example(page=(b'{"meta": {"api-version": "1.0"}, "files": [{"filename": "x", "url": "http://[::1"}]}', JSON_TYPES[0]), where=REMOTE)  # fmt: skip
@example(page=(b'{"files": [], "size": ' + b"9" * 5000 + b"}", ""), where=REMOTE)
def test_json_pages_parse_to_well_formed_files_or_refuse(
    page: tuple[bytes, str], where: Source
) -> None:
    record(check(*page, where))


def test_the_base_json_page_is_read_in_full() -> None:
    # The mutations start from a page whose every field is read, so a broken one
    # is a change the parser sees, not a page it refuses anyway.
    files = check(json.dumps(JSON_PAGE).encode(), JSON_TYPES[0], REMOTE)
    assert files is not None
    assert [d.url for d in files] == [
        "http://127.0.0.1:1/files/demo-1.0-py3-none-any.whl",
        "http://127.0.0.1:1/files/demo-1.0.tar.gz",
    ]
    assert files[0].size == 10 and files[0].core_metadata == _SHA
    assert files[1].yanked_reason == "broken build" and files[1].core_metadata == ""


# --- HTML pages ---------------------------------------------------------------------

_ATTRIBUTE_NAMES = st.sampled_from(
    [
        "href",
        "HREF",
        "data-requires-python",
        "data-yanked",
        "data-core-metadata",
        "data-dist-info-metadata",
        "name",
        "content",
    ]
) | st.text(alphabet="abcdhmrx-:", min_size=1, max_size=6)
_ENTITIES = st.sampled_from(
    ["&amp;", "&lt;", "&#0;", "&#x110000;", "&#xd800;", "&#99999999999;", "&bogus;"]
)
_ATTRIBUTE_VALUES = (
    HOSTILE
    | st.text(max_size=16)
    | _ENTITIES
    | st.sampled_from(
        ["sha256=" + _SHA, "sha256=" + "AB" * 32, "true", "pypi:repository-version"]
    )
    | st.lists(HOSTILE | _ENTITIES, min_size=2, max_size=4).map("".join)
)
_JUNK = st.sampled_from(
    [
        "<!--",
        "-->",
        "<![CDATA[",
        "]]>",
        "<!DOCTYPE html>",
        "<?xml version='1.0'?>",
        "</a>",
        "</a",
        "<a href='",
        '<a href="demo-1.0.tar.gz"',
        "<",
        "</",
        "&",
        "&#",
        "<script>",
        "</script>",
        "<style>",
        "\x00",
        "\r\n",
        "<br/>",
    ]
)


def _attribute(name: str, value: str, quote: str | None) -> str:
    """``name=value`` quoted or not (then without spaces), or ``name`` alone."""
    if quote is None:
        return name
    if quote:
        value = value.replace(quote, "")
    else:
        value = "".join(value.split()).replace(">", "") or "x"
    return f"{name}={quote}{value}{quote}"


_ATTRIBUTES = st.builds(
    _attribute,
    _ATTRIBUTE_NAMES,
    _ATTRIBUTE_VALUES,
    st.sampled_from(['"', "'", "", None]),
)
_REPOSITORY_VERSION = st.sampled_from(["1.0", "1.1", "2.0", "", " 1", "x"]).map(
    lambda version: [f'name="pypi:repository-version" content="{version}"']
)


def _tag(tag: str, attributes: list[str], end: str, text: str, close: bool) -> str:
    closing = f"</{tag}>" if close else ""
    return f"<{tag} {' '.join(attributes)}{end}{text}{closing}"


_HREF = st.builds(_attribute, st.just("href"), LINKS, st.sampled_from(['"', "'"]))
_TAGS = st.builds(
    _tag,
    st.sampled_from(["a", "A", "base", "BASE", "meta", "div", "script"]),
    st.lists(_ATTRIBUTES, max_size=4)
    | st.builds(
        lambda href, more: [href, *more], _HREF, st.lists(_ATTRIBUTES, max_size=3)
    )
    | _REPOSITORY_VERSION,
    st.sampled_from([">", "/>", ""]),
    st.text(max_size=8) | _ENTITIES,
    st.booleans(),
)
_HTML_TEXT = st.lists(_TAGS | _JUNK | st.text(max_size=8), max_size=10).map("".join)
_ENCODINGS = st.sampled_from(["utf-8", "latin-1", "utf-16", "shift_jis"])
_ANNOUNCED = st.sampled_from([None, "as encoded"]) | st.sampled_from(CHARSETS)


def _html_page(
    text: str, bom: bool, encoding: str, media_type: str, charset: str | None
) -> tuple[bytes, str]:
    if bom:
        text = "\ufeff" + text  # a byte order mark, or its character reference
    content = text.encode(encoding, "xmlcharrefreplace")
    if charset == "as encoded":
        charset = encoding
    content_type = media_type if charset is None else f"{media_type}; charset={charset}"
    return content, content_type


#: A page of tags, text and junk, in an encoding announced rightly, wrongly or not
#: at all. Built from module-level strategies: drawing is most of a test's time.
HTML_PAGES = st.builds(
    _html_page,
    _HTML_TEXT,
    st.booleans(),
    _ENCODINGS,
    st.sampled_from(HTML_TYPES),
    _ANNOUNCED,
)


@SETTINGS
@given(page=HTML_PAGES, where=SOURCES)
@example(page=(b'<base href="file:///"><a href="etc/passwd">x</a>', "text/html"), where=REMOTE)  # fmt: skip
@example(page=(b'<a href="http://[::1/demo-1.0.tar.gz">x</a>', "text/html"), where=REMOTE)  # fmt: skip
def test_html_pages_parse_to_well_formed_files_or_refuse(
    page: tuple[bytes, str], where: Source
) -> None:
    record(check(*page, where))


# --- links --------------------------------------------------------------------------


def _link_page(href: str, base: str | None, as_json: bool) -> tuple[bytes, str]:
    """A page listing the one link ``href`` (and a ``<base href>`` in HTML)."""
    if as_json:
        entry = {"filename": "demo-1.0.tar.gz", "url": href, "hashes": {}}
        page = {"meta": {"api-version": "1.0"}, "files": [entry]}
        return json.dumps(page).encode("utf-8", "backslashreplace"), JSON_TYPES[0]
    base_tag = "" if base is None else f'<base href="{html.escape(base)}">'
    text = f'{base_tag}<a href="{html.escape(href)}">x</a>'
    return text.encode("utf-8", "backslashreplace"), "text/html"


@SETTINGS
@given(href=LINKS, base=st.none() | LINKS, as_json=st.booleans(), where=SOURCES)
@example(href="files/a%00b.whl", base=None, as_json=False, where=FILE_INDEX)
def test_any_link_is_scoped_or_refused(
    href: str, base: str | None, as_json: bool, where: Source
) -> None:
    record(check(*_link_page(href, base, as_json), where))


# --- bytes, and find-links pages ----------------------------------------------------

CONTENT_TYPES = st.builds(
    lambda media, charset: media if charset is None else f"{media}; charset={charset}",
    st.sampled_from([*JSON_TYPES, *HTML_TYPES, "text/plain"]),
    st.sampled_from([None, *CHARSETS]),
)


@SETTINGS
@given(content=st.binary(max_size=200), content_type=CONTENT_TYPES, where=SOURCES)
@example(content=b"abc", content_type="text/html; charset=undefined", where=REMOTE)
def test_any_bytes_parse_or_refuse(
    content: bytes, content_type: str, where: Source
) -> None:
    record(check(content, content_type, where))


@settings(SETTINGS, max_examples=EXAMPLES // 2)  # the same pages again, scoped
@given(page=JSON_PAGES | HTML_PAGES)
def test_a_remote_find_links_page_lists_or_raises_lockgen_errors(
    page: tuple[bytes, str],
) -> None:
    url = "http://127.0.0.1:1/links/"
    body, content_type = page
    cached = CachedPage(
        url=url,
        final_url=url,
        content_type=content_type,
        etag=None,
        last_modified=None,
        body=body,
    )
    links = FindLinks([url], lambda _url: cached)
    try:
        files = links.files(canonicalize_name("demo"))
    except LockgenError as exc:
        assert "\n" not in str(exc)
        return
    for dist in files:
        well_formed(dist, "")
        allowed(dist.url, url, any_local=False)
