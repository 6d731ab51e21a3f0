"""PEP 691 JSON project pages: the checks every page must pass, then its entries,
read into DistFile records (:func:`parse_json`) or into compact rows for a lazy
listing (:func:`json_rows`, :mod:`lockgen.core.compact_page`); one entry's reading is
:mod:`lockgen.core.json_entries`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from lockgen.core.json_entries import entry_row, row_file, row_filename
from lockgen.core.simple_page import check_api_version

if TYPE_CHECKING:
    from lockgen.core.models import DistFile
    from lockgen.core.simple_page import Page

__all__ = ["JSON_TYPES", "json_rows", "parse_json"]

JSON_TYPES = frozenset(
    {"application/vnd.pypi.simple.v1+json", "application/vnd.pypi.simple.latest+json"}
)


def parse_json(text: str, page: Page) -> list[DistFile]:
    """Every entry of the page read into a record, in page order."""
    return [row_file(row, page) for row in json_rows(text, page)]


def json_rows(text: str, page: Page) -> list[list[object]]:
    """The page's entries as compact rows, in page order (values not yet checked).

    An entry without a file name cannot be grouped by version: it is the page's
    error now, as :func:`parse_json` would make it.
    """
    rows = []
    for i, entry in enumerate(_entries(text, page)):
        row = entry_row(i, entry)
        if type(row_filename(row)) is not str:
            row_file(row, page)  # raises the error that names the entry
        rows.append(row)
    return rows


def _entries(text: str, page: Page) -> list[object]:
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
