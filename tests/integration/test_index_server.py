"""Self-tests of IndexServer: other integration tests are only as honest as this server."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import socket
import time
import urllib.parse
from typing import TYPE_CHECKING

import pytest
import urllib3
from urllib3.exceptions import ProtocolError

from tests.support.index_server import (
    HTML,
    JSON,
    NGINX_MTIME,
    TEXT_HTML,
    IndexServer,
    negotiate,
)
from tests.support.wheels import make_sdist, make_wheel

if TYPE_CHECKING:
    from collections.abc import Iterator


PEP691_ACCEPT = f"{JSON}, {HTML};q=0.2, text/html;q=0.01"
WHEEL = make_wheel("demo-a", "1.0", requires_dist=["b>=1"], requires_python=">=3.8")
SDIST = make_sdist("demo-a", "1.0")
BIG = make_wheel("big", "1.0", padding=40_000)  # three 16 KiB body chunks


@pytest.fixture
def pool() -> Iterator[urllib3.PoolManager]:
    manager = urllib3.PoolManager(retries=False)
    yield manager
    manager.clear()


@pytest.fixture
def server() -> Iterator[IndexServer]:
    with IndexServer([WHEEL, SDIST, BIG]) as running:
        yield running
    assert not running.errors


def get(
    pool: urllib3.PoolManager, url: str, *, method: str = "GET", **headers: str
) -> urllib3.BaseHTTPResponse:
    names = {"accept": "Accept", "range": "Range", "authorization": "Authorization"}
    sent = {names.get(k, k): v for k, v in headers.items()}
    return pool.request(method, url, headers=sent, redirect=False)


def file_url(server: IndexServer, filename: str) -> str:
    return f"{server.url}/files/{urllib.parse.quote(filename)}"


class TestNegotiation:
    @pytest.mark.parametrize(
        ("accept", "formats", "expected"),
        [
            (PEP691_ACCEPT, {"json", "html"}, JSON),
            (PEP691_ACCEPT, {"html"}, HTML),
            (f"{HTML}, {JSON};q=0.5", {"json", "html"}, HTML),
            ("application/vnd.pypi.simple.latest+json", {"json", "html"}, JSON),
            ("*/*", {"json", "html"}, JSON),
            ("text/*", {"json", "html"}, TEXT_HTML),
            ("text/html", {"json", "html"}, TEXT_HTML),
            (None, {"json", "html"}, TEXT_HTML),
            ("application/json", {"json", "html"}, None),
            (f"{JSON}, */*;q=0", {"html"}, None),
            ("text/html", {"json"}, None),
        ],
    )
    def test_negotiate(
        self, accept: str | None, formats: set[str], expected: str | None
    ) -> None:
        assert negotiate(accept, formats) == expected

    def test_json_detail_page(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        response = get(pool, server.index_url + "demo-a/", accept=PEP691_ACCEPT)
        assert response.status == 200
        assert response.headers["Content-Type"] == JSON
        page = response.json()
        assert page["meta"] == {"api-version": "1.1"}
        assert (page["name"], page["versions"]) == ("demo-a", ["1.0"])
        wheel, sdist = page["files"]
        assert wheel == {
            "filename": WHEEL.filename,
            "url": f"../../files/{WHEEL.filename}",
            "hashes": {"sha256": WHEEL.sha256},
            "requires-python": ">=3.8",
            "size": WHEEL.size,
            "upload-time": "2025-01-02T03:04:05.000000Z",
            "yanked": False,
            "core-metadata": {"sha256": WHEEL.metadata_sha256},
            "dist-info-metadata": {"sha256": WHEEL.metadata_sha256},
        }
        assert sdist["core-metadata"] is False
        target = urllib.parse.urljoin(server.index_url + "demo-a/", wheel["url"])
        assert hashlib.sha256(get(pool, target).data).hexdigest() == WHEEL.sha256

    def test_html_detail_page(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        response = get(pool, server.index_url + "demo-a/", accept=HTML)
        assert response.headers["Content-Type"] == HTML
        page = response.data.decode()
        assert (
            f'<a href="../../files/{WHEEL.filename}#sha256={WHEEL.sha256}" '
            'data-requires-python="&gt;=3.8" '
            f'data-core-metadata="sha256={WHEEL.metadata_sha256}" '
            f'data-dist-info-metadata="sha256={WHEEL.metadata_sha256}">'
            f"{WHEEL.filename}</a>"
        ) in page
        assert f'<a href="../../files/{SDIST.filename}#sha256={SDIST.sha256}">' in page

    def test_project_list_in_both_formats(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        listing = get(pool, server.index_url, accept=JSON).json()
        assert listing["projects"] == [{"name": "big"}, {"name": "demo-a"}]
        page = get(pool, server.index_url, accept="text/html")
        assert page.headers["Content-Type"] == TEXT_HTML
        assert '<a href="demo-a/">demo-a</a>' in page.data.decode()

    def test_406_when_nothing_acceptable(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], formats=("json",)) as server:
            assert get(pool, server.index_url + "demo-a/", accept=HTML).status == 406
            assert get(pool, server.index_url + "demo-a/", accept=JSON).status == 200
            assert [r.status for r in server.requests] == [406, 200]


class TestRouting:
    def test_non_normalized_name_redirects(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        response = get(pool, server.index_url + "Demo_A/", accept=JSON)
        assert response.status == 301
        assert response.headers["Location"] == "/simple/demo-a/"
        assert get(pool, server.index_url + "demo-a", accept=JSON).status == 301
        followed = pool.request("GET", server.index_url + "Demo.A", retries=2)
        assert followed.status == 200
        assert [(r.path, r.status) for r in server.requests][-2:] == [
            ("/simple/Demo.A", 301),
            ("/simple/demo-a/", 200),
        ]

    def test_unknown_things_are_404(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        assert get(pool, server.index_url + "nope/", accept=JSON).status == 404
        assert get(pool, server.url + "/files/nope.whl").status == 404
        assert get(pool, server.url + "/elsewhere").status == 404
        assert get(pool, file_url(server, SDIST.filename) + ".metadata").status == 404
        assert [r.status for r in server.requests] == [404] * 4

    def test_add_while_running(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        newer = make_wheel("demo-a", "1.1")
        server.add(newer)
        page = get(pool, server.index_url + "demo-a/", accept=JSON).json()
        assert page["versions"] == ["1.0", "1.1"]
        assert get(pool, file_url(server, newer.filename)).data == newer.data

    def test_url_needs_a_started_server(self) -> None:
        with pytest.raises(RuntimeError):
            _ = IndexServer().url

    def test_stop_closes_keep_alive_connections_and_the_port(
        self, pool: urllib3.PoolManager
    ) -> None:
        server = IndexServer([WHEEL]).start()
        url = server.url
        assert get(pool, url + "/files/" + WHEEL.filename).status == 200
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1
        with (
            pytest.raises(OSError),
            socket.create_connection(("127.0.0.1", server_port(url))),
        ):
            pass
        server.stop()  # idempotent


def server_port(url: str) -> int:
    port = urllib.parse.urlsplit(url).port
    assert port is not None
    return port


class TestListingSwitches:
    def test_pep658_off(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], pep658=False) as server:
            entry = get(pool, server.index_url + "demo-a/", accept=JSON).json()[
                "files"
            ][0]
            assert entry["core-metadata"] is False
            assert entry["dist-info-metadata"] is False
            html = get(pool, server.index_url + "demo-a/", accept=HTML).data.decode()
            assert "data-core-metadata" not in html
            assert (
                get(pool, file_url(server, WHEEL.filename) + ".metadata").status == 404
            )

    def test_pep658_file(self, server: IndexServer, pool: urllib3.PoolManager) -> None:
        response = get(pool, file_url(server, WHEEL.filename) + ".metadata")
        assert response.status == 200
        assert response.data == WHEEL.metadata
        assert hashlib.sha256(response.data).hexdigest() == WHEEL.metadata_sha256

    def test_hashes_and_sizes_off(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], hashes=False, sizes=False) as server:
            entry = get(pool, server.index_url + "demo-a/", accept=JSON).json()[
                "files"
            ][0]
            assert entry["hashes"] == {}
            assert entry["core-metadata"] is True
            assert "size" not in entry
            html = get(pool, server.index_url + "demo-a/", accept=HTML).data.decode()
            assert "#sha256" not in html
            assert 'data-core-metadata="true"' in html

    def test_yanked_and_no_upload_time(self, pool: urllib3.PoolManager) -> None:
        yanked = make_wheel("y", "1", yanked="broken <build>", upload_time=None)
        bare = make_wheel("y", "2", yanked=True)
        with IndexServer([yanked, bare]) as server:
            first, second = get(pool, server.index_url + "y/", accept=JSON).json()[
                "files"
            ]
            assert (first["yanked"], second["yanked"]) == ("broken <build>", True)
            assert "upload-time" not in first
            html = get(pool, server.index_url + "y/", accept=HTML).data.decode()
            assert 'data-yanked="broken &lt;build&gt;"' in html
            assert 'data-yanked=""' in html


class TestRanges:
    @pytest.mark.parametrize(
        ("header", "start", "end"),
        [
            ("bytes=0-99", 0, 99),
            ("bytes=100-", 100, None),
            ("bytes=-100", -100, None),
            ("bytes=10-999999", 10, None),
            ("bytes=-999999", 0, None),
        ],
    )
    def test_honour(
        self,
        server: IndexServer,
        pool: urllib3.PoolManager,
        header: str,
        start: int,
        end: int | None,
    ) -> None:
        response = get(pool, file_url(server, WHEEL.filename), range=header)
        expected = WHEEL.data[start : None if end is None else end + 1]
        first = start % WHEEL.size
        assert response.status == 206
        assert response.data == expected
        assert response.headers["Content-Range"] == (
            f"bytes {first}-{first + len(expected) - 1}/{WHEEL.size}"
        )
        assert response.headers["Accept-Ranges"] == "bytes"
        assert int(response.headers["Content-Length"]) == len(expected)
        assert server.requests[-1].range == header
        assert server.requests[-1].bytes_sent == len(expected)

    @pytest.mark.parametrize(
        "header", ["bytes=999999-", "bytes=999999-1000000", "bytes=-0"]
    )
    def test_unsatisfiable_is_416(
        self, server: IndexServer, pool: urllib3.PoolManager, header: str
    ) -> None:
        response = get(pool, file_url(server, WHEEL.filename), range=header)
        assert response.status == 416
        assert response.headers["Content-Range"] == f"bytes */{WHEEL.size}"
        assert server.requests[-1].status == 416

    @pytest.mark.parametrize("header", ["bytes=0-1,5-6", "items=0-1", "bytes=5-3"])
    def test_malformed_range_is_ignored(
        self, server: IndexServer, pool: urllib3.PoolManager, header: str
    ) -> None:
        response = get(pool, file_url(server, WHEEL.filename), range=header)
        assert (response.status, response.data) == (200, WHEEL.data)

    def test_metadata_file_honours_ranges(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        response = get(
            pool, file_url(server, WHEEL.filename) + ".metadata", range="bytes=0-9"
        )
        assert (response.status, response.data) == (206, WHEEL.metadata[:10])

    def test_ignore(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], ranges="ignore") as server:
            response = get(pool, file_url(server, WHEEL.filename), range="bytes=-100")
            assert (response.status, response.data) == (200, WHEEL.data)
            assert response.headers["Accept-Ranges"] == "bytes"
            assert "Content-Range" not in response.headers

    def test_refuse(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], ranges="refuse") as server:
            url = file_url(server, WHEEL.filename)
            assert get(pool, url, range="bytes=0-9").status == 501
            assert get(pool, url, method="HEAD", range="bytes=0-9").status == 501
            plain = get(pool, url)
            assert (plain.status, plain.data) == (200, WHEEL.data)
            assert "Accept-Ranges" not in plain.headers
            assert get(pool, url, method="HEAD").status == 200

    def test_refuse_suffix(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], ranges="refuse-suffix") as server:
            url = file_url(server, WHEEL.filename)
            suffix = get(pool, url, range="bytes=-100")
            assert suffix.status == 416
            assert suffix.headers["Content-Range"] == f"bytes */{WHEEL.size}"
            absolute = get(pool, url, range="bytes=5-9")
            assert (absolute.status, absolute.data) == (206, WHEEL.data[5:10])

    def test_wrong_reads_suffix_as_prefix(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], ranges="wrong") as server:
            url = file_url(server, WHEEL.filename)
            response = get(pool, url, range="bytes=-100")
            assert (response.status, response.data) == (206, WHEEL.data[:100])
            assert response.headers["Content-Range"] == f"bytes 0-99/{WHEEL.size}"
            absolute = get(pool, url, range="bytes=5-9")
            assert (absolute.status, absolute.data) == (206, WHEEL.data[5:10])

    def test_whole_if_short(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], ranges="whole-if-short") as server:
            url = file_url(server, WHEEL.filename)
            covering = get(pool, url, range=f"bytes=-{WHEEL.size}")
            assert (covering.status, covering.data) == (200, WHEEL.data)
            shorter = get(pool, url, range=f"bytes=-{WHEEL.size - 1}")
            assert (shorter.status, shorter.data) == (206, WHEEL.data[1:])

    def test_head(self, server: IndexServer, pool: urllib3.PoolManager) -> None:
        response = get(
            pool, file_url(server, WHEEL.filename), method="HEAD", range="bytes=-5"
        )
        assert response.status == 200
        assert response.headers["Content-Length"] == str(WHEEL.size)
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.data == b""
        record = server.requests[-1]
        assert (record.method, record.status, record.bytes_sent) == ("HEAD", 200, 0)


class TestAuthAndDelay:
    def test_basic_auth_required_everywhere(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], auth=("alice", "s3cret")) as server:
            page = server.index_url + "demo-a/"
            missing = get(pool, page, accept=JSON)
            assert missing.status == 401
            assert missing.headers["WWW-Authenticate"].startswith("Basic ")
            wrong = "Basic " + base64.b64encode(b"alice:nope").decode()
            assert get(pool, page, accept=JSON, authorization=wrong).status == 401
            right = "Basic " + base64.b64encode(b"alice:s3cret").decode()
            assert get(pool, page, accept=JSON, authorization=right).status == 200
            url = file_url(server, WHEEL.filename)
            assert get(pool, url).status == 401
            assert get(pool, url, authorization=right).data == WHEEL.data
            assert server.requests[-1].headers["authorization"] == right

    def test_delay(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], delay=0.1) as server:
            started = time.monotonic()
            get(pool, server.index_url, accept=JSON)
            assert time.monotonic() - started >= 0.1


class TestFaults:
    def test_fail_then_serve(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        path = f"/files/{WHEEL.filename}"
        server.fail[path] = [500, 503]
        statuses = [get(pool, server.url + path).status for _ in range(3)]
        assert statuses == [500, 503, 200]
        assert [r.status for r in server.requests] == [500, 503, 200]
        assert server.fail[path] == []

    def test_fail_a_simple_page(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        server.fail["/simple/demo-a/"] = [429]
        assert get(pool, server.index_url + "demo-a/", accept=JSON).status == 429
        assert get(pool, server.index_url + "demo-a/", accept=JSON).status == 200

    def test_corrupt_flips_one_byte(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        server.corrupt.add(WHEEL.filename)
        served = get(pool, file_url(server, WHEEL.filename)).data
        assert len(served) == WHEEL.size
        assert sum(a != b for a, b in zip(served, WHEEL.data, strict=True)) == 1
        assert hashlib.sha256(served).hexdigest() != WHEEL.sha256

    def test_truncate(self, server: IndexServer, pool: urllib3.PoolManager) -> None:
        server.truncate.add(BIG.filename)
        with pytest.raises(ProtocolError, match="IncompleteRead"):
            get(pool, file_url(server, BIG.filename))
        record = server.requests[-1]
        assert (record.status, record.bytes_sent) == (200, BIG.size // 2)
        server.truncate.clear()
        assert get(pool, file_url(server, BIG.filename)).data == BIG.data

    def test_reset(self, server: IndexServer, pool: urllib3.PoolManager) -> None:
        server.reset.add(BIG.filename)
        with pytest.raises(ProtocolError) as caught:
            response = pool.request(
                "GET", file_url(server, BIG.filename), preload_content=False
            )
            response.read()
        assert isinstance(caught.value.args[-1], ConnectionResetError)
        assert server.requests[-1].bytes_sent == BIG.size // 2
        server.reset.clear()
        assert get(pool, file_url(server, BIG.filename)).data == BIG.data

    def test_truncated_range_is_half_the_range(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        server.truncate.add(BIG.filename)
        with pytest.raises(ProtocolError):
            get(pool, file_url(server, BIG.filename), range="bytes=0-999")
        assert server.requests[-1].bytes_sent == 500

    def test_slow_pauses_before_each_chunk(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        server.slow[BIG.filename] = 0.05
        started = time.monotonic()
        assert get(pool, file_url(server, BIG.filename)).data == BIG.data
        assert time.monotonic() - started >= 0.15


class TestLogAndConnections:
    def test_records(self, server: IndexServer, pool: urllib3.PoolManager) -> None:
        get(pool, server.index_url + "demo-a/", accept=JSON)
        get(pool, file_url(server, WHEEL.filename), range="bytes=0-9")
        page, ranged = server.requests
        assert (page.method, page.path, page.accept, page.range) == (
            "GET",
            "/simple/demo-a/",
            JSON,
            None,
        )
        assert page.bytes_sent > 0
        assert page.headers["accept"] == JSON
        assert (ranged.status, ranged.bytes_sent, ranged.range) == (
            206,
            10,
            "bytes=0-9",
        )
        server.clear_log()
        assert server.requests == []

    def test_keep_alive_through_errors_and_redirects(self, server: IndexServer) -> None:
        connection = http.client.HTTPConnection(
            "127.0.0.1", server_port(server.url), timeout=5
        )
        try:
            statuses = []
            for path in (
                "/simple/demo-a/",
                "/simple/Demo_A/",
                "/files/nope",
                "/simple/",
            ):
                connection.request("GET", path, headers={"Accept": JSON})
                response = connection.getresponse()
                response.read()
                statuses.append(response.status)
                if path == "/simple/demo-a/":
                    first_socket = connection.sock
                assert connection.sock is first_socket
        finally:
            connection.close()
        assert statuses == [200, 301, 404, 200]

    def test_urllib3_pool_reuses_one_connection(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        for _ in range(5):
            get(pool, file_url(server, WHEEL.filename), range="bytes=0-9")
        connections = pool.connection_from_url(server.url)
        assert connections.num_connections == 1
        assert connections.num_requests == 5

    def test_never_compresses(
        self, server: IndexServer, pool: urllib3.PoolManager
    ) -> None:
        response = pool.request(
            "GET",
            server.index_url + "demo-a/",
            headers={"Accept": JSON, "Accept-Encoding": "gzip"},
        )
        assert "Content-Encoding" not in response.headers
        assert json.loads(response.data)["name"] == "demo-a"


class TestValidators:
    """What real servers send to revalidate: the default, nginx's, and nothing."""

    NGINX_DATE = "Thu, 02 Jan 2025 03:04:05 GMT"

    def test_default_pages_only_by_body_hash(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL]) as server:
            page = get(pool, server.index_url + "demo-a/", accept=JSON)
            etag = page.headers["ETag"]
            assert "Last-Modified" not in page.headers
            again = get(
                pool,
                server.index_url + "demo-a/",
                accept=JSON,
                **{"If-None-Match": etag},
            )
            assert again.status == 304
            wheel = get(pool, file_url(server, WHEEL.filename))
            assert "ETag" not in wheel.headers

    def test_nginx_pages_and_files(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], validators="nginx") as server:
            url = server.index_url + "demo-a/"
            page = get(pool, url, accept=HTML)
            assert page.headers["ETag"] == f'"{NGINX_MTIME:x}-{len(page.data):x}"'
            assert page.headers["Last-Modified"] == self.NGINX_DATE
            etag = page.headers["ETag"]
            by_tag = get(pool, url, accept=HTML, **{"If-None-Match": etag})
            assert (by_tag.status, by_tag.data) == (304, b"")
            assert by_tag.headers["ETag"] == etag
            by_date = get(
                pool, url, accept=HTML, **{"If-Modified-Since": self.NGINX_DATE}
            )
            assert by_date.status == 304
            older = "Wed, 01 Jan 2025 00:00:00 GMT"
            assert (
                get(pool, url, accept=HTML, **{"If-Modified-Since": older}).status
                == 200
            )
            # If-None-Match decides when both are sent
            both = {"If-None-Match": '"other"', "If-Modified-Since": self.NGINX_DATE}
            assert get(pool, url, accept=HTML, **both).status == 200
            wheel = get(pool, file_url(server, WHEEL.filename))
            assert wheel.headers["ETag"] == f'"{NGINX_MTIME:x}-{WHEEL.size:x}"'
            tail = get(pool, file_url(server, WHEEL.filename), range="bytes=-10")
            assert tail.status == 206 and tail.headers["ETag"] == wheel.headers["ETag"]
            cached = get(
                pool,
                file_url(server, WHEEL.filename),
                **{"If-None-Match": wheel.headers["ETag"]},
            )
            assert cached.status == 304

    def test_none(self, pool: urllib3.PoolManager) -> None:
        with IndexServer([WHEEL], validators="none") as server:
            url = server.index_url + "demo-a/"
            page = get(pool, url, accept=JSON)
            assert "ETag" not in page.headers and "Last-Modified" not in page.headers
            conditional = {"If-None-Match": "*", "If-Modified-Since": self.NGINX_DATE}
            assert get(pool, url, accept=JSON, **conditional).status == 200
            wheel = get(pool, file_url(server, WHEEL.filename))
            assert "ETag" not in wheel.headers

    def test_html_never_carries_sizes(self, pool: urllib3.PoolManager) -> None:
        """PEP 700 sizes exist in JSON only; an HTML page (any flags) has none."""
        with IndexServer([WHEEL, SDIST], sizes=True) as server:
            html = get(pool, server.index_url + "demo-a/", accept=HTML).data.decode()
            assert "size" not in html.lower()
