"""PEP 691 JSON project pages: the checks every page must pass, then its entries,
read into DistFile records (:func:`parse_json`) or cut into groups by version for a
lazy listing (:func:`json_groups`, kept by :mod:`lockgen.core.compact_page`). One
entry's reading is :mod:`lockgen.core.json_entries`.

Cutting a page into groups needs each entry's file name and its text, not its
values. ``json.loads`` of a big page builds every string of every entry (0.3 s for
the 36 MB of pages of a 105-package lock here), and the groups were then encoded
again (0.2 s more). msgspec reads the same pages as a file name per entry plus each
entry's raw JSON text in 0.06 s, and a group is the raw texts joined: the entries are
decoded with the standard library when their version is asked for, so msgspec
decides nothing but where an entry begins and ends. Anything msgspec refuses (a page
that is not an object, an entry without a string file name, JSON it is stricter
about) is read the standard way, which accepts or refuses it in the words
:func:`parse_json` uses.
"""

from __future__ import annotations

import functools
import json
from types import GenericAlias
from typing import TYPE_CHECKING, Any, TypeAlias

from lockgen.core.file_groups import version_text
from lockgen.core.json_entries import read_entry
from lockgen.core.simple_page import check_api_version

if TYPE_CHECKING:
    from collections.abc import Iterable

    import msgspec

    from lockgen.core.models import DistFile
    from lockgen.core.simple_page import Page

__all__ = ["JSON_TYPES", "EntryGroups", "group_entries", "json_groups", "parse_json"]

JSON_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json"}
)

#: Version text -> (the entries' indexes in ``files``, their JSON texts).
EntryGroups: TypeAlias = "dict[str, tuple[list[int], list[msgspec.Raw]]]"


@functools.cache
def _decoders() -> tuple[msgspec.json.Decoder[Any], msgspec.json.Decoder[Any]]:
    """msgspec's two readers of a page: a file name per entry, and each entry's
    text. Made (and msgspec imported) on first use: only big pages need them."""
    import msgspec

    # made with defstruct: class statements here would have string annotations
    # (``from __future__ import annotations``) that msgspec cannot resolve
    name = msgspec.defstruct("Name", [("filename", str)])
    names = msgspec.defstruct(
        "Names", [("files", GenericAlias(list, (name,))), ("meta", object, None)]
    )
    texts = msgspec.defstruct("Texts", [("files", list[msgspec.Raw])])
    return msgspec.json.Decoder(names), msgspec.json.Decoder(texts)


def parse_json(text: str | bytes, page: Page) -> list[DistFile]:
    """Every entry of the page read into a record, in page order."""
    return [read_entry(i, entry, page) for i, entry in enumerate(_entries(text, page))]


def json_groups(text: str | bytes, page: Page) -> EntryGroups:
    """The page's entries grouped by the version text of their file names, in page
    order, as JSON texts (values not yet checked); an entry whose name says no
    version is in no group. A page broken as a whole is its error now, as is an
    entry without a string file name (it cannot be grouped)."""
    names_of, texts_of = _decoders()
    try:
        names = names_of.decode(text)
        texts = texts_of.decode(text).files
    except (ValueError, RecursionError):  # msgspec's DecodeError/ValidationError
        return _groups_read_whole(text, page)
    meta = names.meta
    check_api_version(meta.get("api-version") if isinstance(meta, dict) else None, page)
    return group_entries(
        zip((name.filename for name in names.files), texts, strict=True)
    )


def group_entries(named: Iterable[tuple[str, msgspec.Raw]]) -> EntryGroups:
    """``(file name, entry text)`` pairs, in page order, grouped by the version text
    of the name, each entry with its index in the page; the one grouping of JSON
    pages, their standard-library fallback and HTML pages."""
    groups: EntryGroups = {}
    last: str | None = None
    indexes: list[int] = []
    entries: list[msgspec.Raw] = []
    for i, (filename, entry) in enumerate(named):
        # version_text with its wheel case inlined, and a run of one version's files
        # (a page lists them together) found without a lookup: a big page has tens
        # of thousands of names, and this groups them in about two thirds the time
        if filename.endswith(".whl"):
            parts = filename.split("-")  # the ".whl" stays on the last part
            version = parts[1] if 4 < len(parts) < 7 else None
        else:
            version = version_text(filename)
        if version is None:
            continue
        if version != last:
            indexes, entries = groups.setdefault(version, ([], []))
            last = version
        indexes.append(i)
        entries.append(entry)
    return groups


def _groups_read_whole(text: str | bytes, page: Page) -> EntryGroups:
    """:func:`json_groups` the standard library's way (for what msgspec refuses)."""
    import msgspec

    return group_entries(
        (_filename(i, entry, page), msgspec.Raw(json.dumps(entry).encode()))
        for i, entry in enumerate(_entries(text, page))
    )


def _filename(i: int, entry: object, page: Page) -> str:
    """Entry ``i``'s file name; an entry without one is the error naming it."""
    filename = entry.get("filename") if type(entry) is dict else None
    if type(filename) is not str:
        read_entry(i, entry, page)  # raises the error that names the entry
        raise AssertionError("unreachable")  # pragma: no cover
    return filename


def _entries(text: str | bytes, page: Page) -> list[object]:
    """The page's ``files`` list, after the checks every page must pass."""
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise page.error(f"malformed JSON: {exc}") from None
    except RecursionError:  # a hostile page nested deeper than the parser can go
        raise page.error("malformed JSON: nested too deeply") from None
    if not isinstance(document, dict):
        raise page.error("expected a JSON object")
    meta = document.get("meta")
    check_api_version(meta.get("api-version") if isinstance(meta, dict) else None, page)
    files = document.get("files")
    if not isinstance(files, list):
        raise page.error("files: expected a list")
    return files
