"""Tests for lockgen.store.cache: entries round-trip, bad entries vanish, writers never mix."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockgen.store.cache import (
    Cache,
    CachedMetadata,
    CachedPage,
    default_cache_dir,
    page_fingerprint,
)
from lockgen.store.entry import store
from lockgen.store.files import copy_into, new_temp, write_atomic
from lockgen.store.maintenance import OLD_LAYOUT
from lockgen.store.resolutions import Recorded

URL = "https://pypi.example/simple/demo/"
OTHER_URL = "https://pypi.example/simple/other/"
WHEEL = b"PK\x03\x04 not really a wheel, but bytes with a hash" * 100
WHEEL_SHA = hashlib.sha256(WHEEL).hexdigest()
FILE_KEY = f"file-{WHEEL_SHA}"
URL_KEY = Cache.url_metadata_key(URL, None)
MAGIC = b"lockgen-cache v1\n"
EMPTY = {
    "pages": (0, 0),
    "listings": (0, 0),
    "metadata": (0, 0),
    "artifacts": (0, 0),
    "hashes": (0, 0),
    "resolutions": (0, 0),
    "inputs": (0, 0),
    "settled": (0, 0),
    "build-envs": (0, 0),
    "build-logs": (0, 0),
    "git": (0, 0),
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_page(url: str = URL, **changes: object) -> CachedPage:
    fields: dict[str, Any] = {
        "url": url,
        "final_url": url,
        "content_type": "application/vnd.pypi.simple.v1+json",
        "etag": '"abc"',
        "last_modified": "Wed, 01 Jan 2026 00:00:00 GMT",
        "body": b'{"meta": {"api-version": "1.1"}, "files": []}',
    }
    fields.update(changes)
    return CachedPage(**fields)


def vars_of(page: CachedPage) -> dict[str, object]:
    """A page's fields as a cache entry's header names them."""
    return {
        "url": page.url,
        "final_url": page.final_url,
        "content_type": page.content_type,
        "etag": page.etag,
        "last_modified": page.last_modified,
        "missing": page.missing,
        "body": page.body,
    }


def page_file(root: Path, url: str = URL) -> Path:
    digest = sha(url.encode())
    return root / "v1" / "pages" / digest


def metadata_file(root: Path, key: str) -> Path:
    return root / "v1" / "metadata" / key


def artifact_file(root: Path, digest: str) -> Path:
    return root / "v1" / "artifacts" / digest


def hash_file_of(root: Path, url: str) -> Path:
    digest = sha(url.encode())
    return root / "v1" / "hashes" / digest


def temps(root: Path) -> list[Path]:
    tmp = root / "v1" / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


class TestPages:
    @pytest.mark.parametrize(
        ("etag", "last_modified"),
        [('"abc"', "Wed, 01 Jan 2026 00:00:00 GMT"), (None, None), (None, "x")],
    )
    def test_round_trip(
        self, cache: Cache, etag: str | None, last_modified: str | None
    ) -> None:
        page = make_page(
            etag=etag,
            last_modified=last_modified,
            final_url=URL + "?moved",
            body=bytes(range(256)) * 3,
        )
        cache.put_page(page)
        loaded = cache.get_page(URL)
        assert loaded == page
        assert loaded.sha256 == sha(page.body)  # checked on reading, kept
        assert page_file(cache.root, URL).is_file()
        assert temps(cache.root) == []

    def test_missing_page_is_none_and_creates_nothing(self, cache: Cache) -> None:
        assert cache.get_page(URL) is None
        assert cache.get_metadata(URL_KEY) is None
        assert cache.artifact_path(WHEEL_SHA) is None
        assert cache.info() == EMPTY
        assert not cache.root.exists()

    def test_newer_put_replaces_older(self, cache: Cache) -> None:
        cache.put_page(make_page(etag='"1"', body=b"one"))
        cache.put_page(make_page(etag='"2"', body=b"two"))
        assert cache.get_page(URL) == make_page(etag='"2"', body=b"two")
        assert cache.get_page(OTHER_URL) is None

    def test_entry_format(self, cache: Cache) -> None:
        cache.put_page(make_page(body=b"payload"))
        raw = page_file(cache.root).read_bytes()
        magic, header, body = raw.split(b"\n", 2)
        assert magic + b"\n" == MAGIC
        assert body == b"payload"
        fields = json.loads(header)
        assert fields["length"] == 7
        assert fields["sha256"] == sha(b"payload")
        assert fields["url"] == URL

    def test_a_compact_page_is_kept_without_its_body(self, cache: Cache) -> None:
        """A big page's body is its listing's business: the entry holds only what
        the page is (validators, final URL, content type) and its body's hash."""
        page = make_page(body=b"x" * 5000)
        cache.put_page(page, compact=True)
        raw = page_file(cache.root).read_bytes()
        assert b"xxx" not in raw and len(raw) < 1000
        loaded = cache.get_page(URL)
        assert loaded is not None
        assert (loaded.body, loaded.compact, loaded.sha256) == (
            b"",
            True,
            sha(page.body),
        )
        assert (loaded.etag, loaded.final_url) == (page.etag, page.final_url)
        # it says what the whole page says: a replay cannot tell them apart
        assert page_fingerprint(loaded) == page_fingerprint(page)

    @pytest.mark.parametrize(
        "damage",
        [
            lambda raw: raw.replace(b'"body_sha256": "', b'"body_sha256": "zz', 1),
            lambda raw: raw.replace(b'"body_sha256"', b'"other"', 1),
        ],
        ids=["bad-hash", "no-hash"],
    )
    def test_a_bad_compact_page_is_discarded(
        self, cache: Cache, damage: Callable[[bytes], bytes]
    ) -> None:
        cache.put_page(make_page(body=b"x" * 5000), compact=True)
        path = page_file(cache.root)
        raw = path.read_bytes()
        path.write_bytes(damage(raw))
        assert path.read_bytes() != raw
        assert cache.get_page(URL) is None
        assert not path.exists()

    def test_a_compact_page_with_a_body_is_discarded(self, cache: Cache) -> None:
        """A well-formed entry that says compact yet carries bytes is no page: which
        of the two would it say?"""
        header = {
            **{k: v for k, v in vars_of(make_page()).items() if k != "body"},
            "compact": True,
            "body_sha256": sha(b"x"),
        }
        path = page_file(cache.root)
        store(cache.root / "v1" / "tmp", path, header, b"x")
        assert path.is_file()
        assert cache.get_page(URL) is None
        assert not path.exists()

    def test_url_with_credentials_is_never_written(self, cache: Cache) -> None:
        secret = "https://user:hunter2@pypi.example/simple/demo/"
        cache.put_page(make_page(url=secret))
        cache.put_page(make_page(final_url=secret))
        assert not cache.root.exists()
        assert cache.get_page(secret) is None

    def test_unwritable_cache_is_ignored(self, tmp_path: Path) -> None:
        root = tmp_path / "a-file"
        root.write_bytes(b"not a directory")
        cache = Cache(root)
        cache.put_page(make_page())
        cache.put_metadata(URL_KEY, b"Name: x\n", "range")
        assert cache.get_page(URL) is None
        assert root.read_bytes() == b"not a directory"


class TestMetadata:
    def test_round_trip(self, cache: Cache) -> None:
        key = FILE_KEY
        cache.put_metadata(key, b"Metadata-Version: 2.1\nName: demo\n", "range")
        assert cache.get_metadata(key) == CachedMetadata(
            data=b"Metadata-Version: 2.1\nName: demo\n",
            source="range",
        )
        assert metadata_file(cache.root, key).is_file()
        assert cache.get_metadata(URL_KEY) is None

    def test_keys(self) -> None:
        assert Cache.file_metadata_key(WHEEL_SHA) == FILE_KEY
        assert Cache.file_metadata_key(WHEEL_SHA.upper()) == FILE_KEY
        assert Cache.pep658_metadata_key(WHEEL_SHA) == f"pep658-{WHEEL_SHA}"
        assert Cache.file_metadata_key("not-a-hash") is None
        assert Cache.pep658_metadata_key("../../x" + "0" * 56) is None
        assert URL_KEY.startswith("url-")
        assert Cache.url_metadata_key(OTHER_URL, None) != URL_KEY
        # bound to the sha256 the index listed: a replaced file is read again
        assert Cache.url_metadata_key(URL, WHEEL_SHA) != URL_KEY

    def test_pep658_entry_must_hash_to_its_key(self, cache: Cache) -> None:
        data = b"Metadata-Version: 2.1\nName: demo\n"
        key = Cache.pep658_metadata_key(sha(data))
        assert key is not None
        with pytest.raises(ValueError, match="does not hash to"):
            cache.put_metadata(key, data + b"Requires-Dist: evil\n", "pep658")
        cache.put_metadata(key, data, "pep658")
        assert cache.get_metadata(key) == CachedMetadata(data=data, source="pep658")
        # a planted entry (valid framing, other bytes) under the same key is refused
        other = Cache.pep658_metadata_key(sha(b"x"))
        assert other is not None
        cache.put_metadata(other, b"x", "pep658")
        metadata_file(cache.root, other).replace(metadata_file(cache.root, key))
        raw = metadata_file(cache.root, key).read_bytes()
        metadata_file(cache.root, key).write_bytes(
            raw.replace(other.encode(), key.encode())
        )
        assert cache.get_metadata(key) is None
        assert not metadata_file(cache.root, key).exists()

    def test_artifact_size_round_trip(self, cache: Cache) -> None:
        key = FILE_KEY
        cache.put_metadata(key, b"Name: demo\n", "range", 12345)
        hit = cache.get_metadata(key)
        assert hit is not None and hit.artifact_size == 12345

    def test_entry_from_before_artifact_size_reads_as_unknown(
        self, cache: Cache
    ) -> None:
        """An older lockgen wrote no ``artifact_size``: the entry stays usable."""
        key = FILE_KEY
        cache.put_metadata(key, b"Name: demo\n", "range", 7)
        path = metadata_file(cache.root, key)
        raw = path.read_bytes()
        old = raw.replace(b'"artifact_size": 7, ', b"", 1)
        assert old != raw
        path.write_bytes(old)
        assert cache.get_metadata(key) == CachedMetadata(
            data=b"Name: demo\n", source="range", artifact_size=None
        )

    @pytest.mark.parametrize("bad", [b'"7"', b"-1", b"true", b"1.5"])
    def test_bad_artifact_size_is_discarded(self, cache: Cache, bad: bytes) -> None:
        key = FILE_KEY
        cache.put_metadata(key, b"Name: demo\n", "range", 7)
        path = metadata_file(cache.root, key)
        raw = path.read_bytes()
        path.write_bytes(raw.replace(b'"artifact_size": 7', b'"artifact_size": ' + bad))
        assert cache.get_metadata(key) is None
        assert not path.exists()

    def test_foreign_key_is_refused(self, cache: Cache) -> None:
        with pytest.raises(ValueError, match="not a metadata cache key"):
            cache.put_metadata("../../escape", b"x", "range")
        assert cache.get_metadata("../../escape") is None
        assert not cache.root.exists()


def flip_payload_byte(raw: bytes) -> bytes:
    return raw[:-1] + bytes([raw[-1] ^ 0x01])


DAMAGE = {
    "flipped payload byte": flip_payload_byte,
    "truncated payload": lambda raw: raw[:-3],
    "truncated header": lambda raw: raw[: len(MAGIC) + 5],
    "extra bytes": lambda raw: raw + b"!",
    "wrong magic": lambda raw: b"lockgen-cache v0\n" + raw[len(MAGIC) :],
    "empty file": lambda raw: b"",
    "header not json": lambda raw: MAGIC + b"{nope\n" + raw.split(b"\n", 2)[2],
    "header not an object": lambda raw: MAGIC + b"[1, 2]\n",
    "length is a string": lambda raw: raw.replace(b'"length": ', b'"length": "', 1),
}


FILE_URL = "https://files.example/demo-1.0-py3-none-any.whl"


class TestUrlHashes:
    """What an unhashed http(s) file hashed to, recalled by its URL."""

    def test_round_trip(self, cache: Cache) -> None:
        assert cache.get_url_hash(FILE_URL) is None
        cache.put_url_hash(FILE_URL, WHEEL_SHA, len(WHEEL))
        assert cache.get_url_hash(FILE_URL) == (WHEEL_SHA, len(WHEEL))
        assert hash_file_of(cache.root, FILE_URL).is_file()
        assert cache.get_url_hash(FILE_URL + "?x") is None
        cache.put_url_hash(FILE_URL, sha(b"new"), 3)  # the file changed: replaced
        assert cache.get_url_hash(FILE_URL) == (sha(b"new"), 3)

    @pytest.mark.parametrize(
        "url",
        [
            "file:///srv/wheels/demo-1.0-py3-none-any.whl",
            "https://user:secret@files.example/demo-1.0-py3-none-any.whl",
            "https://token@files.example/demo-1.0-py3-none-any.whl",
            "ftp://files.example/demo-1.0-py3-none-any.whl",
            "http://[::1/demo-1.0-py3-none-any.whl",
        ],
    )
    def test_never_for_local_files_or_credentials(self, cache: Cache, url: str) -> None:
        cache.put_url_hash(url, WHEEL_SHA, len(WHEEL))
        assert cache.get_url_hash(url) is None
        assert not cache.root.exists()

    def test_bad_arguments_store_nothing(self, cache: Cache) -> None:
        cache.put_url_hash(FILE_URL, "not-a-hash", 1)
        cache.put_url_hash(FILE_URL, WHEEL_SHA, -1)
        assert not cache.root.exists()

    @pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
    def test_bad_entry_is_discarded(self, cache: Cache, damage: object) -> None:
        assert callable(damage)
        cache.put_url_hash(FILE_URL, WHEEL_SHA, len(WHEEL))
        path = hash_file_of(cache.root, FILE_URL)
        raw = path.read_bytes()
        path.write_bytes(damage(raw))
        assert cache.get_url_hash(FILE_URL) is None
        assert not path.exists()

    @pytest.mark.parametrize(
        ("field", "bad"),
        [
            (b'"artifact_size": 7', b'"artifact_size": -7'),
            (b'"artifact_size": 7', b'"artifact_size": "7"'),
            (b'"artifact_sha256": "', b'"artifact_sha256": "X'),
        ],
    )
    def test_bad_field_is_discarded(
        self, cache: Cache, field: bytes, bad: bytes
    ) -> None:
        cache.put_url_hash(FILE_URL, WHEEL_SHA, 7)
        path = hash_file_of(cache.root, FILE_URL)
        raw = path.read_bytes()
        path.write_bytes(raw.replace(field, bad, 1))
        assert path.read_bytes() != raw
        assert cache.get_url_hash(FILE_URL) is None
        assert not path.exists()

    def test_entry_under_another_url_is_discarded(self, cache: Cache) -> None:
        other = FILE_URL.replace("demo-1.0", "demo-2.0")
        cache.put_url_hash(other, WHEEL_SHA, 7)
        target = hash_file_of(cache.root, FILE_URL)
        target.parent.mkdir(parents=True, exist_ok=True)
        hash_file_of(cache.root, other).rename(target)
        assert cache.get_url_hash(FILE_URL) is None
        assert not target.exists()


def test_a_pages_fingerprint_is_what_it_says_not_how_it_was_validated() -> None:
    page = make_page()
    same = page_fingerprint(page)
    assert page_fingerprint(make_page(etag=None, last_modified=None)) == same
    assert page_fingerprint(page, sha(page.body)) == same
    for change in (
        {"body": page.body + b" "},
        {"final_url": URL + "?moved"},
        {"content_type": "text/html"},
    ):
        assert page_fingerprint(make_page(**change)) != same
    assert page_fingerprint(None) == "missing"
    assert page_fingerprint(make_page(missing=True, body=b"")) == "missing"


class TestResolutions:
    """Recorded resolutions (store/resolutions.py): fields of the wrong shape make the
    entry absent, like any other damage."""

    KEY = "ab" + "0" * 62
    RECORDED = Recorded(
        text='lock-version = "1.0"\n',
        packages=2,
        warnings=("a warning",),
        pages=((URL, "missing"), (OTHER_URL, "f" * 64)),
    )

    def path(self, cache: Cache) -> Path:
        return cache.root / "v1" / "resolutions" / self.KEY

    def rewrite(self, cache: Cache, fields: dict[str, Any]) -> None:
        body = json.dumps(fields).encode()
        header = {"key": self.KEY, "length": len(body), "sha256": sha(body)}
        self.path(cache).write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + body)

    def test_round_trip(self, cache: Cache) -> None:
        assert cache.get_resolution(self.KEY) is None
        cache.put_resolution(self.KEY, self.RECORDED)
        assert cache.get_resolution(self.KEY) == self.RECORDED
        assert cache.info()["resolutions"][0] == 1

    @pytest.mark.parametrize(
        ("name", "bad"),
        [
            ("text", None),
            ("packages", -1),
            ("packages", "2"),
            ("warnings", [1]),
            ("pages", [["only a URL"]]),
            ("pages", [[URL, 7]]),
            ("pages", {"url": "x"}),
        ],
    )
    def test_a_field_of_the_wrong_shape_is_discarded(
        self, cache: Cache, name: str, bad: object
    ) -> None:
        cache.put_resolution(self.KEY, self.RECORDED)
        fields = json.loads(self.path(cache).read_bytes().split(b"\n", 2)[2])
        fields[name] = bad
        self.rewrite(cache, fields)
        assert cache.get_resolution(self.KEY) is None
        assert not self.path(cache).exists()

    def test_an_entry_for_another_key_is_discarded(self, cache: Cache) -> None:
        other = "ab" + "1" * 62
        cache.put_resolution(other, self.RECORDED)
        self.path(cache).parent.mkdir(parents=True, exist_ok=True)
        (self.path(cache).parent / other).rename(self.path(cache))
        assert cache.get_resolution(self.KEY) is None


class TestBadEntries:
    @pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
    @pytest.mark.parametrize("kind", ["page", "resolution"])
    def test_a_fifo_in_place_of_an_entry_is_skipped_not_waited_on(
        self, tmp_path: Path, kind: str
    ) -> None:
        """Opening a FIFO for reading blocks until a writer comes: a planted one
        must not hang a lock (run in a child, so a regression fails, not hangs)."""
        root = tmp_path / "cache"
        if kind == "page":
            path = page_file(root)
            read = f"Cache(Path({str(root)!r})).get_page({URL!r})"
        else:
            path = root / "v1" / "resolutions" / ("ab" + "0" * 62)
            read = f"Cache(Path({str(root)!r})).get_resolution({path.name!r})"
        path.parent.mkdir(parents=True)
        os.mkfifo(path)
        code = (
            "from pathlib import Path\n"
            "from lockgen.store.cache import Cache\n"
            f"print({read})"
        )
        done = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
        assert (done.returncode, done.stdout) == (0, "None\n"), done.stderr
        assert not path.exists()  # discarded like any bad entry

    @pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
    def test_bad_page_is_discarded(self, cache: Cache, damage: object) -> None:
        assert callable(damage)
        cache.put_page(make_page())
        path = page_file(cache.root)
        path.write_bytes(damage(path.read_bytes()))
        assert cache.get_page(URL) is None
        assert not path.exists()
        cache.put_page(make_page())  # refetched and stored again
        assert cache.get_page(URL) == make_page()

    @pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
    def test_bad_metadata_is_discarded(self, cache: Cache, damage: object) -> None:
        assert callable(damage)
        key = FILE_KEY
        cache.put_metadata(key, b"Name: demo\n", "pep658")
        path = metadata_file(cache.root, key)
        path.write_bytes(damage(path.read_bytes()))
        assert cache.get_metadata(key) is None
        assert not path.exists()

    def test_wrong_field_type_is_discarded(self, cache: Cache) -> None:
        cache.put_page(make_page())
        path = page_file(cache.root)
        raw = path.read_bytes()
        path.write_bytes(raw.replace(b'"etag": "\\"abc\\""', b'"etag": 7', 1))
        assert path.read_bytes() != raw
        assert cache.get_page(URL) is None
        assert not path.exists()

    def test_page_under_another_url_is_discarded(self, cache: Cache) -> None:
        cache.put_page(make_page(url=OTHER_URL))
        target = page_file(cache.root, URL)
        target.parent.mkdir(parents=True, exist_ok=True)
        page_file(cache.root, OTHER_URL).rename(target)
        assert cache.get_page(URL) is None
        assert not target.exists()

    def test_metadata_under_another_key_is_discarded(self, cache: Cache) -> None:
        mine, theirs = URL_KEY, Cache.url_metadata_key("x", None)
        cache.put_metadata(theirs, b"Name: other\n", "range")
        target = metadata_file(cache.root, mine)
        target.parent.mkdir(parents=True, exist_ok=True)
        metadata_file(cache.root, theirs).rename(target)
        assert cache.get_metadata(mine) is None
        assert not target.exists()

    def test_discard_spares_a_file_replaced_meanwhile(self, cache: Cache) -> None:
        from lockgen.store.entry import _discard, _stamp

        cache.put_page(make_page(body=b"old"))
        path = page_file(cache.root)
        stale = _stamp(path.stat())
        cache.put_page(make_page(body=b"a newer, good entry"))
        _discard(path, stale)
        assert cache.get_page(URL) == make_page(body=b"a newer, good entry")


class TestArtifacts:
    def test_same_filesystem_is_a_hard_link(self, cache: Cache, tmp_path: Path) -> None:
        source = tmp_path / "demo-1.0-py3-none-any.whl"
        source.write_bytes(WHEEL)
        cache.add_artifact(source, WHEEL_SHA)
        stored = cache.artifact_path(WHEEL_SHA)
        assert stored == artifact_file(cache.root, WHEEL_SHA)
        assert stored.stat().st_ino == source.stat().st_ino
        assert stored.read_bytes() == WHEEL
        assert temps(cache.root) == []

    def test_adding_the_linked_file_again_leaves_no_temp(
        self, cache: Cache, tmp_path: Path
    ) -> None:
        source = tmp_path / "demo.whl"
        source.write_bytes(WHEEL)
        cache.add_artifact(source, WHEEL_SHA)
        cache.add_artifact(source, WHEEL_SHA)  # rename of a link onto itself: no-op
        assert cache.artifact_path(WHEEL_SHA) is not None
        assert temps(cache.root) == []

    def test_copy_path(self, cache: Cache, tmp_path: Path) -> None:
        source = tmp_path / "demo.whl"
        source.write_bytes(WHEEL)
        final = artifact_file(cache.root, WHEEL_SHA)
        final.parent.mkdir(parents=True)
        copy_into(cache.root / "v1" / "tmp", source, final)
        stored = cache.artifact_path(WHEEL_SHA)
        assert stored == final
        assert stored.stat().st_ino != source.stat().st_ino
        assert stored.read_bytes() == WHEEL
        assert temps(cache.root) == []

    def test_missing_source_raises_and_leaves_nothing(
        self, cache: Cache, tmp_path: Path
    ) -> None:
        with pytest.raises(FileNotFoundError):
            cache.add_artifact(tmp_path / "gone.whl", WHEEL_SHA)
        assert cache.artifact_path(WHEEL_SHA) is None
        assert temps(cache.root) == []

    def test_bad_hash_argument(self, cache: Cache, tmp_path: Path) -> None:
        source = tmp_path / "demo.whl"
        source.write_bytes(WHEEL)
        with pytest.raises(ValueError, match="sha256"):
            cache.add_artifact(source, "../../etc/passwd")
        with pytest.raises(ValueError, match="sha256"):
            cache.add_artifact(source, WHEEL_SHA.upper())
        assert cache.artifact_path("../../etc/passwd") is None
        cache.discard_artifact("../../etc/passwd")
        assert source.exists()

    def test_empty_file_is_not_an_artifact(self, cache: Cache) -> None:
        final = artifact_file(cache.root, WHEEL_SHA)
        final.parent.mkdir(parents=True)
        final.write_bytes(b"")
        assert cache.artifact_path(WHEEL_SHA) is None

    def test_discard(self, cache: Cache, tmp_path: Path) -> None:
        source = tmp_path / "demo.whl"
        source.write_bytes(WHEEL)
        cache.add_artifact(source, WHEEL_SHA)
        cache.discard_artifact(WHEEL_SHA)
        assert cache.artifact_path(WHEEL_SHA) is None
        assert source.read_bytes() == WHEEL
        cache.discard_artifact(WHEEL_SHA)  # already gone: fine

    def test_stream_into_temp_then_add(self, cache: Cache) -> None:
        fh, temp = cache.temp_file()
        with fh:
            fh.write(WHEEL)
        assert temp.parent == cache.root / "v1" / "tmp"
        cache.add_artifact(temp, WHEEL_SHA)  # how a kept download goes in (Spill)
        final = cache.artifact_path(WHEEL_SHA)
        assert final == artifact_file(cache.root, WHEEL_SHA)
        assert final.read_bytes() == WHEEL
        assert final.stat().st_ino == temp.stat().st_ino  # a link, not a copy
        temp.unlink()
        assert temps(cache.root) == []

    def test_concurrent_adds_of_one_hash(self, cache: Cache, tmp_path: Path) -> None:
        sources = []
        for n in range(8):
            source = tmp_path / f"copy{n}.whl"
            source.write_bytes(WHEEL)
            sources.append(source)
        final = artifact_file(cache.root, WHEEL_SHA)
        final.parent.mkdir(parents=True)
        workers = [
            threading.Thread(target=cache.add_artifact, args=(s, WHEEL_SHA))
            for s in sources
        ]
        workers.append(
            threading.Thread(
                target=copy_into, args=(cache.root / "v1" / "tmp", sources[0], final)
            )
        )
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert final.read_bytes() == WHEEL
        assert temps(cache.root) == []


class TestMaintenance:
    def fill(self, cache: Cache, tmp_path: Path) -> Path:
        cache.put_page(make_page(body=b"one"))
        cache.put_page(make_page(url=OTHER_URL, body=b"two" * 100))
        cache.put_metadata(URL_KEY, b"Name: demo\n", "range")
        copied = tmp_path / "copied.whl"
        copied.write_bytes(WHEEL)
        cache.add_artifact(copied, WHEEL_SHA)
        copied.unlink()  # the cache now holds the only link
        linked = tmp_path / "linked.whl"
        linked.write_bytes(b"another artifact")
        cache.add_artifact(linked, sha(b"another artifact"))
        return linked

    def test_info(self, cache: Cache, tmp_path: Path) -> None:
        self.fill(cache, tmp_path)
        info = cache.info()
        for kind, count in (("pages", 2), ("metadata", 1), ("artifacts", 2)):
            files = [p for p in (cache.root / "v1" / kind).rglob("*") if p.is_file()]
            assert len(files) == count
            assert info[kind] == (count, sum(p.stat().st_size for p in files))
        assert info["artifacts"][1] == len(WHEEL) + len(b"another artifact")

    def test_clean_removes_every_entry(self, cache: Cache, tmp_path: Path) -> None:
        linked = self.fill(cache, tmp_path)
        v1 = cache.root / "v1"
        expected = sum(
            p.stat().st_size for p in v1.rglob("*") if p.is_file() and p != linked
        ) - len(b"another artifact")  # still linked from tmp_path: frees nothing
        (cache.root / "keep-me").write_text("not ours")
        assert cache.clean() == (expected, 0)
        assert not v1.exists()
        assert (cache.root / "keep-me").read_text() == "not ours"
        assert linked.read_bytes() == b"another artifact"
        assert cache.info() == EMPTY
        assert cache.get_page(URL) is None
        assert cache.clean() == (0, 0)

    def test_clean_never_follows_a_symlink_out_of_the_cache(
        self, cache: Cache, tmp_path: Path
    ) -> None:
        """Links planted in the cache (a shared CI cache is writable by others)
        are removed as links; what they point at is left alone."""
        outside = tmp_path / "outside"
        (outside / "sub").mkdir(parents=True)
        (outside / "precious").write_text("keep")
        (outside / "sub" / "deep").write_text("keep")
        artifacts = cache.root / "v1" / "artifacts" / "ab"
        artifacts.mkdir(parents=True)
        (artifacts / "to-dir").symlink_to(outside, target_is_directory=True)
        (artifacts / "to-file").symlink_to(outside / "precious")
        (cache.root / "v1" / "tmp").symlink_to(outside, target_is_directory=True)
        cache.clean()
        assert (outside / "precious").read_text() == "keep"
        assert (outside / "sub" / "deep").read_text() == "keep"
        assert not (artifacts / "to-dir").is_symlink()
        assert not (artifacts / "to-file").is_symlink()

    def test_clean_keeps_fresh_temp_files(self, cache: Cache) -> None:
        fresh_fh, fresh = cache.temp_file()
        stale_fh, stale = cache.temp_file()
        with fresh_fh, stale_fh:
            stale_fh.write(b"x" * 10)
        two_hours_ago = time.time() - 7200
        os.utime(stale, (two_hours_ago, two_hours_ago))
        assert cache.clean() == (10, 0)
        assert fresh.exists()
        assert not stale.exists()


class TestDefaultCacheDir:
    @pytest.mark.parametrize("platform", ["linux", "darwin", "win32", "freebsd14"])
    def test_explicit_setting_wins(self, platform: str) -> None:
        environ = {"LOCKGEN_CACHE_DIR": "/srv/cache", "XDG_CACHE_HOME": "/x"}
        assert default_cache_dir(environ, platform) == Path("/srv/cache")

    @pytest.mark.parametrize(
        ("platform", "environ", "expected"),
        [
            ("linux", {"HOME": "/home/u", "XDG_CACHE_HOME": "/xdg"}, "/xdg/lockgen"),
            ("linux", {"HOME": "/home/u"}, "/home/u/.cache/lockgen"),
            ("linux", {"HOME": "/home/u", "XDG_CACHE_HOME": ""}, "/home/u/.cache/lockgen"),
            ("linux", {"HOME": "/h", "XDG_CACHE_HOME": "rel"}, "/h/.cache/lockgen"),
            ("freebsd14", {"HOME": "/home/u"}, "/home/u/.cache/lockgen"),
            ("linux", {"HOME": "/h", "LOCKGEN_CACHE_DIR": ""}, "/h/.cache/lockgen"),
            ("darwin", {"HOME": "/Users/u"}, "/Users/u/Library/Caches/lockgen"),
            ("win32", {"LOCALAPPDATA": "/C/Users/u/AppData/Local"},
             "/C/Users/u/AppData/Local/lockgen/Cache"),
            ("win32", {"USERPROFILE": "/C/Users/u", "HOME": "/msys/home/u"},
             "/C/Users/u/AppData/Local/lockgen/Cache"),
        ],
    )  # fmt: skip
    def test_platform_default(
        self, platform: str, environ: dict[str, str], expected: str
    ) -> None:
        assert default_cache_dir(environ, platform) == Path(expected)


WRITER = """
import sys
from pathlib import Path
from lockgen.store.cache import Cache, CachedPage
cache, tag = Cache(Path(sys.argv[1])), sys.argv[2]
for _ in range(2):
    for i in range(200):
        url = f"https://pypi.example/simple/p{i}/"
        body = f"{tag}:{i};".encode() * (20 + (37 * i) % 400)
        cache.put_page(CachedPage(url=url, final_url=url, content_type="t",
                                  etag=tag, last_modified=None, body=body))
        cache.put_metadata(Cache.url_metadata_key(url, None), body, tag)
"""


def expected_body(tag: str, i: int) -> bytes:
    return f"{tag}:{i};".encode() * (20 + (37 * i) % 400)


def check_consistent(cache: Cache, i: int) -> tuple[bool, bool]:
    """Assert entry ``i`` is absent or wholly one writer's; returns which were present."""
    url = f"https://pypi.example/simple/p{i}/"
    page = cache.get_page(url)
    if page is not None:
        assert page.etag in ("A", "B")
        assert page.body == expected_body(page.etag, i)
    metadata = cache.get_metadata(Cache.url_metadata_key(url, None))
    if metadata is not None:
        assert metadata.source in ("A", "B")
        assert metadata.data == expected_body(metadata.source, i)
    return page is not None, metadata is not None


def test_two_writer_processes_and_a_reader(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(cache.root), tag])
        for tag in ("A", "B")
    ]
    while any(w.poll() is None for w in writers):
        for i in range(200):
            check_consistent(cache, i)
    assert [w.wait() for w in writers] == [0, 0]
    assert all(check_consistent(cache, i) == (True, True) for i in range(200))
    assert cache.info()["pages"][0] == 200
    assert cache.info()["metadata"][0] == 200
    assert temps(cache.root) == []


class TestAtomicWrites:
    """:func:`lockgen.store.files.write_atomic`: one entry in one ``writev``, its
    directories made once per process, and made again if removed meanwhile."""

    def test_entries_land_whole_and_leave_no_temp(self, tmp_path: Path) -> None:
        tmp, kind = tmp_path / "v1" / "tmp", tmp_path / "v1" / "pages"
        big = os.urandom(3 * 1024 * 1024)
        for n in range(50):
            write_atomic(tmp, kind / f"e{n}", (b"head\n", str(n).encode(), big))
        assert sorted(p.name for p in kind.iterdir()) == sorted(
            f"e{n}" for n in range(50)
        )
        assert (kind / "e7").read_bytes() == b"head\n7" + big
        assert list(tmp.iterdir()) == []

    def test_directories_removed_meanwhile_are_made_again(self, tmp_path: Path) -> None:
        """Another process's ``cache clean`` between two writes costs nothing."""
        root = tmp_path / "v1"
        write_atomic(root / "tmp", root / "pages" / "a", (b"1",))
        shutil.rmtree(root)
        write_atomic(root / "tmp", root / "pages" / "b", (b"2",))
        assert (root / "pages" / "b").read_bytes() == b"2"
        shutil.rmtree(root / "tmp")
        fd, temp = new_temp(root / "tmp")
        os.close(fd)
        assert temp.parent == root / "tmp"

    def test_temp_names_are_fresh_across_threads(self, tmp_path: Path) -> None:
        names: list[str] = []

        def make() -> None:
            for _ in range(100):
                fd, path = new_temp(tmp_path)
                os.close(fd)
                names.append(path.name)

        threads = [threading.Thread(target=make) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(names)) == len(names) == 400

    @pytest.mark.parametrize("removed", ["cache", "tmp"])
    def test_an_artifact_is_linked_after_its_folders_were_removed(
        self, tmp_path: Path, removed: str
    ) -> None:
        """hydrate went on storing nothing once the cache was removed under it, and
        a removed ``tmp`` alone made it copy the file instead of linking it."""
        cache = Cache(tmp_path / "cache")
        source = tmp_path / "demo.whl"
        source.write_bytes(WHEEL)
        cache.add_artifact(source, WHEEL_SHA)
        cache.discard_artifact(WHEEL_SHA)
        shutil.rmtree(cache.root if removed == "cache" else cache.root / "v1" / "tmp")
        cache.add_artifact(source, WHEEL_SHA)
        stored = cache.artifact_path(WHEEL_SHA)
        assert stored is not None and stored.read_bytes() == WHEEL
        assert stored.stat().st_ino == source.stat().st_ino

    @pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
    @pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads
    def test_a_forked_child_names_its_temp_files_apart(self, tmp_path: Path) -> None:
        """With its parent's sequence, a child made the very names its parent made,
        and a name removed after a rename could be the other's fresh temp file."""
        fd, mine = new_temp(tmp_path)
        os.close(fd)
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover (the child)
            try:
                fd, theirs = new_temp(tmp_path)
                os.close(fd)
                os.write(write, theirs.name.encode())
            finally:
                os._exit(0)
        os.close(write)
        os.waitpid(pid, 0)
        theirs_name = os.read(read, 200).decode()
        os.close(read)
        fd, again = new_temp(tmp_path)
        os.close(fd)
        names = {mine.name, theirs_name, again.name}
        assert len(names) == 3
        assert len({name[:12] for name in names}) == 2  # two prefixes, one each


def test_clean_while_another_lockgen_writes_is_no_failure(tmp_path: Path) -> None:
    """What is written meanwhile is left, and not reported as unremovable (a second
    look after cleaning reported a busy shared cache as not writable)."""
    cache = Cache(tmp_path / "cache")
    for n in range(200):
        cache.put_page(make_page(f"https://pypi.example/simple/p{n}/"))
    done = threading.Event()

    def write() -> None:
        n = 0
        while not done.is_set():
            n += 1
            cache.put_page(make_page(f"https://pypi.example/simple/w{n}/"))

    writer = threading.Thread(target=write)
    writer.start()
    try:
        kept = [cache.clean().kept for _ in range(5)]
    finally:
        done.set()
        writer.join()
    assert kept == [0] * 5


def test_info_counts_the_old_layout_apart(tmp_path: Path) -> None:
    """Entries an earlier lockgen kept in shard subdirectories are never read: they
    are not counted as entries of their kind, but shown (clean removes them)."""
    cache = Cache(tmp_path / "cache")
    cache.put_page(make_page())
    old = page_file(cache.root, OTHER_URL)
    shard = old.parent / old.name[:2]
    shard.mkdir()
    (shard / old.name).write_bytes(b"x" * 10)
    info = cache.info()
    assert info["pages"][0] == 1
    assert info[OLD_LAYOUT] == (1, 10)
    assert cache.get_page(OTHER_URL) is None
    cache.clean()
    assert cache.info() == EMPTY
