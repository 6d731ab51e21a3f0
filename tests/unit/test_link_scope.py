"""Which links a page may name, by where the page came from (no I/O but ``resolve``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockgen.core.link_scope import confine
from lockgen.core.models import DistFile

NAME = "a-1.0-py3-none-any.whl"


def _kept(url: str, source: str, *, any_local: bool = False) -> list[str]:
    skipped: list[str] = []
    dist = DistFile(filename=NAME, url=url, index=source)
    kept = confine([dist], source, any_local=any_local, on_skip=skipped.append)
    assert len(kept) + len(skipped) == 1  # each file is kept or reported, never lost
    return skipped


@pytest.mark.parametrize(
    "url", ["https://files.example.invalid/a.whl", "http://127.0.0.1:8000/a.whl"]
)
def test_http_links_are_fine_from_any_page(url: str, tmp_path: Path) -> None:
    assert _kept(url, "https://example.invalid/simple/") == []
    assert _kept(url, (tmp_path / "simple").as_uri() + "/") == []
    assert _kept(url, str(tmp_path), any_local=True) == []


def test_a_local_page_may_name_any_local_file_but_no_other_scheme() -> None:
    assert _kept("file:///etc/a.whl", "/srv/links.html", any_local=True) == []
    [line] = _kept("javascript:x", "/srv/links.html", any_local=True)
    assert line == f"/srv/links.html: skipped {NAME!r}: javascript scheme " + (
        "(links must be http(s))"
    )


def test_credentials_in_the_source_are_not_printed() -> None:
    [line] = _kept("file:///etc/a.whl", "https://u:s3cret@example.invalid/simple/")
    assert "s3cret" not in line
    assert line.startswith("https://example.invalid/simple/: skipped")


@pytest.mark.parametrize(
    ("href", "ok"),
    [
        ("files/a.whl", True),  # beside simple/
        ("simple/a/a.whl", True),
        ("../elsewhere/a.whl", False),
        ("files/%2e%2e/%2e%2e/elsewhere/a.whl", False),  # unquoted, then resolved
    ],
)
def test_a_file_index_names_files_under_its_root(
    tmp_path: Path, href: str, ok: bool
) -> None:
    root = tmp_path / "mirror"
    (root / "simple").mkdir(parents=True)
    skipped = _kept(f"{root.as_uri()}/{href}", (root / "simple").as_uri() + "/")
    assert (skipped == []) is ok, skipped


def test_a_symlink_out_of_the_root_is_resolved_first(tmp_path: Path) -> None:
    root = tmp_path / "mirror"
    (root / "simple").mkdir(parents=True)
    (tmp_path / "secret").write_bytes(b"key")
    (root / "files").mkdir()
    (root / "files" / NAME).symlink_to(tmp_path / "secret")
    url = f"{root.as_uri()}/files/{NAME}"
    assert _kept(url, (root / "simple").as_uri() + "/") != []


def test_a_file_url_on_another_host_is_skipped(tmp_path: Path) -> None:
    [line] = _kept(
        "file://host.example.invalid/srv/a.whl", "/srv/l.html", any_local=True
    )
    assert line.endswith("a file: URL on another host")


def test_a_file_url_no_file_can_have_is_skipped(tmp_path: Path) -> None:
    # Found by the page parsers' property test: "%00" made resolve() raise ValueError.
    root = tmp_path / "mirror"
    [line] = _kept(f"{root.as_uri()}/files/a%00.whl", (root / "simple").as_uri() + "/")
    assert line.endswith("a file: URL no file can have")
