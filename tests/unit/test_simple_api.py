"""Tests for lockgen.core.simple_api: PEP 503 HTML and PEP 691 JSON pages, bytes in."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from lockgen.core.errors import IndexPageError
from lockgen.core.simple_api import ACCEPT, parse_project_page

if TYPE_CHECKING:
    from lockgen.core.models import DistFile

JSON_CT = "application/vnd.pypi.simple.v1+json"
HTML_CT = "application/vnd.pypi.simple.v1+html"
INDEX = "https://pypi.example/simple/"
PAGE = "https://pypi.example/simple/demo/"
H1 = "a" * 64
H2 = "0123456789abcdef" * 4


def json_page(*files: dict[str, Any], api_version: str = "1.1") -> bytes:
    doc = {"meta": {"api-version": api_version}, "name": "demo", "files": list(files)}
    return json.dumps(doc).encode()


def html_page(*anchors: str, head: str = "") -> bytes:
    body = "\n".join(anchors)
    return (
        f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"
    ).encode()


def parse(
    content: bytes, content_type: str = JSON_CT, page: str = PAGE
) -> list[DistFile]:
    return parse_project_page(content, content_type, page, index_url=INDEX)


def one(content: bytes, content_type: str = JSON_CT, page: str = PAGE) -> DistFile:
    (dist,) = parse(content, content_type, page)
    return dist


def jfile(filename: str = "demo-1.0.tar.gz", /, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"filename": filename, "url": filename, "hashes": {}}
    entry.update(extra)
    return entry


class TestEquivalence:
    def test_json_and_html_give_equal_files(self) -> None:
        json_body = json_page(
            jfile(
                "demo-1.0-py3-none-any.whl",
                url="../../files/demo-1.0-py3-none-any.whl",
                hashes={"sha256": H1, "md5": "x"},
                **{"requires-python": ">=3.8", "core-metadata": {"sha256": H2}},
            ),
            jfile(
                "demo-1.0.tar.gz",
                url="https://files.example/demo-1.0.tar.gz",
                yanked="broken",
            ),
            jfile("demo-0.9.zip", url="/files/demo-0.9.zip", yanked=True),
        )
        html_body = html_page(
            '<a href="../../files/demo-1.0-py3-none-any.whl#sha256='
            f'{H1}" data-requires-python="&gt;=3.8" '
            f'data-core-metadata="sha256={H2}">demo-1.0-py3-none-any.whl</a>',
            '<a href="https://files.example/demo-1.0.tar.gz" '
            'data-yanked="broken">demo-1.0.tar.gz</a>',
            '<a href="/files/demo-0.9.zip" data-yanked>demo-0.9.zip</a>',
        )
        from_json = parse(json_body, JSON_CT)
        from_html = parse(html_body, HTML_CT)
        assert from_json == from_html
        assert [d.url for d in from_json] == [
            "https://pypi.example/files/demo-1.0-py3-none-any.whl",
            "https://files.example/demo-1.0.tar.gz",
            "https://pypi.example/files/demo-0.9.zip",
        ]
        assert all(d.index == INDEX for d in from_json)

    def test_page_order_is_kept_and_nothing_is_filtered(self) -> None:
        names = ["zzz-1.0.tar.gz", "other-2.0.tar.gz", "setup.exe", "demo-1.0.egg"]
        body = html_page(*(f'<a href="{n}">{n}</a>' for n in names))
        assert [d.filename for d in parse(body, HTML_CT)] == names

    def test_accept_header_prefers_json(self) -> None:
        assert ACCEPT.startswith("application/vnd.pypi.simple.v1+json,")
        assert "text/html;q=0.01" in ACCEPT


class TestUrls:
    @pytest.mark.parametrize(
        ("href", "expected"),
        [
            ("demo-1.0.tar.gz", "https://pypi.example/simple/demo/demo-1.0.tar.gz"),
            ("/f/demo-1.0.tar.gz", "https://pypi.example/f/demo-1.0.tar.gz"),
            ("//cdn.example/demo-1.0.tar.gz", "https://cdn.example/demo-1.0.tar.gz"),
            ("http://other/x/demo-1.0.tar.gz", "http://other/x/demo-1.0.tar.gz"),
        ],
    )
    def test_links_resolve_against_page_url(self, href: str, expected: str) -> None:
        assert one(json_page(jfile(url=href))).url == expected
        assert one(html_page(f'<a href="{href}">x</a>'), HTML_CT).url == expected

    def test_page_url_after_redirect_is_the_base(self) -> None:
        dist = one(json_page(jfile()), page="https://mirror.example/pypi/demo/")
        assert dist.url == "https://mirror.example/pypi/demo/demo-1.0.tar.gz"

    def test_base_tag_is_honoured(self) -> None:
        body = html_page(
            '<a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a>',
            head='<base href="https://files.example/pkgs/">',
        )
        assert one(body, HTML_CT).url == "https://files.example/pkgs/demo-1.0.tar.gz"

    def test_first_base_tag_wins(self) -> None:
        head = '<base href="https://one.example/">'
        body = html_page('<a href="d.whl">d</a>', '<base href="/two/">', head=head)
        assert one(body, HTML_CT).url == "https://one.example/d.whl"

    def test_first_of_duplicate_attributes_wins(self) -> None:
        body = html_page('<a href="a-1.0.tar.gz" href="b-1.0.tar.gz">x</a>')
        assert one(body, HTML_CT).filename == "a-1.0.tar.gz"

    def test_relative_base_tag_resolves_against_page(self) -> None:
        body = html_page('<a href="d-1.0.tar.gz">x</a>', head='<base href="/dl/">')
        assert one(body, HTML_CT).url == "https://pypi.example/dl/d-1.0.tar.gz"

    def test_filename_comes_from_url_not_anchor_text(self) -> None:
        body = html_page('<a href="/f/real-1.0.tar.gz?x=1">fake-9.9.tar.gz</a>')
        dist = one(body, HTML_CT)
        assert dist.filename == "real-1.0.tar.gz"
        assert dist.url == "https://pypi.example/f/real-1.0.tar.gz?x=1"

    def test_percent_encoded_filename_is_decoded_but_url_kept(self) -> None:
        href = "/f/demo-1.0%2Blocal-py3-none-any.whl"
        dist = one(html_page(f'<a href="{href}">x</a>'), HTML_CT)
        assert dist.filename == "demo-1.0+local-py3-none-any.whl"
        assert dist.url == "https://pypi.example" + href

    def test_json_url_keeps_percent_encoding(self) -> None:
        dist = one(json_page(jfile("demo-1.0+l.tar.gz", url="demo-1.0%2Bl.tar.gz")))
        assert dist.filename == "demo-1.0+l.tar.gz"
        assert dist.url.endswith("/demo-1.0%2Bl.tar.gz")

    def test_credentials_are_stripped_from_links(self) -> None:
        body = html_page(
            '<a href="https://u:s3cret@files.example/a-1.0.tar.gz">a</a>',
            '<a href="b-1.0.tar.gz">b</a>',
        )
        page = "https://me:tok@pypi.example/simple/demo/"
        urls = [d.url for d in parse(body, HTML_CT, page=page)]
        assert urls == [
            "https://files.example/a-1.0.tar.gz",
            "https://pypi.example/simple/demo/b-1.0.tar.gz",
        ]
        dist = one(json_page(jfile()), page=page)
        assert dist.url == "https://pypi.example/simple/demo/demo-1.0.tar.gz"

    def test_errors_never_show_credentials(self) -> None:
        page = "https://me:s3cret@pypi.example/simple/demo/"
        with pytest.raises(IndexPageError) as info:
            parse(b"{not json", JSON_CT, page=page)
        assert "s3cret" not in str(info.value)
        assert info.value.url == "https://pypi.example/simple/demo/"

    @pytest.mark.parametrize(
        ("content", "content_type"),
        [
            (html_page('<a href="http://[::1/demo-1.0.tar.gz">d</a>'), HTML_CT),
            (html_page('<a href="//[::1/demo-1.0.tar.gz">d</a>'), HTML_CT),
            (
                html_page('<a href="d.whl">d</a>', head='<base href="http://[::1">'),
                HTML_CT,
            ),
            (json_page(jfile(url="http://u:s3cret@h\uff03/demo-1.0.tar.gz")), JSON_CT),
        ],
    )
    def test_a_url_urllib_cannot_split_is_a_page_error(
        self, content: bytes, content_type: str
    ) -> None:
        # Found by the property tests: ValueError from urlsplit and urljoin.
        with pytest.raises(IndexPageError) as info:
            parse(content, content_type)
        assert (
            str(info.value) == f"invalid index page {PAGE}: a link is not a valid URL"
        )

    def test_anchors_without_file_name_or_href_are_skipped(self) -> None:
        body = html_page('<a name="top">top</a>', '<a href="../">up</a>', '<a href="">')
        assert parse(body, HTML_CT) == []


class TestHashes:
    def test_html_sha256_fragment_is_read_and_removed(self) -> None:
        body = html_page(f'<a href="d-1.0.tar.gz#sha256={H1.upper()}">d</a>')
        dist = one(body, HTML_CT)
        assert dist.sha256 == H1
        assert "#" not in dist.url

    def test_html_other_hash_names_are_ignored(self) -> None:
        dist = one(html_page('<a href="d-1.0.tar.gz#md5=abc">d</a>'), HTML_CT)
        assert dist.sha256 is None
        assert dist.url.endswith("/d-1.0.tar.gz")

    def test_html_sha256_among_fragment_items(self) -> None:
        body = html_page(f'<a href="d-1.0.tar.gz#egg=d&sha256={H2}">d</a>')
        assert one(body, HTML_CT).sha256 == H2

    def test_json_takes_sha256_lowercased_and_ignores_others(self) -> None:
        entry = jfile(hashes={"sha256": H1.upper(), "blake2b": "zz"})
        assert one(json_page(entry)).sha256 == H1

    @pytest.mark.parametrize("hashes", [{}, {"md5": "abc"}])
    def test_json_without_sha256(self, hashes: dict[str, str]) -> None:
        assert one(json_page(jfile(hashes=hashes))).sha256 is None

    def test_no_hash_in_html(self) -> None:
        assert one(html_page('<a href="d-1.0.tar.gz">d</a>'), HTML_CT).sha256 is None

    def test_malformed_sha256_is_rejected(self) -> None:
        with pytest.raises(IndexPageError, match="invalid sha256"):
            parse(json_page(jfile(hashes={"sha256": "xyz"})))
        with pytest.raises(IndexPageError, match="invalid sha256"):
            parse(html_page('<a href="d-1.0.tar.gz#sha256=123">d</a>'), HTML_CT)


class TestRequiresPython:
    def test_html_entities_are_unescaped(self) -> None:
        body = html_page('<a href="d.whl" data-requires-python="&gt;=3.8,&lt;4">d</a>')
        assert one(body, HTML_CT).requires_python == ">=3.8,<4"

    def test_json_value_is_taken_as_is(self) -> None:
        entry = jfile(**{"requires-python": ">=3.8,<4"})
        assert one(json_page(entry)).requires_python == ">=3.8,<4"

    def test_absent_or_empty_is_none(self) -> None:
        assert (
            one(json_page(jfile(**{"requires-python": None}))).requires_python is None
        )
        body = html_page('<a href="d.whl" data-requires-python="">d</a>')
        assert one(body, HTML_CT).requires_python is None


class TestYanked:
    @pytest.mark.parametrize(
        ("value", "yanked", "reason"),
        [(True, True, None), ("bad build", True, "bad build"), (False, False, None)],
    )
    def test_json(self, value: object, yanked: bool, reason: str | None) -> None:
        dist = one(json_page(jfile(yanked=value)))
        assert (dist.yanked, dist.yanked_reason) == (yanked, reason)

    @pytest.mark.parametrize(
        ("attr", "yanked", "reason"),
        [
            ("data-yanked", True, None),
            ('data-yanked=""', True, None),
            ('data-yanked="bad &amp; old"', True, "bad & old"),
            ("", False, None),
        ],
    )
    def test_html(self, attr: str, yanked: bool, reason: str | None) -> None:
        dist = one(html_page(f'<a href="d-1.0.tar.gz" {attr}>d</a>'), HTML_CT)
        assert (dist.yanked, dist.yanked_reason) == (yanked, reason)

    def test_json_absent_means_not_yanked(self) -> None:
        assert one(json_page(jfile())).yanked is False

    def test_json_empty_reason_is_yanked_without_reason(self) -> None:
        dist = one(json_page(jfile(yanked="")))
        assert (dist.yanked, dist.yanked_reason) == (True, None)

    def test_json_wrong_type(self) -> None:
        with pytest.raises(IndexPageError, match=r"files\[0\]\.yanked"):
            parse(json_page(jfile(yanked=1)))


class TestCoreMetadata:
    @pytest.mark.parametrize("key", ["core-metadata", "dist-info-metadata"])
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (True, ""),
            (False, None),
            ({"sha256": H1.upper()}, H1),
            ({"sha512": "abc"}, ""),
        ],
    )
    def test_json(self, key: str, value: object, expected: str | None) -> None:
        assert one(json_page(jfile(**{key: value}))).core_metadata == expected

    @pytest.mark.parametrize("key", ["data-core-metadata", "data-dist-info-metadata"])
    @pytest.mark.parametrize(
        ("value", "expected"),
        [("true", ""), (f"sha256={H1}", H1), ("sha512=abc", "")],
    )
    def test_html(self, key: str, value: str, expected: str) -> None:
        body = html_page(f'<a href="d-1.0-py3-none-any.whl" {key}="{value}">d</a>')
        assert one(body, HTML_CT).core_metadata == expected

    def test_absent(self) -> None:
        assert one(json_page(jfile())).core_metadata is None
        assert one(html_page('<a href="d.whl">d</a>'), HTML_CT).core_metadata is None

    def test_json_new_key_wins(self) -> None:
        entry = jfile(**{"core-metadata": {"sha256": H1}, "dist-info-metadata": True})
        assert one(json_page(entry)).core_metadata == H1
        entry = jfile(**{"core-metadata": False, "dist-info-metadata": {"sha256": H2}})
        assert one(json_page(entry)).core_metadata is None

    def test_html_new_key_wins(self) -> None:
        body = html_page(
            f'<a href="d.whl" data-dist-info-metadata="sha256={H1}" '
            f'data-core-metadata="sha256={H2}">d</a>'
        )
        assert one(body, HTML_CT).core_metadata == H2

    def test_json_wrong_type(self) -> None:
        with pytest.raises(IndexPageError, match="core-metadata"):
            parse(json_page(jfile(**{"core-metadata": "yes"})))


class TestSizeAndUploadTime:
    def test_size(self) -> None:
        assert one(json_page(jfile(size=1234))).size == 1234
        assert one(json_page(jfile())).size is None

    @pytest.mark.parametrize("size", [-1, "12", True, 1.5])
    def test_bad_size(self, size: object) -> None:
        with pytest.raises(IndexPageError, match="size"):
            parse(json_page(jfile(size=size)))

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2024-02-29T13:04:05.123456Z", datetime(2024, 2, 29, 13, 4, 5, 123456)),
            ("2024-02-29T13:04:05Z", datetime(2024, 2, 29, 13, 4, 5)),
            ("2024-02-29T13:04:05.5Z", datetime(2024, 2, 29, 13, 4, 5, 500000)),
        ],
    )
    def test_upload_time(self, text: str, expected: datetime) -> None:
        got = one(json_page(jfile(**{"upload-time": text}))).upload_time
        assert got == expected.replace(tzinfo=UTC)
        assert got is not None
        assert got.utcoffset() is not None

    @pytest.mark.parametrize(
        "text", ["2024-02-30T00:00:00Z", "2024-02-01", "2024-02-01T00:00:00+01:00", 5]
    )
    def test_bad_upload_time(self, text: object) -> None:
        with pytest.raises(IndexPageError, match="upload-time"):
            parse(json_page(jfile(**{"upload-time": text})))

    def test_html_has_no_size_or_time(self) -> None:
        dist = one(html_page('<a href="d-1.0.tar.gz">d</a>'), HTML_CT)
        assert (dist.size, dist.upload_time) == (None, None)


class TestJsonErrors:
    @pytest.mark.parametrize("version", ["2.0", "0.9", "x"])
    def test_unknown_api_major_is_rejected(self, version: str) -> None:
        with pytest.raises(IndexPageError, match="api-version"):
            parse(json_page(jfile(), api_version=version))

    def test_newer_minor_is_accepted(self) -> None:
        assert len(parse(json_page(jfile(), api_version="1.99"))) == 1

    def test_missing_meta_is_rejected(self) -> None:
        with pytest.raises(IndexPageError, match="api-version"):
            parse(json.dumps({"files": []}).encode())

    @pytest.mark.parametrize("body", [b"{not json", b"[]", b'"x"'])
    def test_malformed_json(self, body: bytes) -> None:
        with pytest.raises(IndexPageError, match="JSON"):
            parse(body)

    @pytest.mark.parametrize(
        ("files", "where"),
        [
            ({"a": 1}, "files"),
            (["x"], r"files\[0\]"),
            ([{"url": "a"}], r"files\[0\]\.filename"),
            ([{"filename": "a", "url": 3}], r"files\[0\]\.url"),
            ([{"filename": "a", "url": "a", "hashes": []}], r"files\[0\]\.hashes"),
            ([{"filename": "a", "url": "a", "hashes": {"sha256": 1}}], "sha256"),
        ],
    )
    def test_wrong_types(self, files: object, where: str) -> None:
        body = json.dumps({"meta": {"api-version": "1.0"}, "files": files}).encode()
        with pytest.raises(IndexPageError, match=where):
            parse(body)

    def test_error_message_names_the_page(self) -> None:
        with pytest.raises(IndexPageError) as info:
            parse(b"{")
        assert str(info.value).startswith(f"invalid index page {PAGE}: ")


class TestHtmlVersion:
    def test_repository_version_2_is_rejected(self) -> None:
        head = '<meta name="pypi:repository-version" content="2.0">'
        with pytest.raises(IndexPageError, match="api-version"):
            parse(html_page('<a href="d.whl">d</a>', head=head), HTML_CT)

    def test_repository_version_1_is_accepted(self) -> None:
        head = '<meta name="pypi:repository-version" content="1.1">'
        assert len(parse(html_page('<a href="d.whl">d</a>', head=head), HTML_CT)) == 1


class TestContentType:
    @pytest.mark.parametrize(
        "content_type",
        [
            JSON_CT,
            "application/vnd.pypi.simple.latest+json",
            "Application/VND.PyPI.Simple.v1+JSON; charset=utf-8",
        ],
    )
    def test_json_types(self, content_type: str) -> None:
        assert one(json_page(jfile()), content_type).filename == "demo-1.0.tar.gz"

    @pytest.mark.parametrize(
        "content_type", [HTML_CT, "text/html", "text/html; charset=UTF-8", "TEXT/HTML"]
    )
    def test_html_types(self, content_type: str) -> None:
        body = html_page('<a href="d-1.0.tar.gz">d</a>')
        assert one(body, content_type).filename == "d-1.0.tar.gz"

    def test_json_body_under_html_type_is_parsed_as_html(self) -> None:
        assert parse(json_page(jfile()), "text/html") == []

    @pytest.mark.parametrize(
        "content_type",
        ["application/json", "text/plain", "application/vnd.pypi.simple.v2+json"],
    )
    def test_unsupported(self, content_type: str) -> None:
        with pytest.raises(IndexPageError, match="unsupported content type"):
            parse(json_page(jfile()), content_type)

    def test_missing_type_sniffs_json(self) -> None:
        assert one(b"\n " + json_page(jfile()), "").filename == "demo-1.0.tar.gz"

    def test_missing_type_sniffs_html(self) -> None:
        assert one(html_page('<a href="d-1.0.tar.gz">d</a>'), "").filename == (
            "d-1.0.tar.gz"
        )

    def test_charset_is_used_for_html(self) -> None:
        body = html_page('<a href="d.whl" data-yanked="caf\u00e9">d</a>')
        latin1 = body.decode().encode("latin-1")
        dist = one(latin1, "text/html; charset=ISO-8859-1")
        assert dist.yanked_reason == "caf\u00e9"
        with pytest.raises(IndexPageError, match="not valid utf-8"):
            parse(latin1, "text/html")

    def test_unknown_charset(self) -> None:
        with pytest.raises(IndexPageError, match="unknown charset"):
            parse(html_page(), "text/html; charset=klingon")

    @pytest.mark.parametrize("charset", ["undefined", "punycode"])
    def test_charset_whose_codec_fails_without_a_position(self, charset: str) -> None:
        # Found by the property tests: a UnicodeError, not a UnicodeDecodeError.
        with pytest.raises(IndexPageError, match=f"not valid {charset}$"):
            parse(b"\n", f"text/html; charset={charset}")

    def test_utf8_bom_is_tolerated(self) -> None:
        assert len(parse(b"\xef\xbb\xbf" + json_page(jfile()))) == 1


def test_json_nested_too_deeply_is_a_page_error() -> None:
    """A hostile page nested 100k deep is one line, not a RecursionError."""
    body = b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    with pytest.raises(IndexPageError, match="nested too deeply"):
        parse_project_page(
            body,
            "application/vnd.pypi.simple.v1+json",
            "https://example.invalid/simple/x/",
            index_url="https://example.invalid/simple/",
        )
