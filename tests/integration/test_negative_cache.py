"""An index's 404 is cached as what it is: a page marked ``missing``, not a fake
content type, so a warm or offline run knows which index lacks a project."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from packaging.utils import canonicalize_name

from lockgen.net.index import CacheMode, IndexClient
from lockgen.net.transport import HttpClient
from lockgen.store.cache import Cache, CachedPage
from tests.conftest import ServerFactory
from tests.support.wheels import make_wheel

APP = canonicalize_name("app")


def test_a_404_is_cached_as_a_missing_page(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    private = make_server([make_wheel("other", "1.0")])
    public = make_server([make_wheel("app", "1.0")])
    indexes = [private.index_url, public.index_url]
    warm = IndexClient(HttpClient(), indexes, cache=Cache(tmp_path))
    assert [d.filename for d in warm.list_files(APP)] == ["app-1.0-py3-none-any.whl"]
    entry = Cache(tmp_path).get_page(f"{private.index_url}app/")
    assert entry is not None
    assert entry.missing
    assert (entry.content_type, entry.body) == ("", b"")
    private.clear_log()
    public.clear_log()
    offline = IndexClient(
        HttpClient(), indexes, cache=Cache(tmp_path), mode=CacheMode.OFFLINE
    )
    assert len(tuple(offline.list_files(APP))) == 1
    assert private.requests == public.requests == []


def test_an_older_lockgens_not_found_entry_still_means_missing(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Caches written before the ``missing`` field keep working offline."""
    private = make_server([make_wheel("other", "1.0")])
    public = make_server([make_wheel("app", "1.0")])
    indexes = [private.index_url, public.index_url]
    IndexClient(HttpClient(), indexes, cache=Cache(tmp_path)).list_files(APP)
    url = f"{private.index_url}app/"
    old = CachedPage(
        url=url,
        final_url=url,
        content_type="application/x-lockgen-not-found",
        etag=None,
        last_modified=None,
        body=b"",
    )
    Cache(tmp_path).put_page(old)
    assert Cache(tmp_path).get_page(url) == replace(old, missing=True)
    offline = IndexClient(
        HttpClient(), indexes, cache=Cache(tmp_path), mode=CacheMode.OFFLINE
    )
    assert len(tuple(offline.list_files(APP))) == 1
