"""A project page in its compact form: its files as rows, grouped by the version
their names say, each group one JSON array in a single byte string.

Why: a popular project's page holds tens of thousands of files and a lock reads a
few hundred. Kept as Python objects, every page of a 100-package lock cost about
100 MB; as rows in one byte string, about a third of that, and a group is decoded
only when the resolver asks for its version. The same bytes are what the cache
keeps under the page's digest (:mod:`lockgen.store.listings`), so an unchanged page
(even from an index that sends no validators) costs a fetch and a hash, not a parse.

A compact page never holds a record that was checked: rows are checked as they are
read (:func:`lockgen.core.json_entries.row_file`), whether they were made a moment
ago or come back from the cache.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lockgen.core.file_groups import FileGroups, version_text
from lockgen.core.json_entries import row_file, row_filename

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

    from lockgen.core.models import DistFile
    from lockgen.core.simple_page import Page

__all__ = ["CompactPage", "dist_rows"]


@dataclass(frozen=True, slots=True)
class CompactPage:
    """Rows by version text: ``spans[text]`` is ``(offset, length)`` in ``blob``."""

    spans: Mapping[str, tuple[int, int]]
    blob: bytes

    @classmethod
    def of(cls, rows: Iterable[list[object]]) -> CompactPage:
        """Rows grouped by the version text of their file names, in page order; a
        row whose name says no version (an egg, a stray link) is in no group."""
        groups: dict[str, list[list[object]]] = {}
        for row in rows:
            filename = row_filename(row)
            text = version_text(filename) if type(filename) is str else None
            if text is not None:
                groups.setdefault(text, []).append(row)
        spans: dict[str, tuple[int, int]] = {}
        chunks: list[bytes] = []
        offset = 0
        for text, group in groups.items():
            chunk = json.dumps(group, separators=(",", ":")).encode()
            spans[text] = (offset, len(chunk))
            chunks.append(chunk)
            offset += len(chunk)
        return cls(spans, b"".join(chunks))

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
        asked for; a broken row is the page's error then."""
        return FileGroups(
            {text: _reader(self, text, page, keep) for text in self.spans}
        )

    def rows(self, text: str, page: Page) -> list[object]:
        """The rows of one group, decoded (a corrupt cache entry is the page's error)."""
        offset, length = self.spans[text]
        try:
            rows = json.loads(self.blob[offset : offset + length])
        except (ValueError, RecursionError):
            raise page.error("the cached listing is corrupt") from None
        if type(rows) is not list:
            raise page.error("the cached listing is corrupt")
        return rows


def dist_rows(files: Iterable[DistFile]) -> list[list[object]]:
    """An HTML page's records as rows, so every page is kept alike (HTML gives no
    upload time)."""
    return [
        [
            i,
            dist.filename,
            dist.url,
            dist.sha256,
            dist.size,
            None,
            dist.requires_python,
            (dist.yanked_reason or True) if dist.yanked else None,
            dist.core_metadata,
        ]
        for i, dist in enumerate(files)
    ]


def _reader(
    compact: CompactPage,
    text: str,
    page: Page,
    keep: Callable[[Sequence[DistFile]], Iterable[DistFile]],
) -> Callable[[], Iterable[DistFile]]:
    return lambda: keep([row_file(row, page) for row in compact.rows(text, page)])
