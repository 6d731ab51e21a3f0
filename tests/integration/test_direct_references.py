"""Direct references (issue 11): archives at URLs and paths, local folders (``-e``
too) and git repositories are locked as PEP 751 ``archive``, ``directory`` and
``vcs`` tables, take precedence over every index, and are hydrated.

Everything is real: the archives are served by a second index server (one lockgen
is never told about as an index), the folders are written to ``tmp_path``, and the
git repositories are made with ``git init`` and reached through ``git+file://``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from tests.conftest import ServerFactory
from tests.support.backends import backend_wheels
from tests.support.index_server import IndexServer
from tests.support.installers import install, uv, venv
from tests.support.wheels import make_sdist, make_wheel

Run = Callable[..., Result]

DEP1, DEP2 = make_wheel("dep", "1.0"), make_wheel("dep", "2.0")
PKG = make_wheel("pkg", "1.0", requires_dist=("dep",))


def _packages(path: Path) -> dict[str, dict[str, object]]:
    lock = tomllib.loads(path.read_text())
    return {p["name"]: p for p in lock["packages"]}


def _pages(server: IndexServer) -> list[str]:
    return [r.path for r in server.requests if r.path.startswith("/simple/")]


def _project(
    root: Path,
    name: str,
    version: str = "0.1",
    *,
    requires: tuple[str, ...] = (),
    dynamic: bool = False,
) -> Path:
    """A source tree: a static ``[project]`` (flit_core), or a setuptools project
    whose dependencies only its ``setup.py`` knows."""
    module = name.replace("-", "_")
    (root / module).mkdir(parents=True)
    (root / module / "__init__.py").write_text(
        f'"""{name}, for the tests."""\n\n__version__ = "{version}"\n'
    )
    deps = ", ".join(f'"{r}"' for r in requires)
    if dynamic:
        (root / "setup.py").write_text(
            "from setuptools import setup\n\n"
            f"setup(name={name!r}, version={version!r}, packages=[{module!r}],\n"
            f"      install_requires=[{deps}])\n"
        )
        (root / "pyproject.toml").write_text(
            '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n'
        )
    else:
        (root / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "{version}"\n'
            f'description = "x"\ndependencies = [{deps}]\n\n'
            '[build-system]\nrequires = ["flit_core>=3.2"]\n'
            'build-backend = "flit_core.buildapi"\n'
        )
    return root


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def _repository(root: Path, name: str = "app", **project: object) -> Path:
    """A git repository (branch ``main``, tag ``v1``) holding one project."""
    _project(root, name, **project)  # type: ignore[arg-type]
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "first")
    _git(root, "tag", "v1")
    return root


def _commit_change(repo: Path) -> str:
    (repo / "CHANGES").write_text("more\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "more")
    return _git(repo, "rev-parse", "HEAD")


def _describing_project(project: Path, repo: Path, requires: str = "") -> None:
    """A setuptools project at ``project`` whose setup.py takes its version from
    ``git describe`` (as setuptools-scm does), committed in a new repository at
    ``repo`` (``project`` or a folder above it) and tagged v3.1."""
    _project(project, "app", dynamic=True)
    (project / "setup.py").write_text(
        "import subprocess\nfrom setuptools import setup\n\n"
        "tag = subprocess.check_output(['git', 'describe', '--tags'], text=True)\n"
        "setup(name='app', version=tag.strip().lstrip('v'), packages=['app'],\n"
        f"      install_requires=[{requires}])\n"
    )
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "tag", "v3.1")


# ---- archives ---------------------------------------------------------------------


def test_a_remote_wheel_is_an_archive_hashed_once(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Its metadata is read like an index's file (never from an index: no page
    asked for), its dependencies come from the index, and with no hash in its URL
    it is downloaded once to hash it."""
    index = make_server([DEP1, DEP2, make_wheel("pkg", "9.0")])
    files = make_server([PKG])
    url = f"{files.url}/files/{PKG.filename}"
    (tmp_path / "r.in").write_text(f"pkg @ {url}\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    pkg = _packages(tmp_path / "pylock.toml")["pkg"]
    assert pkg["version"] == "1.0"
    assert pkg["archive"] == {
        "url": url,
        "size": len(PKG.data),
        "hashes": {"sha256": PKG.sha256},
    }
    assert "index" not in pkg and "wheels" not in pkg
    assert pkg["dependencies"] == [{"name": "dep"}]
    assert "/simple/pkg/" not in _pages(index)
    whole = [r for r in files.requests if r.method == "GET" and r.range is None]
    assert [r.path for r in whole] == [f"/files/{PKG.filename}"]


def test_a_hash_in_the_url_spares_the_download(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    files = make_server([PKG])
    url = f"{files.url}/files/{PKG.filename}#sha256={PKG.sha256}"
    (tmp_path / "r.in").write_text(f"{url}\n")  # no name: the metadata says it
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    archive = _packages(tmp_path / "pylock.toml")["pkg"]["archive"]
    assert isinstance(archive, dict)
    assert archive["hashes"] == {"sha256": PKG.sha256}
    assert archive["url"] == url.partition("#")[0]
    assert all(r.range is not None for r in files.requests if r.method == "GET")


def test_a_marker_leaves_a_reference_out(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    (tmp_path / "r.in").write_text(
        "dep\nhttps://example.invalid/pkg-1.0-py3-none-any.whl ; "
        'sys_platform == "win32"\n'
    )
    result = lockgen(
        "lock", "r.in", "-i", index.index_url, "--platform", "linux_x86_64"
    )
    assert result.exit_code == 0, result.output
    assert sorted(_packages(tmp_path / "pylock.toml")) == ["dep"]


def test_a_wheel_for_another_platform_is_one_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    wheel = make_wheel("pkg", "1.0", tag="cp311-cp311-win_amd64")
    (tmp_path / wheel.filename).write_bytes(wheel.data)
    (tmp_path / "r.in").write_text(f"./{wheel.filename}\n")
    result = lockgen(
        "lock", "r.in", "-i", index.index_url, "--platform", "linux_x86_64"
    )
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: r.in:1: ./{wheel.filename}: the wheel does not fit the target "
        "(cp311-cp311-win_amd64)"
    )


# ---- local paths ------------------------------------------------------------------


def _local_tree(tmp_path: Path) -> None:
    """dist/ with a wheel and a static sdist, libs/app (needs lib and dep) and
    libs/lib, and a requirements file naming them as pip users write them."""
    (tmp_path / "dist").mkdir()
    sdist = make_sdist("tool", "3.0")
    (tmp_path / "dist" / PKG.filename).write_bytes(PKG.data)
    (tmp_path / "dist" / sdist.filename).write_bytes(sdist.data)
    _project(tmp_path / "libs" / "app", "app", requires=("lib", "dep>=2"))
    _project(tmp_path / "libs" / "lib", "lib")
    (tmp_path / "r.in").write_text(
        f"./dist/{PKG.filename}\n"
        f"tool @ file://{tmp_path}/dist/{sdist.filename}\n"
        "-e ./libs/app\n"
        "./libs/lib\n"
    )


def test_local_archives_and_folders(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1, DEP2])
    _local_tree(tmp_path)
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    packages = _packages(tmp_path / "pylock.toml")
    assert sorted(packages) == ["app", "dep", "lib", "pkg", "tool"]
    assert packages["app"]["directory"] == {"path": "libs/app", "editable": True}
    assert packages["lib"]["directory"] == {"path": "libs/lib"}
    assert "version" not in packages["app"]  # a source tree's code may differ
    assert packages["app"]["dependencies"] == [{"name": "dep"}, {"name": "lib"}]
    assert packages["dep"]["version"] == "2.0"
    archive = packages["tool"]["archive"]
    assert isinstance(archive, dict)
    assert archive["path"] == "dist/tool-3.0.tar.gz"
    assert packages["pkg"]["archive"] == {
        "path": f"dist/{PKG.filename}",
        "size": len(PKG.data),
        "hashes": {"sha256": PKG.sha256},
    }


def test_paths_are_relative_to_the_lock_and_hydrate_keeps_to_its_folder(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1, DEP2])
    _local_tree(tmp_path)
    (tmp_path / "out").mkdir()
    result = lockgen("lock", "r.in", "-i", index.index_url, "-o", "out/pylock.toml")
    assert result.exit_code == 0, result.output
    packages = _packages(tmp_path / "out" / "pylock.toml")
    assert packages["app"]["directory"] == {"path": "../libs/app", "editable": True}
    refused = lockgen("hydrate", "out/pylock.toml", "-d", "wh")
    assert refused.exit_code == 1
    assert "leaves the lock file's directory" in refused.stderr
    done = lockgen(
        "hydrate", "out/pylock.toml", "-d", "wh", "--allow-file-urls", "--json"
    )
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in (tmp_path / "wh").iterdir()) == [
        DEP2.filename,
        PKG.filename,
        "tool-3.0.tar.gz",
    ]
    assert "2 local (not downloaded: ../libs/app, ../libs/lib)" in done.stderr
    shutil.rmtree(tmp_path / "libs" / "lib")
    gone = lockgen("hydrate", "out/pylock.toml", "-d", "wh", "--allow-file-urls")
    assert gone.exit_code == 1
    assert "../libs/lib: no such folder (the lock names it as local)" in gone.stderr


def test_an_unchanged_folder_is_up_to_date_and_a_changed_one_relocks(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1, DEP2])
    _local_tree(tmp_path)
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    index.clear_log()
    again = lockgen("lock", "r.in", "-i", index.index_url)
    assert "is up to date" in again.stderr
    assert index.requests == []
    pyproject = tmp_path / "libs" / "lib" / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("[]", '["dep<2"]'))
    changed = lockgen("lock", "r.in", "-i", index.index_url)
    assert changed.exit_code == 1  # app needs dep>=2, lib now dep<2
    assert "you asked for ./libs/lib (r.in:4)" in changed.stderr


def test_a_requirements_file_a_folder_reads_is_part_of_the_inputs(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """setuptools' ``dynamic`` dependencies from a file: editing the file makes
    the lock out of date, as editing pyproject.toml does."""
    index = make_server(
        [DEP1, DEP2, make_wheel("extra", "1.0"), *backend_wheels("setuptools")]
    )
    app = tmp_path / "app"
    _project(app, "app", dynamic=True)
    (app / "setup.py").unlink()
    (app / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "1.0"\ndynamic = ["dependencies"]\n'
        "[tool.setuptools]\npackages = ['app']\n"
        '[tool.setuptools.dynamic]\ndependencies = {file = ["deps.txt"]}\n'
        '[build-system]\nrequires = ["setuptools"]\n'
        'build-backend = "setuptools.build_meta"\n'
    )
    (app / "deps.txt").write_text("dep\n")
    (tmp_path / "r.in").write_text("./app\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    assert "up to date" in lockgen("lock", "r.in", "-i", index.index_url).stderr
    (app / "deps.txt").write_text("dep\nextra\n")
    again = lockgen("lock", "r.in", "-i", index.index_url)
    assert again.exit_code == 0, again.output
    assert "up to date" not in again.stderr
    assert sorted(_packages(tmp_path / "pylock.toml")) == ["app", "dep", "extra"]


def test_a_dynamic_folder_is_built_in_a_copy(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Only its setup.py knows it needs dep>=2; the build runs in a copy, so the
    user's folder gets no egg-info, and ``--no-build`` refuses it in one line."""
    index = make_server([DEP1, DEP2, *backend_wheels("setuptools")])
    tree = _project(tmp_path / "app", "app", requires=("dep>=2",), dynamic=True)
    before = sorted(p.name for p in tree.iterdir())
    (tmp_path / "r.in").write_text("./app\n")
    result = lockgen("lock", "r.in", "-i", index.index_url, "-v")
    assert result.exit_code == 0, result.output
    assert "./app: built for its metadata by setuptools.build_meta" in result.stderr
    packages = _packages(tmp_path / "pylock.toml")
    assert packages["dep"]["version"] == "2.0"
    assert sorted(p.name for p in tree.iterdir()) == before
    refused = lockgen("lock", "r.in", "-i", index.index_url, "--no-build", "-o", "-")
    assert refused.exit_code == 1
    assert refused.stderr.strip() == (
        "error: r.in:1: ./app: its metadata is not static (pyproject.toml [project]), "
        "and --no-build forbids building it"
    )


def test_a_folder_in_a_git_work_tree_builds_in_place_and_is_left_as_it_was(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """setuptools-scm and hatch-vcs read the version from git: in a work tree the
    build runs in place (a copy has no history), and what it adds is removed."""
    index = make_server([DEP1, *backend_wheels("setuptools")])
    repo = tmp_path / "repo"
    _describing_project(repo / "app", repo, requires="'dep'")
    (repo / "app" / "notes.txt").write_text("mine\n")  # untracked: stays
    before = sorted(
        p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts
    )
    (tmp_path / "r.in").write_text("./repo/app\napp>=3\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    assert _packages(tmp_path / "pylock.toml")["app"]["dependencies"] == [
        {"name": "dep"}
    ]
    after = sorted(
        p.relative_to(repo) for p in repo.rglob("*") if ".git" not in p.parts
    )
    assert after == before


def test_a_repository_without_a_project_is_one_line(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "README").write_text("docs only\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "first")
    (tmp_path / "r.in").write_text(f"git+file://{repo}@main\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith(f"error: r.in:1: file://{repo}@")
    assert message.endswith(
        "not a Python project (neither a pyproject.toml nor a setup.py)"
    )


def test_a_failing_folder_build_names_its_log(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """The log is named after the folder's path, made a safe file name."""
    index = make_server([DEP1, *backend_wheels("setuptools")])
    tree = _project(tmp_path / "libs" / "app", "app", dynamic=True)
    (tree / "setup.py").write_text("raise SystemExit('no metadata today')\n")
    (tmp_path / "r.in").write_text("./libs/app\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert message.startswith(
        "error: r.in:1: ./libs/app: building it for its metadata failed "
        "(setuptools.build_meta"
    )
    log = Path(message.rpartition("its log is ")[2])
    assert log.name.startswith("libs_app-")
    assert "no metadata today" in log.read_text()


def test_a_project_s_own_direct_references_are_read_too(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """``-e ./svc`` needs a sibling folder, a remote wheel and a git library by
    direct reference in its own dependencies: each is read (once, though two
    projects name the folder) and locked as what it is."""
    index = make_server([DEP1])
    files = make_server([PKG])
    repo = _repository(tmp_path / "repo", requires=(f"lib @ file://{tmp_path}/lib",))
    _project(tmp_path / "lib", "lib")
    _project(
        tmp_path / "svc",
        "svc",
        requires=(
            f"lib @ file://{tmp_path}/lib",
            f"pkg @ {files.url}/files/{PKG.filename}",
            f"app @ git+file://{repo}@v1",
            f"never @ file://{tmp_path}/missing ; sys_platform == 'win32'",
        ),
    )
    (tmp_path / "r.in").write_text("-e ./svc\n")
    result = lockgen(
        "lock", "r.in", "-i", index.index_url, "--platform", "linux_x86_64"
    )
    assert result.exit_code == 0, result.output
    packages = _packages(tmp_path / "pylock.toml")
    assert sorted(packages) == ["app", "dep", "lib", "pkg", "svc"]
    assert packages["lib"]["directory"] == {"path": "lib"}
    assert "archive" in packages["pkg"] and "vcs" in packages["app"]
    assert packages["svc"]["dependencies"] == [
        {"name": "app"},
        {"name": "lib"},
        {"name": "pkg"},
    ]


# ---- precedence and conflicts -------------------------------------------------


def test_a_direct_reference_wins_over_the_index(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """pkg 9.0 is on the index; the reference's 1.0 is locked, for the user and
    for ``top`` (which needs pkg), and pkg's page is never read."""
    top = make_wheel("top", "1.0", requires_dist=("pkg",))
    index = make_server([DEP1, top, make_wheel("pkg", "9.0")])
    (tmp_path / PKG.filename).write_bytes(PKG.data)
    (tmp_path / "r.in").write_text(f"top\n./{PKG.filename}\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    assert _packages(tmp_path / "pylock.toml")["pkg"]["version"] == "1.0"
    assert "/simple/pkg/" not in _pages(index)


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["pkg>=2", "./{wheel}"],
            (
                "cannot resolve the requirements: you asked for pkg>=2 (r.in:1); you "
                "asked for ./{wheel} (r.in:2); pkg's direct reference is pkg 1.0"
            ),
        ),
        (
            ["./{wheel}", "pkg @ ./libs/pkg"],
            (
                "two direct references for pkg: ./{wheel} (r.in:1) and "
                "pkg @ ./libs/pkg (r.in:2)"
            ),
        ),
        (["other @ ./{wheel}"], "r.in:1: other @ ./{wheel} is pkg 1.0, not other"),
        (
            ["-e ./{wheel}"],
            (
                "r.in:1: -e ./{wheel}: only a local folder can be editable (drop -e "
                "to lock it as it is)"
            ),
        ),
    ],
)
def test_conflicts_are_one_line(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    lines: list[str],
    message: str,
) -> None:
    index = make_server([DEP1])
    (tmp_path / PKG.filename).write_bytes(PKG.data)
    _project(tmp_path / "libs" / "pkg", "pkg", "2.0")
    text = "".join(f"{line}\n" for line in lines).replace("{wheel}", PKG.filename)
    (tmp_path / "r.in").write_text(text)
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: " + message.replace("{wheel}", PKG.filename)


# ---- git --------------------------------------------------------------------------


def test_a_git_reference_is_locked_at_its_commit(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1, DEP2])
    repo = _repository(tmp_path / "repo", requires=("dep",))
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@v1\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    app = _packages(tmp_path / "pylock.toml")["app"]
    assert app["vcs"] == {
        "type": "git",
        "url": f"file://{repo}",
        "requested-revision": "v1",
        "commit-id": _git(repo, "rev-parse", "v1"),
    }
    assert "version" not in app
    assert app["dependencies"] == [{"name": "dep"}]


def test_a_branch_keeps_its_locked_commit_until_upgraded(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo")
    first = _git(repo, "rev-parse", "main")
    (tmp_path / "r.in").write_text(f"git+file://{repo}@main#egg=app\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    newer = _commit_change(repo)

    def commit() -> object:
        vcs = _packages(tmp_path / "pylock.toml")["app"]["vcs"]
        assert isinstance(vcs, dict)
        return vcs["commit-id"]

    assert lockgen("lock", "r.in", "-i", index.index_url, "--refresh").exit_code == 0
    assert commit() == first
    assert lockgen("lock", "r.in", "-i", index.index_url, "-P", "app").exit_code == 0
    assert commit() == newer


def test_a_commit_relocks_from_the_cache_with_the_repository_gone(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A full commit id names its content: its metadata is cached under it, so a
    new lock (another output, nothing to prefer) runs no fetch at all."""
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo", requires=("dep",))
    (repo / "sub").mkdir()
    _project(repo / "sub" / "inner", "inner")
    _commit_change(repo)
    commit = _git(repo, "rev-parse", "HEAD")
    (tmp_path / "r.in").write_text(
        f"git+file://{repo}@{commit}#egg=app\n"
        f"inner @ git+file://{repo}@{commit}#subdirectory=sub/inner\n"
    )
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    inner = _packages(tmp_path / "pylock.toml")["inner"]["vcs"]
    assert isinstance(inner, dict)
    assert inner["subdirectory"] == "sub/inner"
    shutil.rmtree(repo)
    again = lockgen("lock", "r.in", "-i", index.index_url, "-o", "pylock.b.toml")
    assert again.exit_code == 0, again.output
    assert (tmp_path / "pylock.b.toml").read_text() == (
        tmp_path / "pylock.toml"
    ).read_text()


def test_a_build_sees_the_checkout_s_history(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """Backends such as setuptools-scm take the version from git: the tree built
    is a checkout with its .git and tags, as pip's clone is."""
    index = make_server([DEP1, *backend_wheels("setuptools")])
    repo = tmp_path / "repo"
    _describing_project(repo, repo)
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@main\napp>=3\n")
    result = lockgen("lock", "r.in", "-i", index.index_url)
    assert result.exit_code == 0, result.output
    app = _packages(tmp_path / "pylock.toml")["app"]
    assert isinstance(app["tool"], dict)
    assert "vcs" in app


def test_offline_a_revision_is_what_it_named_when_last_fetched(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo")
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@main\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    _commit_change(repo)  # not fetched: offline still knows the first commit
    offline = lockgen(
        "lock", "r.in", "-i", index.index_url, "--offline", "-o", "pylock.b.toml"
    )
    assert offline.exit_code == 0, offline.output
    assert (tmp_path / "pylock.b.toml").read_text() == (
        tmp_path / "pylock.toml"
    ).read_text()
    (tmp_path / "r2.in").write_text(f"app @ git+file://{repo}@v2\n")
    missing = lockgen("lock", "r2.in", "-i", index.index_url, "--offline", "-o", "-")
    assert missing.exit_code == 1
    assert missing.stderr.strip() == (
        f"error: r2.in:1: offline, and file://{repo}@v2 is not fetched yet"
    )


def test_hydrate_checks_out_the_locked_commit(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo")
    commit = _git(repo, "rev-parse", "v1")
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@v1\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    _commit_change(repo)  # the branch moves on; the lock names v1's commit
    refused = lockgen("hydrate", "pylock.toml", "-d", "wh")
    assert refused.exit_code == 1
    assert "a local git repository is checked out only with --allow-file-urls" in (
        refused.stderr
    )
    done = lockgen("hydrate", "pylock.toml", "-d", "wh", "--allow-file-urls")
    assert done.exit_code == 0, done.output
    checkout = tmp_path / "wh" / f"app-{commit[:12]}"
    assert _git(checkout, "rev-parse", "HEAD") == commit
    assert "1 checked out" in done.stderr
    assert [p.name for p in (tmp_path / "wh").iterdir()] == [checkout.name]


def test_hydrate_never_trusts_a_folder_already_there(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A folder named like the checkout (shipped beside the lock, say) is replaced
    by a new checkout, and git never runs in it: its config could run commands."""
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo")
    commit = _git(repo, "rev-parse", "v1")
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@v1\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    planted = tmp_path / "wh" / f"app-{commit[:12]}"
    (planted / ".git").mkdir(parents=True)
    (planted / ".git" / "HEAD").write_text(commit + "\n")
    marker = tmp_path / "ran"
    (planted / ".git" / "config").write_text(f"[core]\n\tfsmonitor = touch {marker}\n")
    (planted / "setup.py").write_text("raise SystemExit('planted')\n")
    done = lockgen("hydrate", "pylock.toml", "-d", "wh", "--allow-file-urls")
    assert done.exit_code == 0, done.output
    assert not marker.exists()
    assert not (planted / "setup.py").exists()
    assert _git(planted, "rev-parse", "HEAD") == commit
    assert [p.name for p in (tmp_path / "wh").iterdir()] == [planted.name]


def test_without_git_locks_and_hydrates_say_so(
    make_server: ServerFactory,
    lockgen: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    index = make_server([DEP1])
    repo = _repository(tmp_path / "repo")
    (tmp_path / "r.in").write_text(f"app @ git+file://{repo}@v1\n")
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    empty = tmp_path / "no-git"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = lockgen("lock", "r.in", "-i", index.index_url, "-U")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        f"error: r.in:1: file://{repo}: git is needed, and it is not on PATH"
    )
    hydrated = lockgen("hydrate", "pylock.toml", "-d", "wh", "--allow-file-urls")
    assert hydrated.exit_code == 1
    assert "git is needed, and it is not on PATH" in hydrated.stderr


# ---- interop ----------------------------------------------------------------------


@pytest.mark.interop
def test_uv_installs_every_kind(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """A remote wheel, a local sdist-free wheel, an editable folder and a git
    checkout: uv builds the source trees with flit_core from the test index."""
    index = make_server([DEP1, *backend_wheels("flit_core")])
    files = make_server([PKG])
    _project(tmp_path / "libs" / "lib", "lib")
    repo = _repository(tmp_path / "repo")
    tool = make_wheel("tool", "1.0")
    (tmp_path / tool.filename).write_bytes(tool.data)
    (tmp_path / "r.in").write_text(
        f"pkg @ {files.url}/files/{PKG.filename}\n"
        f"./{tool.filename}\n-e ./libs/lib\napp @ git+file://{repo}@v1\n"
    )
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    env, python = venv(tmp_path)
    args = [*uv(), "pip", "install", "-q", "--python", str(python)]
    args += ["--index-url", index.index_url, "-r", "pylock.toml"]
    assert install(args, env, tmp_path, python) == {"app", "dep", "lib", "pkg", "tool"}


@pytest.mark.interop
def test_pip_installs_archives(
    make_server: ServerFactory, lockgen: Run, tmp_path: Path
) -> None:
    """pip 26.2+ installs a lock's archives (it hashes them; it refuses folders and
    git checkouts, which it cannot hash)."""
    index = make_server([DEP1])
    files = make_server([PKG])
    tool = make_wheel("tool", "1.0")
    (tmp_path / tool.filename).write_bytes(tool.data)
    (tmp_path / "r.in").write_text(
        f"pkg @ {files.url}/files/{PKG.filename}\n./{tool.filename}\n"
    )
    assert lockgen("lock", "r.in", "-i", index.index_url).exit_code == 0
    env, python = venv(tmp_path)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q"]
    args = [*pip, "--no-index", "-r", "pylock.toml"]
    assert install(args, env, tmp_path, python) == {"dep", "pkg", "tool"}


def test_the_api_takes_direct_references(
    make_server: ServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lockgen

    index = make_server([DEP1])
    files = make_server([PKG])
    monkeypatch.chdir(tmp_path)
    _project(tmp_path / "app", "app", requires=("dep",))
    lock = lockgen.lock(
        [f"pkg @ {files.url}/files/{PKG.filename}", "./app"],
        indexes=[index.index_url],
    )
    by_name = {str(p.name): p for p in lock.packages}
    assert sorted(by_name) == ["app", "dep", "pkg"]
    archive, directory = by_name["pkg"].archive, by_name["app"].directory
    assert archive is not None and archive.hashes == {"sha256": PKG.sha256}
    assert directory is not None and directory.path == "app"


def test_a_silent_git_server_is_given_up(
    lockgen: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that accepts the connection and never answers (a stalled TLS
    handshake) ends the fetch once git has said nothing for the stall time (60 s;
    1 s here), with its process group killed, for lock and hydrate alike."""
    import socket
    import threading

    monkeypatch.setattr("lockgen.app.git._STALL", 1.0)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/r.git"
    try:
        (tmp_path / "r.in").write_text(f"app @ git+{url}@v1\n")
        result = lockgen("lock", "r.in", "-i", "http://127.0.0.1:9/simple/")
        assert result.exit_code == 1
        assert (
            result.stderr.strip() == f"error: r.in:1: {url}: git said nothing for 1 s"
        )
        (tmp_path / "pylock.toml").write_text(
            'lock-version = "1.0"\ncreated-by = "t"\n[[packages]]\nname = "app"\n'
            f'[packages.vcs]\ntype = "git"\nurl = "{url}"\ncommit-id = "{"ab" * 20}"\n'
        )
        hydrated = lockgen("hydrate", "pylock.toml", "-d", "wh")
        assert hydrated.exit_code == 1
        assert f"{url}: git said nothing for 1 s" in hydrated.stderr
    finally:
        listener.close()
        for connection in held:
            connection.close()
