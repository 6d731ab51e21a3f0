"""Resolution through the CLI against a real index: what an installer would take,
what no index has, what cannot be used, and conflicts that say who asked."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.lockcheck import check_lock
from tests.support.wheels import make_sdist, make_wheel

Run = Callable[..., Result]


def _pins(tmp_path: Path) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in check_lock(tmp_path / "pylock.toml")["packages"]}


def test_metadata_comes_from_the_highest_build_tag(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """An installer takes build 2 of ``bt 1.0``, whose METADATA needs ``w``."""
    server = make_server(
        [
            make_wheel("bt", "1.0", build="1"),
            make_wheel("bt", "1.0", build="2", requires_dist=["w"]),
            make_wheel("w", "1.0"),
        ]
    )
    (tmp_path / "r.in").write_text("bt\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    pins = _pins(tmp_path)
    assert sorted(pins) == ["bt", "w"]
    record = pins["bt"]["tool"]["lockgen"]
    assert record["metadata-file"] == "bt-1.0-2-py3-none-any.whl"


def test_a_release_needing_a_missing_project_is_backtracked_over(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(
        [
            make_wheel("metrics", "1.5"),
            make_wheel("metrics", "1.6", requires_dist=["torch-missing>=2"]),
        ]
    )
    (tmp_path / "r.in").write_text("metrics\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 0, result.output
    assert _pins(tmp_path)["metrics"]["version"] == "1.5"


def test_a_missing_project_says_who_needs_it(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server([make_wheel("metrics", "1.6", requires_dist=["torch-x"])])
    (tmp_path / "r.in").write_text("metrics\n")
    result = lockgen("lock", "r.in", "-i", server.index_url)
    assert result.exit_code == 1
    assert "no index has a project named 'torch-x' (needed by metrics 1.6" in (
        result.stderr
    )
    assert server.index_url in result.stderr
    assert "Traceback" not in result.output


def test_an_unusable_old_release_is_skipped_and_explained(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """An sdist with dynamic metadata that may not be built is backtracked over
    like a conflict (not fatal), and named when nothing else fits."""
    server = make_server(
        [
            make_sdist("old", "0.8", dynamic=["Requires-Dist"]),
            make_sdist("old", "0.9", dynamic=["Requires-Dist"]),
            make_wheel("old", "1.0", requires_dist=["dep>=2"]),
            make_wheel("dep", "1.0"),
        ]
    )
    (tmp_path / "r.in").write_text("old\ndep<2\n")
    result = lockgen("lock", "r.in", "-i", server.index_url, "--no-build")
    assert result.exit_code == 1
    assert "you asked for dep<2 (r.in:2)" in result.stderr
    assert "old 1.0 depends on dep>=2" in result.stderr
    # one sentence for every release that fails alike
    assert "old 0.8 and 0.9 cannot be used: its metadata is dynamic" in result.stderr
    # the placeholder requirement is never fetched as if it were a project
    assert not [r for r in server.requests if "unusable" in r.path.lower()]


def test_constraints_are_named_with_their_file_and_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    server = make_server(
        [
            make_wheel("settings", "2.0", requires_dist=["model>=2"]),
            make_wheel("settings", "2.1", requires_dist=["model>=2.7"]),
            make_wheel("model", "1.10"),
            make_wheel("model", "2.7"),
        ]
    )
    (tmp_path / "r.in").write_text("settings\n")
    (tmp_path / "c.txt").write_text("# pins\nmodel<2\n")
    result = lockgen("lock", "r.in", "-c", "c.txt", "-i", server.index_url)
    assert result.exit_code == 1
    assert "constraint model<2 (c.txt:2)" in result.stderr
    assert "settings 2.0 and 2.1 (every candidate) depend on model>=2" in (
        result.stderr
    )
