"""A big JSON page's entries are read a version at a time, as the resolver asks (issue 10).

The proof that files of versions nobody asks about are never read: an entry broken
in an old version (a bad sha256, a negative size) does not stop a lock of the newest
one, and is still the page's one-line error when that old version is asked for.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

import lockgen
from lockgen.core.simple_api import compact_project_page
from lockgen.net import index_pages
from lockgen.net.index_pages import COMPACT_FROM
from tests.conftest import ServerFactory
from tests.support.wheels import make_wheel

Run = Callable[..., Result]

NEW = make_wheel("app", "3.0")


def _index(make_server: ServerFactory, **options: Any) -> str:
    """An index whose ``app`` page lists a good 3.0 and a broken 1.0 entry."""
    server = make_server([NEW], **options)
    files = [
        {
            "filename": "app-1.0-py3-none-any.whl",
            "url": f"{server.url}/files/app-1.0-py3-none-any.whl",
            "hashes": {"sha256": "not-a-sha256"},
            "size": -1,
        },
        {
            "filename": NEW.filename,
            "url": f"{server.url}/files/{NEW.filename}",
            "hashes": {"sha256": NEW.sha256},
            "size": len(NEW.data),
        },
    ]
    # older releases enough to make the page big (small pages are read whole)
    files[1:1] = [
        {
            "filename": f"app-0.{n}-py3-none-any.whl",
            "url": f"{server.url}/files/app-0.{n}-py3-none-any.whl",
            "hashes": {"sha256": f"{n:064x}"},
        }
        for n in range(COMPACT_FROM // 150)
    ]
    page = {"meta": {"api-version": "1.1"}, "name": "app", "files": files}
    server.pages["/lazy/app/"] = (
        "application/vnd.pypi.simple.v1+json",
        json.dumps(page).encode(),
    )
    return f"{server.url}/lazy/"


def _counted_cuts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs of the pages cut into their compact form from now on, in order."""
    cuts: list[str] = []
    real = compact_project_page

    def counted(content: bytes, content_type: str, page_url: str, **kw: str) -> Any:
        cuts.append(page_url)
        return real(content, content_type, page_url, **kw)

    monkeypatch.setattr(index_pages, "compact_project_page", counted)
    return cuts


def test_a_broken_entry_of_a_version_never_asked_for_is_never_read(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = _index(make_server)
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", index)
    assert result.exit_code == 0, result.output
    assert NEW.sha256 in (tmp_path / "pylock.toml").read_text()


def test_the_broken_entry_is_an_error_once_its_version_is_asked_for(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = _index(make_server)
    (tmp_path / "r.in").write_text("app==1.0\n")
    result = lockgen("lock", "r.in", "-i", index)
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: ") and "files[0]" in line, line
    assert "Traceback" not in result.output
    assert not (tmp_path / "pylock.toml").exists()


def test_a_big_page_is_cached_in_its_compact_form_and_a_small_one_is_not(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = _index(make_server)
    small = make_server([make_wheel("lib", "1.0")])
    (tmp_path / "r.in").write_text("app\nlib\n")
    result = lockgen("lock", "r.in", "-i", index, "--extra-index-url", small.index_url)
    assert result.exit_code == 0, result.output
    cache = Path(os.environ["LOCKGEN_CACHE_DIR"]) / "v1"
    assert len([p for p in (cache / "listings").rglob("*") if p.is_file()]) == 1
    shutil.rmtree(cache / "resolutions")  # resolve again: no replay of the first
    again = lockgen(
        "lock",
        "r.in",
        "-i",
        index,
        "--extra-index-url",
        small.index_url,
        "--offline",
        "-o",
        "pylock.again.toml",
    )
    assert again.exit_code == 0, again.output
    # the offline lock read the big page's compact form back: the same lock
    again_text = (tmp_path / "pylock.again.toml").read_text()
    assert again_text == (tmp_path / "pylock.toml").read_text()


@pytest.mark.parametrize("validators", ["sha", "none"])
def test_an_unchanged_big_page_is_parsed_once_across_runs(
    make_server: ServerFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    validators: str,
) -> None:
    """A second lock reads the big page's compact form from the cache, whether the
    index answers 304 (``sha``) or sends the same bytes again (``none``, as the
    public index does): the page is cut into its entries once, in the first run."""
    index = _index(make_server, validators=validators)
    cuts = _counted_cuts(monkeypatch)
    first = lockgen.dumps(lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path))
    assert cuts == [f"{index}app/"]
    shutil.rmtree(tmp_path / "v1" / "resolutions")  # resolve again: no replay
    second = lockgen.dumps(lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path))
    assert cuts == [f"{index}app/"]  # not cut again
    assert second == first


def test_the_same_page_again_is_not_written_again(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """An index without validators sends the whole page on every run; when the
    bytes are the ones cached, the entry is left as it is (no 7 MB rewrite for the
    biggest real pages)."""
    index = _index(make_server, validators="none")
    lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path)
    (entry,) = (p for p in (tmp_path / "v1" / "pages").rglob("*") if p.is_file())
    before = entry.stat()
    lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path)
    after = entry.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_big_page_is_cached_without_its_body(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Its compact form says what it says: the entry keeps the validators and the
    body's hash, so the biggest real pages (7 MB) are not written twice, nor read
    and hashed again by every warm and offline lock."""
    index = _index(make_server)
    lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path)
    (entry,) = (p for p in (tmp_path / "v1" / "pages").rglob("*") if p.is_file())
    assert entry.stat().st_size < 1024
    (listing,) = (p for p in (tmp_path / "v1" / "listings").rglob("*") if p.is_file())
    assert listing.stat().st_size > COMPACT_FROM


@pytest.mark.parametrize("validators", ["sha", "none"])
def test_a_big_page_whose_compact_form_is_gone_is_fetched_whole_again(
    make_server: ServerFactory,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    validators: str,
) -> None:
    """With only the bodiless entry left, a 304 proves nothing lockgen can read: the
    page is asked for again without validators, cut again, and the lock is the
    same."""
    index = _index(make_server, validators=validators)
    cuts = _counted_cuts(monkeypatch)
    first = lockgen.dumps(lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path))
    for gone in ("listings", "resolutions"):
        shutil.rmtree(tmp_path / "v1" / gone)
    second = lockgen.dumps(lockgen.lock(["app"], indexes=[index], cache_dir=tmp_path))
    assert second == first
    assert cuts == [f"{index}app/"] * 2


def test_offline_a_big_page_whose_compact_form_is_gone_is_not_cached(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = _index(make_server)
    (tmp_path / "r.in").write_text("app\n")
    assert lockgen("lock", "r.in", "-i", index).exit_code == 0
    cache = Path(os.environ["LOCKGEN_CACHE_DIR"]) / "v1"
    for gone in ("listings", "resolutions"):
        shutil.rmtree(cache / gone)
    result = lockgen("lock", "r.in", "-i", index, "--offline", "-o", "pylock.b.toml")
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line == f"error: offline, and the index page {index}app/ is not cached"
    assert not (tmp_path / "pylock.b.toml").exists()
