"""A project's files grouped by the version their names say, each group read into
:class:`~lockgen.core.models.DistFile` records only when it is first asked for.

A popular project lists tens of thousands of files over hundreds of versions, and a
lock looks at a few of those versions. Turning every JSON entry into a record (a URL
checked, a hash and an upload time parsed) was most of an ``--offline`` lock, so a
page is only cut into groups by the version text of each file name (a string split)
and a group is read when the resolver asks for that version. An entry that is broken
in a version nobody asks about is therefore never read, and never an error.

The version text is cut out exactly where :mod:`packaging.utils` cuts it, so a file
whose name parses lands in the group of its parsed version; a name packaging would
refuse anyway (an egg, an ``.exe``, a name without a version) is in no group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lockgen.core.singleflight import SingleFlight

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping

    from lockgen.core.models import DistFile

__all__ = ["FileGroups", "version_text"]


class FileGroups:
    """Files by the version text of their names, each group read once, on demand.

    Thread-safe: the prefetcher and the resolver may ask for the same group at once;
    it is read by one of them (a failure is raised to each asker, as a serial run
    would raise it).
    """

    def __init__(self, readers: Mapping[str, Callable[[], Iterable[DistFile]]]) -> None:
        self._readers = dict(readers)
        self._read: SingleFlight[str, tuple[DistFile, ...]] = SingleFlight()

    @classmethod
    def of(cls, files: Iterable[DistFile]) -> FileGroups:
        """Records already read (an HTML page, find-links, a test's list), grouped."""
        groups: dict[str, list[DistFile]] = {}
        for dist in files:
            text = version_text(dist.filename)
            if text is not None:
                groups.setdefault(text, []).append(dist)
        return cls({text: _constant(group) for text, group in groups.items()})

    @property
    def texts(self) -> tuple[str, ...]:
        """The version texts, in the order the page first names them."""
        return tuple(self._readers)

    def group(self, text: str) -> tuple[DistFile, ...]:
        """The files whose names say version ``text``, in page order."""
        reader = self._readers.get(text)
        if reader is None:
            return ()
        return self._read.get(text, lambda: tuple(reader()))

    def __iter__(self) -> Iterator[DistFile]:
        """Every file, group by group (reads them all: for explanations only)."""
        for text in self._readers:
            yield from self.group(text)

    def __bool__(self) -> bool:
        return bool(self._readers)

    def before(self, other: FileGroups) -> FileGroups:
        """These files, then ``other``'s whose names are not among them: find-links
        files before an index's, as pip and uv merge them (a file name is in one
        version's group only, so the names are compared group by group)."""
        texts = dict.fromkeys((*self._readers, *other._readers))
        return FileGroups({text: _merged(self, other, text) for text in texts})


def version_text(filename: str) -> str | None:
    """The version part of a wheel or sdist name, cut as packaging cuts it; ``None``
    when packaging would refuse the name's shape anyway."""
    if filename.endswith(".whl"):
        parts = filename[:-4].split("-")
        return parts[1] if len(parts) in (5, 6) else None
    if filename.endswith(".tar.gz"):
        stem = filename[: -len(".tar.gz")]
    elif filename.endswith(".zip"):
        stem = filename[: -len(".zip")]
    else:
        return None
    name, dash, version = stem.rpartition("-")
    return version if dash and name else None


def _constant(files: list[DistFile]) -> Callable[[], Iterable[DistFile]]:
    return lambda: files


def _merged(
    first: FileGroups, second: FileGroups, text: str
) -> Callable[[], Iterable[DistFile]]:
    def read() -> Iterable[DistFile]:
        mine = first.group(text)
        names = {dist.filename for dist in mine}
        return (*mine, *(d for d in second.group(text) if d.filename not in names))

    return read
