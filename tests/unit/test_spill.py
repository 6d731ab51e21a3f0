"""A download's bytes come back exact whether the cache's disk took them all, refused
them part way through a write, or could not be used at all.

The refusal is real: ``RLIMIT_FSIZE`` makes this process's writes past N bytes fail
with ``EFBIG`` (after writing what fits), as a full disk fails them with ``ENOSPC``.
Nothing else writes files while a test holds the limit.
"""

from __future__ import annotations

import random
import resource
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lockgen.net.spill import Spill
from lockgen.store.cache import Cache

_DATA = random.Random(8).randbytes(300_000)
#: Not a divisor of the limit: the write that hits it is cut part way through.
_CHUNK = 7_001


@pytest.fixture
def file_size_limit() -> Iterator[Callable[[int], None]]:
    """Cap how far this process may grow a file, for one test."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    def limit(size: int) -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, hard))

    yield limit
    resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    signal.signal(signal.SIGXFSZ, previous)


def _write(sink: Spill) -> None:
    for start in range(0, len(_DATA), _CHUNK):
        sink.write(_DATA[start : start + _CHUNK])


def _read(sink: Spill) -> bytes:
    with sink.reader() as fh:
        return fh.read()


def _temp_files(cache: Path) -> list[str]:
    tmp = cache / "v1" / "tmp"
    return sorted(p.name for p in tmp.iterdir()) if tmp.exists() else []


def test_a_download_the_cache_takes_is_kept_there(tmp_path: Path) -> None:
    with Spill("x.whl", Cache(tmp_path / "cache")) as sink:
        _write(sink)
        assert sink.kept is not None and sink.kept.parent == tmp_path / "cache/v1/tmp"
        assert sink.kept.read_bytes() == _DATA
        assert _read(sink) == _DATA
    assert _temp_files(tmp_path / "cache") == []


def test_a_write_the_full_disk_cuts_short_moves_every_byte_to_the_spool(
    tmp_path: Path, file_size_limit: Callable[[int], None]
) -> None:
    cache = Cache(tmp_path / "cache")
    with Spill("x.whl", cache) as sink:
        file_size_limit(64 * 1024)
        _write(sink)
        assert sink.kept is None
        assert _temp_files(tmp_path / "cache") == []  # dropped as soon as it failed
        assert _read(sink) == _DATA


def test_no_cache_or_an_unusable_one_spools_from_the_start(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    for cache in (None, Cache(tmp_path / "file" / "cache")):
        with Spill("x.whl", cache) as sink:
            _write(sink)
            assert sink.kept is None
            assert _read(sink) == _DATA
