"""Fetching one artifact offline: the same error as the index client's, nothing written."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import pytest

from lockgen.core.errors import OfflineError
from lockgen.core.models import Artifact, DistKind
from lockgen.net.download import fetch
from lockgen.net.transport import HttpClient
from lockgen.store.cache import Cache

WHEEL = b"PK\x03\x04 not really a wheel" * 10
FILENAME = "demo-1.0-py3-none-any.whl"


def _artifact(url: str | None, path: Path | None = None) -> Artifact:
    return Artifact(
        package="demo",  # type: ignore[arg-type]
        filename=FILENAME,
        kind=DistKind.WHEEL,
        url=url,
        path=path,
        size=len(WHEEL),
        sha256=hashlib.sha256(WHEEL).hexdigest(),
        metadata=None,
    )


def _fetch(artifact: Artifact, dest: Path, cache: Cache) -> str:
    fetched = fetch(
        HttpClient(),
        artifact,
        dest,
        on_bytes=lambda _n: None,
        cancelled=threading.Event(),
        cache=cache,
        offline=True,
    )
    return fetched.status


def test_offline_and_not_cached_is_the_offline_error(tmp_path: Path) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    artifact = _artifact(f"https://example.invalid/files/{FILENAME}")
    message = f"^{FILENAME}: offline, and it is not cached$"
    with pytest.raises(OfflineError, match=message):
        _fetch(artifact, dest, Cache(tmp_path / "cache"))
    assert list(dest.iterdir()) == []
    assert not (tmp_path / "cache").exists()


def test_offline_uses_the_cache_and_local_files(tmp_path: Path) -> None:
    (tmp_path / "dest").mkdir()
    local = tmp_path / FILENAME
    local.write_bytes(WHEEL)
    cache = Cache(tmp_path / "cache")
    cache.add_artifact(local, hashlib.sha256(WHEEL).hexdigest())
    remote = _artifact(f"https://example.invalid/files/{FILENAME}")
    assert _fetch(remote, tmp_path / "dest", cache) == "from-cache"
    (tmp_path / "dest" / FILENAME).unlink()
    empty = Cache(tmp_path / "empty")
    assert _fetch(_artifact(None, local), tmp_path / "dest", empty) == "fetched"
    assert (tmp_path / "dest" / FILENAME).read_bytes() == WHEEL
    assert not empty.root.exists()  # a local file is on disk already: not kept
