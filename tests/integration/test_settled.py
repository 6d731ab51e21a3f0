"""An up-to-date re-lock answered before the command line is parsed
(:mod:`lockgen.app.settled`): only when the same arguments in the same folder would
find the same lock up to date, and never a different answer from the full run.

Each run is a real ``lockgen lock`` in a child process; whether the record answered
is read from the modules it loaded: the answer never imports click.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ServerFactory
from tests.support.cli import EXIT_AS_SYSTEM_EXIT, isolated_env
from tests.support.wheels import make_wheel

_CODE = (
    EXIT_AS_SYSTEM_EXIT
    + """\
import runpy, sys
sys.argv = ['lockgen', *{args!r}]
try:
    runpy.run_module('lockgen', run_name='__main__')
except SystemExit as exc:
    code = exc.code
else:
    code = 0
print(' '.join(sorted(sys.modules)))
sys.exit(code)
"""
)


def _lock(cwd: Path, *args: str, **env: str) -> tuple[int, str, bool]:
    """Exit status, stderr, and whether a record answered (click never loaded)."""
    ran = subprocess.run(
        [sys.executable, "-c", _CODE.format(args=("lock", *args))],
        cwd=cwd,
        env=isolated_env(**env),
        capture_output=True,
        text=True,
        check=False,
    )
    modules = ran.stdout.split()
    return ran.returncode, ran.stderr, "click" not in modules


def _project(make_server: ServerFactory, tmp_path: Path) -> tuple[Path, list[str]]:
    server = make_server(
        [make_wheel("app", "1.0", requires_dist=["lib"]), make_wheel("lib", "1.0")]
    )
    (tmp_path / "r.in").write_text("app\n")
    return tmp_path, ["r.in", "-i", server.index_url]


def test_the_second_no_op_is_answered_with_the_full_runs_words(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    cwd, args = _project(make_server, tmp_path)
    assert _lock(cwd, *args)[0] == 0  # resolves, writes, records
    status, said, answered = _lock(cwd, *args)
    assert (status, answered) == (0, True)
    assert said.startswith("pylock.toml is up to date (2 packages); nothing to do (")
    assert said.count("\n") == 1
    # the full run says the same (another folder name for the same lock: no record)
    full = _lock(cwd, *args, "-o", "./pylock.toml")
    assert full[2] is False
    assert full[1].replace("./pylock.toml", "pylock.toml")[:-7] == said[:-7]
    assert _lock(cwd, *args, "-q")[:2] == (0, "")  # -q: a full run, quiet...
    assert _lock(cwd, *args, "-q") == (0, "", True)  # ...then answered, quiet


def test_anything_the_full_run_would_see_differently_is_a_full_run(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    cwd, args = _project(make_server, tmp_path)
    _lock(cwd, *args)
    lock = cwd / "pylock.toml"

    (cwd / "r.in").write_text("app\nlib\n")  # an input edited
    status, said, answered = _lock(cwd, *args)
    assert (status, answered) == (0, False) and said.startswith("Locked 2 packages")
    assert _lock(cwd, *args)[2] is True

    lock.write_text(lock.read_text() + "# edited\n")
    status, said, answered = _lock(cwd, *args)  # the lock edited: re-locked
    assert (status, answered) == (0, False) and said.startswith("Locked")
    assert "# edited" not in lock.read_text()
    assert _lock(cwd, *args)[2] is True

    lock.unlink()
    assert _lock(cwd, *args)[2] is False and lock.is_file()
    assert _lock(cwd, *args)[2] is True

    other = cwd / "elsewhere"
    other.mkdir()
    (other / "r.in").write_text("app\n")
    assert _lock(other, *args)[2] is False  # same arguments, another folder


def test_a_variable_the_inputs_name_is_checked(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    server = make_server([make_wheel("app", "1.0"), make_wheel("lib", "1.0")])
    (tmp_path / "r.in").write_text("${PROJECT}\n")
    args = ["r.in", "-i", server.index_url]
    _lock(tmp_path, *args, PROJECT="app")
    assert _lock(tmp_path, *args, PROJECT="app")[2] is True
    status, said, answered = _lock(tmp_path, *args, PROJECT="lib")
    assert (status, answered) == (0, False) and said.startswith("Locked")
    assert 'name = "lib"' in (tmp_path / "pylock.toml").read_text()


def test_a_memo_another_output_changed_is_not_taken_for_this_lock(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """Two outputs share the inputs memo (the output is no input): after the inputs
    change and only the other lock is made again, this lock is out of date even
    though the memo holds."""
    cwd, args = _project(make_server, tmp_path)
    _lock(cwd, *args)
    assert _lock(cwd, *args)[2] is True
    (cwd / "r.in").write_text("lib\n")
    assert _lock(cwd, *args, "-o", "pylock.other.toml")[0] == 0
    status, said, answered = _lock(cwd, *args)
    assert (status, answered) == (0, False) and said.startswith("Locked 1 package")


def test_resolving_anyway_and_stdout_are_never_answered(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    cwd, args = _project(make_server, tmp_path)
    _lock(cwd, *args)
    for extra in (["--check"], ["-U"], ["--refresh"], ["-P", "lib"], ["--no-cache"]):
        assert _lock(cwd, *args, *extra)[0] == 0
        assert _lock(cwd, *args, *extra)[2] is False
    assert _lock(cwd, *args, "-o", "-")[2] is False
    assert _lock(cwd, *args, "-o", "-")[2] is False


def test_a_broken_or_forged_record_is_a_full_run(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    cwd, args = _project(make_server, tmp_path)
    cache = tmp_path / "cache"
    args = [*args, "--cache-dir", str(cache)]
    _lock(cwd, *args)
    (record,) = (cache / "v1" / "settled").glob("*")
    original = record.read_bytes()
    magic, header, payload = original.split(b"\n", 2)
    fields = json.loads(payload)

    for forged in ({**fields, "interpreter": ["another python"]}, {"memo": 1}):
        body = json.dumps(forged).encode()
        head = json.loads(header)
        head.update(length=len(body), sha256=hashlib.sha256(body).hexdigest())
        record.write_bytes(b"\n".join((magic, json.dumps(head).encode(), body)))
        status, said, answered = _lock(cwd, *args)
        assert (status, answered) == (0, False)
        assert "is up to date" in said  # the full run's verdict, and a new record
        assert _lock(cwd, *args)[2] is True

    record.write_bytes(original[:-5])  # truncated
    assert _lock(cwd, *args)[2] is False


def _piped(cwd: Path, text: str, *args: str) -> tuple[int, str]:
    ran = subprocess.run(
        [sys.executable, "-m", "lockgen", "lock", *args],
        cwd=cwd,
        env=isolated_env(),
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    return ran.returncode, ran.stderr


def test_requirements_from_a_pipe_are_read_once_by_the_run_itself(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    """/dev/stdin reads once: neither the memo nor a record may read it to check
    it (found by the adversarial pass: the full run then locked an empty input)."""
    cwd, args = _project(make_server, tmp_path)
    _lock(cwd, *args)
    records = sorted((tmp_path / "cache" / "v1" / "settled").glob("*"))
    rest = args[1:]
    for _ in range(2):
        assert _piped(cwd, "app\n", "/dev/stdin", *rest)[0] == 0
    assert sorted((tmp_path / "cache" / "v1" / "settled").glob("*")) == records
    assert _lock(cwd, *args, "-P", "lib==1.0")[0] == 0  # same inputs, new text
    status, said = _piped(cwd, "app\n", "/dev/stdin", *rest)
    assert status == 0 and "(2 packages)" in said
    assert (cwd / "pylock.toml").read_text().count("[[packages]]") == 2


def test_arguments_that_resolve_or_print_anyway_are_refused_before_any_record() -> None:
    from lockgen.app.settled import resolves_anyway

    for argv in (
        ["lock", "r.in", "--check"],
        ["lock", "-U"],
        ["lock", "-qU"],
        ["lock", "-P", "a"],
        ["lock", "--upgrade-package=a"],
        ["lock", "--refresh"],
        ["lock", "-o", "-"],
        ["lock", "-o-"],
        ["lock", "--output=-"],
        ["lock", "-"],
    ):
        assert resolves_anyway(argv), argv
    for argv in (["lock", "r.in", "-q", "-o", "pylock.toml"], ["lock", "--offline"]):
        assert not resolves_anyway(argv), argv


def test_a_forged_record_does_not_stand_in_for_check(
    make_server: ServerFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A genuine record's payload stored under the key ``--check`` (or ``-U``) would
    have: such arguments are never answered, whatever the cache holds."""
    from lockgen.app.settled import _key
    from lockgen.store.entry import store

    cwd, args = _project(make_server, tmp_path)
    cache = tmp_path / "cache"
    args = [*args, "--cache-dir", str(cache)]
    _lock(cwd, *args)
    (record,) = (cache / "v1" / "settled").glob("*")
    payload = record.read_bytes().split(b"\n", 2)[2]
    monkeypatch.chdir(cwd)
    for extra in (["--check"], ["-U"], ["-o", "-"]):
        key = _key(["lock", *args, *extra], cache, isolated_env())
        assert key is not None
        path = cache / "v1" / "settled" / key
        store(cache / "v1" / "tmp", path, {"key": key}, payload)
        assert path.is_file()
        assert _lock(cwd, *args, *extra)[2] is False


def test_a_stderr_that_is_not_utf8_is_left_to_the_command_line(
    make_server: ServerFactory, tmp_path: Path
) -> None:
    cwd, args = _project(make_server, tmp_path)
    _lock(cwd, *args)
    assert _lock(cwd, *args, PYTHONIOENCODING="ascii")[2] is False
    assert _lock(cwd, *args)[2] is True
    _lock(cwd, *args, "-q")
    assert _lock(cwd, *args, "-q", PYTHONIOENCODING="ascii")[2] is True  # silent
