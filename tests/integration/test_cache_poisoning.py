"""One index cannot poison the shared cache for another (issue 8).

An untrusted index lists a file under the trusted file's name and claims the trusted
file's sha256, but serves other bytes and other metadata. Whatever lockgen learnt from
it must not stand for the trusted index's file in a later lock with the same cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import tomli
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.index_server import JSON
from tests.support.wheels import Dist, make_wheel

Run = Callable[..., Result]


def _trusted() -> Dist:
    return make_wheel("lib", "1.0")


def _evil() -> Dist:
    """Same name and version, other bytes: it pulls in the attacker's project."""
    return make_wheel("lib", "1.0", requires_dist=["evilpkg"])


def _attacker(
    make_server: ServerFactory, *, claimed_sha256: str, pep658: bool, **options: object
) -> str:
    """An index whose page for ``lib`` lists the evil wheel under the claimed sha256
    (and, with ``pep658``, the evil ``.metadata`` under its own true hash)."""
    evil = _evil()
    server = make_server([evil, make_wheel("evilpkg", "1.0")], **options)
    core: dict[str, str] | bool = {"sha256": evil.metadata_sha256} if pep658 else False
    page = {
        "meta": {"api-version": "1.1"},
        "name": "lib",
        "files": [
            {
                "filename": evil.filename,
                "url": f"/files/{evil.filename}",
                "hashes": {"sha256": claimed_sha256},
                "core-metadata": core,
            }
        ],
    }
    server.pages["/evil/lib/"] = (JSON, json.dumps(page).encode())
    return server.url + "/evil/"


def _packages(tmp_path: Path) -> set[str]:
    lock = tomli.loads((tmp_path / "pylock.toml").read_text())
    return {package["name"] for package in lock["packages"]}


def _lock_against(lockgen: Run, index_url: str) -> Result:
    return lockgen("lock", "r.in", "-i", index_url, "-U")


@pytest.mark.parametrize(
    ("how", "attacker_options", "trusted_options"),
    [
        # the attacker's PEP 658 file, checked against the hash it advertised itself
        ("pep658", {}, {}),
        # range reads of the attacker's wheel; the trusted index has no PEP 658 file
        ("range", {}, {"pep658": False}),
        # the same, with a trusted index that does advertise PEP 658
        ("range, trusted pep658", {}, {}),
    ],
)
def test_metadata_from_one_index_never_stands_for_another(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    how: str,
    attacker_options: dict[str, object],
    trusted_options: dict[str, object],
) -> None:
    trusted = _trusted()
    attacker = _attacker(
        make_server,
        claimed_sha256=trusted.sha256,
        pep658=how == "pep658",
        **attacker_options,
    )
    (tmp_path / "r.in").write_text("lib\n")
    _lock_against(lockgen, attacker)  # outcome irrelevant: it has been read and cached
    server = make_server([trusted], **trusted_options)
    result = _lock_against(lockgen, server.index_url)
    assert result.exit_code == 0, result.output
    assert _packages(tmp_path) == {"lib"}
    asked = {r.path for r in server.requests}
    assert any(p.endswith(".metadata") or p.startswith("/files/") for p in asked)


def test_whole_file_claiming_another_hash_is_refused_and_not_cached(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Without ranges the attacker's wheel is downloaded whole: its bytes do not hash
    to the claimed sha256, so the lock fails and nothing is remembered for that hash."""
    trusted = _trusted()
    attacker = _attacker(
        make_server, claimed_sha256=trusted.sha256, pep658=False, ranges="refuse"
    )
    (tmp_path / "r.in").write_text("lib\n")
    result = _lock_against(lockgen, attacker)
    assert result.exit_code == 1
    assert "hash mismatch" in result.stderr and len(result.stderr.splitlines()) == 1
    server = make_server([trusted], pep658=False, ranges="refuse")
    result = _lock_against(lockgen, server.index_url)
    assert result.exit_code == 0, result.output
    assert _packages(tmp_path) == {"lib"}


def test_trusted_whole_file_metadata_is_shared_by_every_index(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Metadata read from a whole file that hashed to its listed sha256 is true for
    any index listing that sha256: a mirror of the same file costs no new read."""
    trusted = _trusted()
    first = make_server([trusted], pep658=False, ranges="refuse")
    (tmp_path / "r.in").write_text("lib\n")
    assert _lock_against(lockgen, first.index_url).exit_code == 0
    mirror = make_server([trusted], pep658=False)
    result = _lock_against(lockgen, mirror.index_url)
    assert result.exit_code == 0, result.output
    assert [r.path for r in mirror.requests if not r.path.startswith("/simple/")] == []
