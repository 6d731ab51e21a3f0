"""``lockgen hydrate`` end to end against a real index server on loopback."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import tomli
import tomli_w
from click.testing import Result

from lockgen.net.download import fetch
from lockgen.net.part import CancelledError
from lockgen.net.transport import HttpClient
from tests.conftest import ServerFactory
from tests.support.cli import isolated_env, lockgen_command
from tests.support.index_server import IndexServer, RequestRecord
from tests.support.wheels import Dist, artifact_of, make_sdist, make_wheel

Run = Callable[..., Result]


def _dists() -> list[Dist]:
    return [
        make_wheel("app", "1.0", requires_dist=["lib>=1", "plat"]),
        make_wheel("lib", "1.0", padding=300_000),
        make_sdist("lib", "1.0"),
        make_wheel("plat", "1.0", tag="cp311-cp311-manylinux_2_17_x86_64"),
        make_wheel("plat", "1.0", tag="cp311-cp311-win_amd64"),
        make_sdist("plat", "1.0"),
    ]


def _locked(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    dists: list[Dist],
    **options: object,
) -> IndexServer:
    server = make_server(dists, **options)
    roots = sorted({d.project for d in dists})
    (tmp_path / "r.in").write_text("\n".join(roots) + "\n")
    result = lockgen(
        "lock",
        "r.in",
        "-i",
        server.index_url,
        "--python-version",
        "3.11",
        "--platform",
        "linux_x86_64",
    )
    assert result.exit_code == 0, result.output
    server.clear_log()
    return server


def _hydrate(lockgen: Run, *args: str) -> Result:
    return lockgen(
        "hydrate", "pylock.toml", "-d", "wh", "--python-version", "3.11", *args
    )


def _file_gets(server: IndexServer) -> list[RequestRecord]:
    return [r for r in server.requests if r.path.startswith("/files/")]


def _by_name(dists: list[Dist]) -> dict[str, Dist]:
    return {d.filename: d for d in dists}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class TestSelection:
    def test_fetches_the_targets_files_verified(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _dists()
        _locked(make_server, lockgen, tmp_path, dists)
        result = _hydrate(lockgen, "--platform", "linux_x86_64")
        assert result.exit_code == 0, result.output
        names = sorted(p.name for p in (tmp_path / "wh").iterdir())
        assert names == [
            "app-1.0-py3-none-any.whl",
            "lib-1.0-py3-none-any.whl",
            "plat-1.0-cp311-cp311-manylinux_2_17_x86_64.whl",
        ]
        known = _by_name(dists)
        for name in names:
            assert _sha(tmp_path / "wh" / name) == known[name].sha256
        assert "3 fetched" in result.stderr

    def test_foreign_platform_gets_its_wheel(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        _locked(make_server, lockgen, tmp_path, _dists())
        # the lock is for linux; a Windows selection fails its environments check...
        result = _hydrate(lockgen, "--platform", "win_amd64")
        assert result.exit_code == 1
        assert "environments" in result.stderr and result.stderr.count("\n") == 1
        # ...unless the lock says it supports Windows too
        lock = tomli.loads((tmp_path / "pylock.toml").read_text())
        lock["environments"].append("sys_platform == 'win32'")
        (tmp_path / "pylock.toml").write_text(tomli_w.dumps(lock))
        assert _hydrate(lockgen, "--platform", "win_amd64").exit_code == 0
        assert (tmp_path / "wh" / "plat-1.0-cp311-cp311-win_amd64.whl").is_file()

    def test_all_fetches_every_artifact(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = _dists()
        _locked(make_server, lockgen, tmp_path, dists)
        result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == sorted(
            _by_name(dists)
        )

    def test_requires_python_not_met_is_one_line(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        _locked(make_server, lockgen, tmp_path, _dists())
        result = lockgen(
            "hydrate", "pylock.toml", "-d", "wh", "--python-version", "3.9"
        )
        assert result.exit_code == 1
        assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
        assert not (tmp_path / "wh").exists() or not any((tmp_path / "wh").iterdir())


class TestParallelAndIdempotent:
    def test_fifty_files_in_parallel_then_nothing_to_do(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [
            make_wheel(f"p{i:02d}", "1.0", padding=(i % 5) * 40_000) for i in range(50)
        ]
        server = _locked(make_server, lockgen, tmp_path, dists, delay=0.02)
        result = _hydrate(lockgen, "-j", "8", "--json")
        assert result.exit_code == 0, result.output
        summary = json.loads(result.stdout)
        assert (
            summary["fetched"] == 50
            and summary["cached"] == 0
            and summary["failed"] == 0
        )
        assert summary["bytes"] == sum(d.size for d in dists)
        gets = _file_gets(server)
        assert len(gets) == 50 and len({r.path for r in gets}) == 50
        server.clear_log()
        again = _hydrate(lockgen, "--json")
        assert again.exit_code == 0
        assert json.loads(again.stdout)["cached"] == 50
        assert _file_gets(server) == []
        assert "0 fetched" in again.stderr and "50 already present" in again.stderr

    def test_a_wrong_file_in_dir_is_replaced(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("solo", "1.0")]
        _locked(make_server, lockgen, tmp_path, dists)
        (tmp_path / "wh").mkdir()
        (tmp_path / "wh" / dists[0].filename).write_bytes(b"not the wheel")
        assert _hydrate(lockgen).exit_code == 0
        assert _sha(tmp_path / "wh" / dists[0].filename) == dists[0].sha256


class TestHostileDest:
    """What is already in DIR is untrusted too (a shared CI workspace)."""

    def test_a_planted_part_symlink_is_never_written_through(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("solo", "1.0")]
        _locked(make_server, lockgen, tmp_path, dists)
        victim = tmp_path / "victim"
        victim.write_text("keep me")
        (tmp_path / "wh").mkdir()
        (tmp_path / "wh" / f"{dists[0].filename}.part").symlink_to(victim)
        result = _hydrate(lockgen)
        assert result.exit_code == 0, result.output
        assert victim.read_text() == "keep me"
        assert _sha(tmp_path / "wh" / dists[0].filename) == dists[0].sha256
        assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == [
            dists[0].filename
        ]

    def test_a_directory_in_the_way_is_one_failure_line(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("solo", "1.0"), make_wheel("other", "1.0")]
        _locked(make_server, lockgen, tmp_path, dists)
        (tmp_path / "wh" / dists[0].filename).mkdir(parents=True)
        result = _hydrate(lockgen)
        assert result.exit_code == 1
        assert "Traceback" not in result.output
        assert "is in the way and is not a regular file" in result.stderr
        # the other file is still fetched and verified
        assert _sha(tmp_path / "wh" / dists[1].filename) == dists[1].sha256


class TestFaults:
    def test_500_then_200_is_retried(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("flaky", "1.0")]
        server = _locked(make_server, lockgen, tmp_path, dists)
        server.fail[f"/files/{dists[0].filename}"] = [500]
        assert _hydrate(lockgen).exit_code == 0
        assert [r.status for r in _file_gets(server)] == [500, 200]

    def test_reset_mid_body_resumes_with_a_range(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("cut", "1.0", padding=400_000)]
        server = _locked(make_server, lockgen, tmp_path, dists)
        server.reset_once.add(dists[0].filename)
        result = _hydrate(lockgen)
        assert result.exit_code == 0, result.output
        gets = _file_gets(server)
        assert len(gets) == 2
        first, second = gets
        assert first.range is None and 0 < first.bytes_sent < dists[0].size
        assert second.status == 206 and second.range is not None
        resumed_at = int(second.range.removeprefix("bytes=").rstrip("-"))
        assert 0 < resumed_at < dists[0].size
        assert _sha(tmp_path / "wh" / dists[0].filename) == dists[0].sha256

    def test_one_wrong_byte_fails_and_leaves_nothing(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("bad", "1.0"), make_wheel("good", "1.0")]
        server = _locked(make_server, lockgen, tmp_path, dists)
        server.corrupt.add(dists[0].filename)
        result = _hydrate(lockgen)
        assert result.exit_code == 1
        assert (
            "1 of 2 files failed" in result.stderr and "hash mismatch" in result.stderr
        )
        assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == [
            dists[1].filename
        ]

    def test_short_body_every_time_fails_cleanly(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("short", "1.0", padding=100_000)]
        server = _locked(make_server, lockgen, tmp_path, dists)
        server.truncate.add(dists[0].filename)
        result = _hydrate(lockgen)
        assert result.exit_code == 1
        assert "short" in result.stderr
        assert not (tmp_path / "wh" / dists[0].filename).exists()

    def test_interrupted_part_is_resumed(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("half", "1.0", padding=200_000)]
        server = _locked(make_server, lockgen, tmp_path, dists)
        (tmp_path / "wh").mkdir()
        half = dists[0].size // 2
        (tmp_path / "wh" / f"{dists[0].filename}.part").write_bytes(
            dists[0].data[:half]
        )
        assert _hydrate(lockgen).exit_code == 0
        assert [r.range for r in _file_gets(server)] == [f"bytes={half}-"]
        assert _sha(tmp_path / "wh" / dists[0].filename) == dists[0].sha256
        assert not (tmp_path / "wh" / f"{dists[0].filename}.part").exists()

    def test_stale_part_is_refetched_once_from_scratch(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("stale", "1.0", padding=50_000)]
        server = _locked(make_server, lockgen, tmp_path, dists)
        (tmp_path / "wh").mkdir()
        (tmp_path / "wh" / f"{dists[0].filename}.part").write_bytes(b"x" * 1000)
        assert _hydrate(lockgen).exit_code == 0
        assert [r.range for r in _file_gets(server)] == ["bytes=1000-", None]

    def test_cancel_keeps_the_part_and_no_final_file(
        self, make_server: ServerFactory, tmp_path: Path
    ) -> None:
        dist = make_wheel("cancel", "1.0", padding=1_000_000)
        server = make_server([dist])
        artifact = artifact_of(dist, f"{server.url}/files/{dist.filename}")
        cancelled = threading.Event()
        seen = []

        def on_bytes(n: int) -> None:
            seen.append(n)
            cancelled.set()  # as Ctrl-C would, once bytes are flowing

        with pytest.raises(CancelledError):
            fetch(
                HttpClient(), artifact, tmp_path, on_bytes=on_bytes, cancelled=cancelled
            )
        assert not (tmp_path / dist.filename).exists()
        assert (tmp_path / f"{dist.filename}.part").stat().st_size == sum(seen)


class TestUntrustedLock:
    @staticmethod
    def _edit(tmp_path: Path, change: Callable[[dict[str, Any]], object]) -> None:
        lock = tomli.loads((tmp_path / "pylock.toml").read_text())
        change(lock)
        (tmp_path / "pylock.toml").write_text(tomli_w.dumps(lock))

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            (
                lambda w: w.update(name="../evil-1.0-py3-none-any.whl"),
                "Invalid wheel filename",
            ),
            (
                lambda w: w.update(name="other-1.0-py3-none-any.whl"),
                "not consistent with package name",
            ),
            (
                lambda w: w.update(
                    url="http://example.invalid/x/solo-1.0-py3-none-any.whl"
                ),
                "not allowed",
            ),
            (lambda w: w.update(hashes={"md5": "0" * 32}), "no valid sha256"),
            (
                lambda w: (
                    w.pop("url") and w.update(path="../../solo-1.0-py3-none-any.whl")
                ),
                "leaves the lock",
            ),
        ],
        ids=["traversal", "wrong-package", "http", "no-sha256", "path-escape"],
    )
    def test_refused_before_any_download(
        self,
        make_server: ServerFactory,
        lockgen: Run,
        tmp_path: Path,
        change: Callable[[dict[str, Any]], object],
        message: str,
    ) -> None:
        server = _locked(make_server, lockgen, tmp_path, [make_wheel("solo", "1.0")])
        self._edit(tmp_path, lambda lock: change(lock["packages"][0]["wheels"][0]))
        result = _hydrate(lockgen)
        assert result.exit_code == 1
        assert message in result.stderr and result.stderr.count("\n") == 1
        assert server.requests == []

    def test_allow_http_lets_plain_http_through(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [make_wheel("solo", "1.0")]
        server = _locked(make_server, lockgen, tmp_path, dists)
        url = (
            f"http://localhost:{server.url.rsplit(':', 1)[1]}/files/{dists[0].filename}"
        )
        self._edit(
            tmp_path, lambda lock: lock["packages"][0]["wheels"][0].update(url=url)
        )
        assert _hydrate(lockgen).exit_code == 0  # localhost is loopback: allowed

    def test_duplicate_file_names_are_refused(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        _locked(make_server, lockgen, tmp_path, [make_wheel("solo", "1.0")])

        def duplicate(lock: dict[str, Any]) -> None:
            wheels = lock["packages"][0]["wheels"]
            wheels.append(dict(wheels[0]))

        self._edit(tmp_path, duplicate)
        result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all")
        assert result.exit_code == 1 and "listed twice" in result.stderr

    def test_path_entries_relative_to_the_lock(
        self, lockgen: Run, tmp_path: Path
    ) -> None:
        dist = make_wheel("local", "1.0")
        (tmp_path / "dist").mkdir()
        (tmp_path / "dist" / dist.filename).write_bytes(dist.data)
        lock = {
            "lock-version": "1.0",
            "created-by": "hand",
            "packages": [
                {
                    "name": "local",
                    "version": "1.0",
                    "wheels": [
                        {
                            "path": f"dist/{dist.filename}",
                            "size": dist.size,
                            "hashes": {"sha256": dist.sha256},
                        }
                    ],
                }
            ],
        }
        (tmp_path / "pylock.toml").write_text(tomli_w.dumps(lock))
        result = lockgen("hydrate", "pylock.toml", "-d", "wh")
        assert result.exit_code == 0, (
            result.output
        )  # no [tool.lockgen]: no metadata check
        assert _sha(tmp_path / "wh" / dist.filename) == dist.sha256


class TestMetadataCheck:
    def test_differing_metadata_is_reported(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [
            make_wheel("meta", "1.0", requires_dist=["dep>=1"]),
            make_wheel("dep", "1.0"),
        ]
        _locked(make_server, lockgen, tmp_path, dists, pep658=False)

        def lie(
            lock: dict[str, Any],
        ) -> None:  # as if a server had fed the resolver other bytes
            tool = next(p for p in lock["packages"] if p["name"] == "meta")["tool"][
                "lockgen"
            ]
            tool["metadata-sha256"] = "0" * 64
            tool["requires-dist"] = ["dep>=2"]

        TestUntrustedLock._edit(tmp_path, lie)
        result = _hydrate(lockgen)
        assert result.exit_code == 1
        assert "package meta" in result.stderr
        assert "+ Requires-Dist: dep>=1" in result.stderr
        assert "- Requires-Dist: dep>=2" in result.stderr
        assert (tmp_path / "wh" / dists[0].filename).is_file()  # hash-verified: kept
        assert _hydrate(lockgen, "--no-verify-metadata").exit_code == 0

    def test_matching_metadata_passes_for_range_read_locks(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        _locked(make_server, lockgen, tmp_path, _dists(), pep658=False)
        assert _hydrate(lockgen, "--platform", "linux_x86_64").exit_code == 0


class TestOutput:
    def test_quiet_is_silent(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        _locked(make_server, lockgen, tmp_path, [make_wheel("solo", "1.0")])
        result = _hydrate(lockgen, "-q")
        assert result.exit_code == 0 and result.output == ""

    def test_all_cannot_be_combined_with_selection(self, lockgen: Run) -> None:
        result = lockgen("hydrate", "pylock.toml", "-d", "wh", "--all", "--extra", "x")
        assert result.exit_code == 2

    def test_missing_lock_is_one_line(self, lockgen: Run) -> None:
        result = lockgen("hydrate", "nope.toml", "-d", "wh")
        assert result.exit_code == 1 and result.stderr.startswith("error: nope.toml")

    def test_wheelhouse_installs_with_pip(
        self, make_server: ServerFactory, lockgen: Run, tmp_path: Path
    ) -> None:
        dists = [
            make_wheel("app", "1.0", requires_dist=["lib>=1"]),
            make_wheel("lib", "1.0"),
        ]
        _locked(make_server, lockgen, tmp_path, dists)
        assert _hydrate(lockgen).exit_code == 0
        venv = tmp_path / "venv"
        subprocess.run(
            [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
        )
        env = isolated_env(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1")
        python = venv / "bin" / "python"
        install = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "install",
                "--no-index",
                "--find-links",
                str(tmp_path / "wh"),
                "app",
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        assert install.returncode == 0, install.stdout + install.stderr
        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "--python",
                str(python),
                "list",
                "--format",
                "json",
            ],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        versions = {p["name"]: p["version"] for p in json.loads(listed.stdout)}
        assert versions == {"app": "1.0", "lib": "1.0"}


@pytest.mark.parametrize("signame", ["SIGINT", "SIGKILL"])
def test_interrupted_run_leaves_no_final_file_and_next_run_resumes(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path, signame: str
) -> None:
    import signal
    import time

    dist = make_wheel("slowpoke", "1.0", padding=1_500_000)
    server = _locked(make_server, lockgen, tmp_path, [dist])
    server.slow[dist.filename] = 0.05  # ~90 chunks of 16 KiB: several seconds
    proc = subprocess.Popen(
        lockgen_command("hydrate", "pylock.toml", "-d", "wh", "-q"),
        cwd=tmp_path,
        env=isolated_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    part = tmp_path / "wh" / f"{dist.filename}.part"
    deadline = time.monotonic() + 20
    while not (part.exists() and part.stat().st_size > 0):
        assert time.monotonic() < deadline and proc.poll() is None, "no .part appeared"
        time.sleep(0.02)
    proc.send_signal(getattr(signal, signame))
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == (130 if signame == "SIGINT" else -signal.SIGKILL), stderr
    assert not (tmp_path / "wh" / dist.filename).exists()
    kept = part.stat().st_size
    assert 0 < kept < dist.size
    server.slow.clear()
    server.clear_log()
    result = _hydrate(lockgen)
    assert result.exit_code == 0, result.output
    assert [r.range for r in _file_gets(server)] == [f"bytes={kept}-"]
    assert _sha(tmp_path / "wh" / dist.filename) == dist.sha256
