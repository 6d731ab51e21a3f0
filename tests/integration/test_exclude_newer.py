"""``--exclude-newer``: only files uploaded before a time, by the index's
``upload-time`` (PEP 700); an index that gives none is an error, not a no-op."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import Result

from lockgen.core.cutoff import parse_cutoff
from tests.conftest import ServerFactory
from tests.support.wheels import Dist, make_wheel

Run = Callable[..., Result]

OLD = "2024-03-01T10:00:00Z"
NEW = "2024-09-01T10:00:00Z"


def _versions(path: Path) -> dict[str, str]:
    return {
        p["name"]: p["version"] for p in tomllib.loads(path.read_text())["packages"]
    }


def _dists() -> list[Dist]:
    return [
        make_wheel("app", "1.0", requires_dist=["dep"], upload_time=OLD),
        make_wheel("app", "2.0", requires_dist=["dep"], upload_time=NEW),
        make_wheel("dep", "1.0", upload_time=OLD),
        # a wheel added to an old release later: not in a lock made before it
        make_wheel("dep", "1.0", tag="cp311-cp311-win_amd64", upload_time=NEW),
    ]


@pytest.mark.parametrize(
    "cutoff", ["2024-06-01", "2024-06-01T00:00:00Z", "2024-06-01T02:00:00+02:00"]
)
def test_files_uploaded_from_the_cutoff_on_are_left_out(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, cutoff: str
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "--exclude-newer", cutoff)
    assert result.exit_code == 0, result.output
    assert _versions(tmp_path / "pylock.toml") == {"app": "1.0", "dep": "1.0"}
    text = (tmp_path / "pylock.toml").read_text()
    assert "win_amd64" not in text
    # without it, the newest, with every file
    result = lockgen("lock", "r.in", "-i", server.index_url, "-o", "pylock.now.toml")
    assert result.exit_code == 0, result.output
    assert _versions(tmp_path / "pylock.now.toml") == {"app": "2.0", "dep": "1.0"}
    assert "win_amd64" in (tmp_path / "pylock.now.toml").read_text()


def test_another_cutoff_makes_the_lock_out_of_date(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists())
    (tmp_path / "r.in").write_text("app\n")
    args = ("lock", "r.in", "-i", server.index_url, "-U")
    assert lockgen(*args, "--exclude-newer", "2024-06-01").exit_code == 0
    same = lockgen(*args[:-1], "--exclude-newer", "2024-06-01")
    assert "up to date" in same.stderr
    later = lockgen(*args, "--exclude-newer", "2025-01-01")
    assert later.exit_code == 0, later.output
    assert _versions(tmp_path / "pylock.toml")["app"] == "2.0"


def test_an_index_without_upload_times_is_an_error(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(_dists(), formats=("html",))
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen(
        "lock", "r.in", "-i", server.index_url, "--exclude-newer", "2024-06-01"
    )
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: --exclude-newer: app-")
    assert "has no upload time" in line
    assert not (tmp_path / "pylock.toml").exists()


def test_a_bad_date_is_a_usage_error(lockgen: Run, tmp_path: Path) -> None:
    (tmp_path / "r.in").write_text("app\n")
    result = lockgen("lock", "r.in", "--exclude-newer", "last week")
    assert result.exit_code == 2
    assert "'last week' is not a date (2024-06-30) or an RFC 3339 time" in result.output


@pytest.mark.parametrize(
    ("text", "moment"),
    [
        ("2024-06-30", datetime(2024, 7, 1, tzinfo=UTC)),  # the whole day
        ("2024-06-30T12:00:00Z", datetime(2024, 6, 30, 12, tzinfo=UTC)),
        ("2024-06-30T12:00:00", datetime(2024, 6, 30, 12, tzinfo=UTC)),
        ("2024-06-30T14:00:00+02:00", datetime(2024, 6, 30, 12, tzinfo=UTC)),
    ],
)
def test_parse_cutoff(text: str, moment: datetime) -> None:
    assert parse_cutoff(text) == moment


@pytest.mark.parametrize("text", ["", "30/06/2024", "2024-13-01", "soon"])
def test_parse_cutoff_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="is not a date"):
        parse_cutoff(text)
