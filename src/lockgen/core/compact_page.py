"""A project page in its compact form: its file entries grouped by the version their
names say, each group one JSON text in a single byte string.

Why: a popular project's page holds tens of thousands of files and a lock reads a
few hundred. Kept as Python objects, every page of a 100-package lock cost about
100 MB; as JSON texts in one byte string, about a third of that, and a group is
decoded only when the resolver asks for its version. The same bytes are what the
cache keeps under the page's digest (:mod:`lockgen.store.listings`), so an unchanged
page (even from an index that sends no validators) costs a fetch and a hash, not a
parse.

A group is ``[[i, ...], [entry, ...]]``: the entries' indexes in the page's ``files``
(for errors that name them) and the entries, in PEP 691's shape (an HTML page's links
are written in it too). Nothing in a compact page has been checked: entries are read
and checked (:func:`lockgen.core.json_entries.read_entry`) when their group is, whether
it was made a moment ago or comes back from the cache.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.file_groups import FileGroups
from lockgen.core.json_entries import read_entry
from lockgen.core.simple_json import group_entries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    import msgspec

    from lockgen.core.models import DistFile
    from lockgen.core.simple_json import EntryGroups
    from lockgen.core.simple_page import Page

__all__ = ["CompactPage", "html_groups"]


@dataclass(frozen=True, slots=True)
class CompactPage:
    """Groups by version text: ``spans[text]`` is ``(offset, length)`` in ``blob``."""

    spans: Mapping[str, tuple[int, int]]
    blob: bytes

    @classmethod
    def of(cls, groups: EntryGroups) -> CompactPage:
        """The groups, each written as one JSON text, in page order (by msgspec,
        into one buffer: a quarter of what ``json.dumps`` and joins cost, over the
        thousands of groups of a big lock's pages)."""
        spans: dict[str, tuple[int, int]] = {}
        blob = bytearray()
        write = _encoder().encode_into
        for text, group in groups.items():
            offset = len(blob)
            write(group, blob, -1)  # [[i, ...], [entry, ...]]: entries as they came
            spans[text] = (offset, len(blob) - offset)
        return cls(spans, bytes(blob))

    @classmethod
    def checked(cls, spans: object, blob: bytes) -> CompactPage | None:
        """A compact page read back from the cache, or ``None`` when its spans are
        not ``[[text, offset, length], ...]`` inside ``blob``."""
        if type(spans) is not list:
            return None
        found: dict[str, tuple[int, int]] = {}
        for span in spans:
            if not (type(span) is list and len(span) == 3):
                return None
            text, offset, length = span
            if not (type(text) is str and type(offset) is int and type(length) is int):
                return None
            if offset < 0 or length < 0 or offset + length > len(blob):
                return None
            found[text] = (offset, length)
        return cls(found, blob)

    def span_list(self) -> list[list[object]]:
        """The spans as the cache stores them (see :meth:`checked`)."""
        return [[text, offset, length] for text, (offset, length) in self.spans.items()]

    def files(
        self, page: Page, keep: Callable[[Sequence[DistFile]], Iterable[DistFile]]
    ) -> FileGroups:
        """The page's files, each group read (and filtered by ``keep``) when first
        asked for; a broken entry is the page's error then."""
        return FileGroups(
            {text: _reader(self, text, page, keep) for text in self.spans}
        )

    def read(self, text: str, page: Page) -> list[DistFile]:
        """The records of one group (a corrupt cache entry is the page's error)."""
        offset, length = self.spans[text]
        try:
            group = json.loads(self.blob[offset : offset + length])
        except (ValueError, RecursionError):
            raise page.error("the cached listing is corrupt") from None
        if not (
            type(group) is list
            and len(group) == 2
            and type(group[0]) is list
            and type(group[1]) is list
            and len(group[0]) == len(group[1])
            and all(type(i) is int for i in group[0])
        ):
            raise page.error("the cached listing is corrupt")
        return [read_entry(i, entry, page) for i, entry in zip(*group, strict=True)]


def html_groups(files: Iterable[DistFile]) -> EntryGroups:
    """An HTML page's records as PEP 691 entries, grouped, so every page is kept
    alike (HTML gives no size and no upload time)."""
    import msgspec

    return group_entries(
        (d.filename, msgspec.Raw(json.dumps(_entry(d)).encode())) for d in files
    )


@functools.cache
def _encoder() -> msgspec.json.Encoder:
    """msgspec's JSON writer, made (and msgspec imported) when a page is first cut."""
    import msgspec

    return msgspec.json.Encoder()


def _entry(dist: DistFile) -> dict[str, object]:
    core = dist.core_metadata
    return {
        "filename": dist.filename,
        "url": dist.url,
        "hashes": {} if dist.sha256 is None else {"sha256": dist.sha256},
        "requires-python": dist.requires_python,
        "yanked": (dist.yanked_reason or True) if dist.yanked else False,
        "core-metadata": None if core is None else ({"sha256": core} if core else True),
    }


def _reader(
    compact: CompactPage,
    text: str,
    page: Page,
    keep: Callable[[Sequence[DistFile]], Iterable[DistFile]],
) -> Callable[[], Iterable[DistFile]]:
    return lambda: keep(compact.read(text, page))
