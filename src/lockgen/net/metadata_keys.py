"""Which cache entries may stand for a file's metadata, and under which key a fresh
read is stored: a key names what vouches for its entry (see
:mod:`lockgen.store.cache`), so metadata one index served never stands for another
index's file that merely claims the same sha256."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.models import DistKind, MetadataSource, parse_filename
from lockgen.store.cache import Cache

if TYPE_CHECKING:
    from lockgen.core.models import DistFile

__all__ = ["Read", "metadata_keys", "reads_artifact", "vouched_key"]


@dataclass(frozen=True, slots=True)
class Read:
    """Metadata as fetched, with what the fetch learnt about the artifact on the way:
    its size (a range read, a download), and its sha256 (a download)."""

    data: bytes
    source: MetadataSource
    artifact_size: int | None = None
    artifact_sha256: str | None = None


def reads_artifact(dist: DistFile) -> bool:
    """Whether this index makes reading ``dist``'s metadata go through the file itself
    (an sdist, or a wheel without an advertised PEP 658 file), learning its size."""
    parsed = parse_filename(dist.filename)
    sdist = parsed is not None and parsed.kind is DistKind.SDIST
    return sdist or dist.core_metadata is None


def metadata_keys(dist: DistFile, *, by_url: bool = True) -> list[str]:
    """The cache keys whose entries may stand for ``dist``'s metadata, best first:
    read from a whole file with ``dist``'s sha256, the PEP 658 file ``dist``'s index
    vouches for by hash, or (unless not ``by_url``) what was read from ``dist``'s
    own URL."""
    keys = [
        Cache.file_metadata_key(dist.sha256) if dist.sha256 else None,
        Cache.pep658_metadata_key(dist.core_metadata) if dist.core_metadata else None,
        Cache.url_metadata_key(dist.url, dist.sha256) if by_url else None,
    ]
    return [key for key in keys if key is not None]


def vouched_key(dist: DistFile, read: Read) -> str:
    """The key for what was just read: by what verified it (see :mod:`lockgen.store.cache`).

    A whole file hashes to ``dist.sha256`` (the download checked it) or the index
    listed no sha256, then only the URL vouches; a PEP 658 file was checked against
    its listed hash, when there was one; a range read is only as good as its server.
    """
    whole = read.source in (
        MetadataSource.WHOLE_FILE,
        MetadataSource.SDIST,
        MetadataSource.BUILT,  # built from the whole sdist, which the download checked
    )
    if whole and dist.sha256 and read.artifact_sha256 == dist.sha256.lower():
        key = Cache.file_metadata_key(read.artifact_sha256)
    elif read.source is MetadataSource.PEP658 and dist.core_metadata:
        key = Cache.pep658_metadata_key(dist.core_metadata)
    else:
        key = None
    return key or Cache.url_metadata_key(dist.url, dist.sha256)
