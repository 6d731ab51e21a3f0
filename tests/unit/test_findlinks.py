"""lockgen.net.findlinks on local locations: what each kind of location lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.core.models import DistFile, normalize
from lockgen.core.urls import local_file
from lockgen.net.findlinks import FindLinks, FindLinksError
from lockgen.store.cache import CachedPage
from tests.support.wheels import make_sdist, make_wheel


def _no_remote_page(url: str) -> CachedPage | None:
    raise AssertionError(f"a local location fetched {url}")


def _names(locations: list[str], project: str) -> list[str]:
    found = FindLinks(locations, _no_remote_page).files(normalize(project))
    return [d.filename for d in found]


def test_a_directory_lists_its_distributions_of_each_project(tmp_path: Path) -> None:
    for dist in (make_wheel("a", "1.0"), make_sdist("a", "1.0"), make_wheel("b", "2")):
        (tmp_path / dist.filename).write_bytes(dist.data)
    (tmp_path / "a-notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a-9.0-py3-none-any.whl").write_bytes(b"")
    assert _names([str(tmp_path)], "a") == ["a-1.0-py3-none-any.whl", "a-1.0.tar.gz"]
    assert _names([str(tmp_path)], "c") == []


def test_the_first_location_with_a_file_name_wins(tmp_path: Path) -> None:
    wheel = make_wheel("a", "1.0")
    for folder in ("one", "two"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / wheel.filename).write_bytes(wheel.data)
    links = FindLinks([str(tmp_path / "one"), str(tmp_path / "two")], _no_remote_page)
    (found,) = links.files(normalize("a"))
    assert local_file(found) == tmp_path / "one" / wheel.filename


def test_one_distribution_file_is_a_location(tmp_path: Path) -> None:
    wheel = make_wheel("a", "1.0")
    (tmp_path / wheel.filename).write_bytes(wheel.data)
    assert _names([str(tmp_path / wheel.filename)], "a") == [wheel.filename]


def test_a_file_that_is_no_distribution_nor_page_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FindLinksError, match="not a directory, an HTML page"):
        _names([str(tmp_path / "notes.txt")], "a")


def test_other_url_schemes_are_refused() -> None:
    with pytest.raises(FindLinksError, match="only a path, a file:// URL or an http"):
        _names(["ftp://example.invalid/wheels/"], "a")


def test_index_files_and_remote_files_are_not_local() -> None:
    url = "file:///srv/a-1.0-py3-none-any.whl"
    name = "a-1.0-py3-none-any.whl"
    assert local_file(DistFile(filename=name, url=url, index="")) is not None
    indexed = DistFile(filename=name, url=url, index="file:///srv/simple/")
    assert local_file(indexed) is None
    remote = DistFile(filename=name, url="https://example.invalid/" + name, index="")
    assert local_file(remote) is None
