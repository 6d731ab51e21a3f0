"""What a command line's inputs normalised to, remembered on this machine, so an
up-to-date re-lock need not parse its requirements again.

The inputs digest an up-to-date check compares is computed from the requirement
lines as packaging parses them, the target's markers and tags, the index URLs and
the options; importing packaging's parsers is most of what a no-op costs (about
50-90 ms of its 160-250 ms here). So after every full read, the cache keeps
(``ROOT/v1/inputs/``) the digest with everything it was computed from: the bytes of
each file read (includes and constraints too), the value of each environment
variable looked up (as a hash: a ``${TOKEN}`` never reaches the disk), and pip's
index settings. The entry's key holds the rest: lockgen's and packaging's versions,
the current directory, the command line's options and the running interpreter
(path, version, binary, ``uname``, C library, the platform sysconfig reports, and
a ``_manylinux`` override module on ``sys.path``). The next run with the same key reads
the same files and variables again, and if every one is unchanged, the remembered
digest is the inputs digest.

Only the command line uses it (its ``--python-version`` and ``--platform`` are part
of the key, and made into a target only on a full read), and never when a file
comes from standard input or another file that is not a regular one (a pipe reads
once). A memo that does not check out is a full read. Like
every cache entry it is untrusted, but what it can do is bounded: a forged one makes
a run take a lock for up to date, which ``--check`` does not trust.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import sysconfig
from collections.abc import Mapping
from importlib.machinery import PathFinder
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen import __version__
from lockgen.store.entry import BadEntryError, load_keyed_json, store

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

    from lockgen.app.lock import LockOptions

__all__ = ["InputMemo", "Recording", "interpreter", "still_holding", "text_sha256"]

_FORMAT = "inputs-2"
#: Far above any real memo (a few files and variables).
_LIMIT = 1024 * 1024


def text_sha256(text: str) -> str:
    """The sha256 (hex) of text as UTF-8, lone surrogates included (a file read with
    surrogate escapes, a variable's value): what the memo and settled verdicts keep."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Recording:
    """The ``read_text`` and ``environ`` a full read of the inputs is given, noting
    each file read and each variable looked up."""

    def __init__(self, read_text: Callable[[str], str], environ: Mapping[str, str]):
        self.files: dict[str, str] = {}
        self.environ = _RecordedEnviron(environ)
        self._read_text = read_text

    def read_text(self, path: str) -> str:
        text = self._read_text(path)
        self.files[path] = text_sha256(text)
        return text


class _RecordedEnviron(Mapping[str, str]):
    """A mapping that notes every key looked up (and whether it was iterated)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.used: dict[str, str | None] = {}
        self.iterated = False

    def __getitem__(self, key: str) -> str:
        try:
            value = self._environ[key]
        except KeyError:
            self.used[key] = None
            raise
        self.used[key] = text_sha256(value)
        return value

    def __iter__(self) -> Iterator[str]:
        self.iterated = True
        return iter(self._environ)

    def __len__(self) -> int:
        self.iterated = True
        return len(self._environ)


class InputMemo:
    """The memo in the cache at ``root`` for one command line's ``options``."""

    def __init__(self, root: Path, options: LockOptions) -> None:
        self._key = _key(options)
        self._root = root
        self._path = None if self._key is None else _path(root, self._key)
        self._tmp = root / "v1" / "tmp"

    @property
    def key(self) -> str | None:
        """The entry's key (``None``: no memo applies to these options)."""
        return self._key

    def recalled(
        self, read_text: Callable[[str], str], environ: Mapping[str, str]
    ) -> str | None:
        """The inputs digest remembered for these options, if every file and
        variable it came from is unchanged; else ``None``."""
        if self._key is None:
            return None
        return still_holding(self._root, self._key, read_text, environ)

    def remember(
        self, recording: Recording, digest: str, folders: Sequence[str]
    ) -> None:
        """Keep ``digest``, computed from what ``recording`` saw, with the local
        index ``folders`` the inputs name (a full read checks they exist; so does a
        recalled memo). Best effort."""
        if self._path is None or recording.environ.iterated:
            return
        if not all(_regular(path) for path in recording.files):
            return  # stdin, /dev/stdin, a pipe: read once, never checked again
        fields = {
            "digest": digest,
            "files": recording.files,
            "environ": recording.environ.used,
            "pip": _pip_state(recording.environ),
            "folders": list(folders),
        }
        payload = json.dumps(fields, sort_keys=True).encode()
        store(self._tmp, self._path, {"key": self._key}, payload)


def still_holding(
    root: Path,
    key: str,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
) -> str | None:
    """The inputs digest the memo ``key`` in the cache at ``root`` remembers, if
    every file and variable it came from is unchanged; else ``None``."""

    memo = load_keyed_json(_path(root, key), key, _Memo.checked, _LIMIT)
    if memo is None or not memo.still_holds(read_text, environ):
        return None
    return memo.digest


class _Memo:
    """A memo entry's fields, each of the type it must have."""

    def __init__(
        self,
        digest: str,
        files: dict[str, str],
        environ: dict[str, str | None],
        pip: str,
        folders: list[str],
    ) -> None:
        self.digest, self.files, self.environ, self.pip = digest, files, environ, pip
        self.folders = folders

    def still_holds(
        self, read_text: Callable[[str], str], environ: Mapping[str, str]
    ) -> bool:
        """Whether pip's settings, every variable and every file are unchanged."""
        if self.pip != _pip_state(environ):
            return False
        if not all(Path(folder).is_dir() for folder in self.folders):
            return False
        for name, value in self.environ.items():
            now = environ.get(name)
            if (None if now is None else text_sha256(now)) != value:
                return False
        try:  # only regular files: checking must not drain a pipe the run reads
            return all(
                _regular(p) and text_sha256(read_text(p)) == d
                for p, d in self.files.items()
            )
        except (OSError, UnicodeDecodeError):
            return False

    @classmethod
    def checked(cls, fields: object) -> _Memo:
        if not isinstance(fields, dict):
            raise BadEntryError("payload is not an object")
        digest, pip = fields.get("digest"), fields.get("pip")
        files, environ = fields.get("files"), fields.get("environ")
        if not isinstance(digest, str) or not isinstance(pip, str):
            raise BadEntryError("no digest")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise BadEntryError("files are not (path, sha256) pairs")
        if not isinstance(environ, dict) or not all(
            isinstance(k, str) and (v is None or isinstance(v, str))
            for k, v in environ.items()
        ):
            raise BadEntryError("variables are not (name, sha256 or null) pairs")
        folders = fields.get("folders")
        if not isinstance(folders, list) or not all(
            isinstance(f, str) for f in folders
        ):
            raise BadEntryError("folders are not paths")
        return cls(digest, files, environ, pip, folders)


def _regular(path: str) -> bool:
    """Whether ``path`` is a regular file (after symlinks), which reads the same
    twice: not ``-``, ``/dev/stdin``, a ``<(...)`` pipe or a FIFO."""
    if path == "-":
        return False
    try:
        return stat.S_ISREG(Path(path).stat().st_mode)
    except (OSError, ValueError):
        return False


def _pip_state(environ: Mapping[str, str]) -> str:
    """pip's index settings as a full read takes them (config files and all); with
    none configured, the version of the pip whose built-in default is used (reading
    that default imports a part of pip, its version does not)."""
    from lockgen.app.pipconfig import read_pip_settings

    pip = read_pip_settings(environ)
    default = _pip_version() if pip.index_url is None else None
    return text_sha256(json.dumps([pip.index_url, list(pip.extra_index_urls), default]))


def _pip_version() -> str | None:
    try:
        import pip
    except ImportError:
        return None
    version = getattr(pip, "__version__", None)
    return version if isinstance(version, str) else None


def _key(options: LockOptions) -> str | None:
    """What the entry is for; ``None`` when no memo applies (a target given as an
    object, a file from standard input, a platform without ``uname``)."""
    if options.target is not None or "-" in (
        *options.requirement_files,
        *options.constraint_files,
    ):
        return None
    running = interpreter()
    try:
        cwd = str(Path.cwd())
    except OSError:  # the current folder was removed
        return None
    if running is None:
        return None
    import packaging  # the package only: its version, not its parsers

    fields = {
        "format": _FORMAT,
        "lockgen": __version__,
        "packaging": packaging.__version__,
        "cwd": cwd,
        "interpreter": running,
        "options": [
            list(options.requirement_files),
            list(options.constraint_files),
            options.index_url,
            list(options.extra_index_urls),
            list(options.find_links),
            options.no_index,
            options.pre,
            list(options.only_binary),
            list(options.no_binary),
            list(options.target_spec or (None, None)),
            *(
                []
                if options.exclude_newer is None
                else [options.exclude_newer.isoformat()]
            ),
            *(
                []
                if not (options.no_build or options.no_build_packages)
                else [options.no_build, sorted(options.no_build_packages)]
            ),
            *(
                []
                if (options.extras, options.groups, options.default_groups)
                == (None, None, True)
                else [options.extras, options.groups, options.default_groups]
            ),
        ],
    }
    return hashlib.sha256(json.dumps(fields).encode()).hexdigest()


def interpreter() -> list[str] | None:
    """What the running target's markers and tags come from."""
    if not sys.executable or not hasattr(os, "uname"):
        return None
    try:  # the binary itself: the console script and python -m name it differently
        executable = Path(sys.executable).resolve()
        binary = executable.stat()
    except OSError:
        return None
    libc = ""
    if hasattr(os, "confstr"):
        try:
            libc = os.confstr("CS_GNU_LIBC_VERSION") or ""
        except (OSError, ValueError):
            libc = ""
    return [
        str(executable),
        sys.version,
        sys.implementation.cache_tag or "",
        sys.platform,
        os.name,
        *os.uname(),
        libc,
        str(binary.st_mtime_ns),
        str(binary.st_size),
        # what else packaging's tags read: the platform sysconfig reports (it
        # honours _PYTHON_HOST_PLATFORM and MACOSX_DEPLOYMENT_TARGET) and a
        # _manylinux module overriding manylinux compatibility, found on sys.path
        sysconfig.get_platform(),
        _manylinux_override(),
    ]


def _manylinux_override() -> str:
    """Where a ``_manylinux`` module packaging would import is, and when it changed
    (``""``: none)."""
    spec = PathFinder.find_spec("_manylinux")
    if spec is None or spec.origin is None:
        return ""
    try:
        return f"{spec.origin}:{Path(spec.origin).stat().st_mtime_ns}"
    except OSError:
        return spec.origin


def _path(root: Path, key: str) -> Path:
    return root / "v1" / "inputs" / key
