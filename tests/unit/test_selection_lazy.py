"""Files of versions the resolver never considers are never parsed (issue 10).

A popular project lists tens of thousands of files; parsing and ranking all of them
was most of an ``--offline`` lock. The count is ``parse_filename``'s own memo
(``functools.lru_cache``): each miss is one file name parsed.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING

from packaging.requirements import Requirement
from packaging.utils import NormalizedName
from packaging.version import Version

from lockgen.core.environment import current_target
from lockgen.core.errors import ProjectNotFoundError
from lockgen.core.file_groups import FileGroups
from lockgen.core.models import DistFile, parse_filename
from lockgen.core.req_options import FormatControl
from lockgen.resolver.provider import LockgenProvider
from lockgen.resolver.selection import Policy, Selector
from lockgen.resolver.values import Req

if TYPE_CHECKING:
    from lockgen.core.models import CoreMetadata

NAME = NormalizedName("bigproj")
VERSIONS = 1000
FILES_PER_VERSION = 3


class _Page:
    """A Repository whose one project has many versions of three files each."""

    def __init__(self) -> None:
        self.files = tuple(
            DistFile(
                filename=filename, url=f"https://example.invalid/{filename}", index=""
            )
            for major in range(VERSIONS)
            for filename in (
                f"bigproj-{major}.0-py3-none-any.whl",
                f"bigproj-{major}.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                f"bigproj-{major}.0.tar.gz",
            )
        )

    def list_files(self, name: NormalizedName) -> FileGroups:
        if name != NAME:
            raise ProjectNotFoundError(name, ["https://example.invalid/simple/"])
        return FileGroups.of(self.files)

    def get_metadata(self, dist: DistFile) -> CoreMetadata:
        raise AssertionError(dist)

    def get_sha256(self, dist: DistFile) -> tuple[str, int]:
        raise AssertionError(dist)


def _selector() -> Selector:
    policy = Policy(constraints={}, pre=False, format_control=FormatControl())
    return Selector(current_target(), policy)


def _req(text: str) -> Req:
    return Req.from_requirement(Requirement(text))


def _parsed() -> int:
    return parse_filename.cache_info().misses


def test_a_pinned_version_parses_only_its_own_files() -> None:
    page, selector = _Page(), _selector()
    parse_filename.cache_clear()
    provider = LockgenProvider(page, selector)
    (candidate,) = provider.candidates_allowed([_req("bigproj==500.0")], frozenset())
    assert candidate.version == Version("500.0")
    assert selector.likely_file(_req("bigproj==500.0"), page) == candidate.files[0]
    locked = selector.lock_files(page, NAME, Version("500.0"))
    assert len(locked) == FILES_PER_VERSION
    assert _parsed() <= FILES_PER_VERSION


def test_a_bounded_range_parses_only_the_files_in_it() -> None:
    page, selector = _Page(), _selector()
    parse_filename.cache_clear()
    versions = LockgenProvider(page, selector).versions_allowed(
        [_req("bigproj>=990,<995")]
    )
    assert versions == [Version(f"{v}.0") for v in range(994, 989, -1)]
    assert _parsed() <= 5 * FILES_PER_VERSION


def test_an_open_requirement_still_offers_every_version_newest_first() -> None:
    page, selector = _Page(), _selector()
    versions = LockgenProvider(page, selector).versions_allowed([_req("bigproj")])
    assert versions == [Version(f"{v}.0") for v in range(VERSIONS - 1, -1, -1)]


def test_find_matches_parses_only_the_candidates_resolvelib_reaches() -> None:
    """resolvelib takes the first candidate that fits: an open requirement on a
    project of a thousand versions parses the newest version's files, and the next
    ones only as they are reached (before: every version, 3000 names)."""
    page, selector = _Page(), _selector()
    parse_filename.cache_clear()
    provider = LockgenProvider(page, selector)
    req = _req("bigproj")
    matches = provider.find_matches(
        req.identifier, {req.identifier: iter([req])}, {req.identifier: iter(())}
    )
    first = next(matches())
    assert first.version == Version(f"{VERSIONS - 1}.0")
    assert _parsed() <= FILES_PER_VERSION
    assert [c.version for c in itertools.islice(matches(), 3)] == [
        Version(f"{v}.0") for v in range(VERSIONS - 1, VERSIONS - 4, -1)
    ]
    assert _parsed() <= 3 * FILES_PER_VERSION
    # an explanation may still ask for everything offered
    assert len(provider.offered(req.identifier)) == VERSIONS


def test_a_project_no_index_has_is_known_when_matches_are_asked() -> None:
    """The page is read when find_matches is called, not when its candidates are
    first iterated, so a missing project is recorded for the explanation at once."""
    page, selector = _Page(), _selector()
    provider = LockgenProvider(page, selector)
    req = _req("elsewhere")
    matches = provider.find_matches(
        req.identifier, {req.identifier: iter([req])}, {req.identifier: iter(())}
    )
    assert list(provider.missing) == ["elsewhere"]
    assert list(matches()) == []
