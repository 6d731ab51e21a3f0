"""An up-to-date re-lock answered before the command line is parsed.

A no-op re-lock is what pre-commit hooks and build tools run most, and most of its
cost was Python's start-up and the modules of the command line: click alone takes
longer to import than the whole verdict takes to reach. So when ``lockgen lock``
finds its lock up to date through the inputs memo (:mod:`lockgen.app.input_memo`),
the command line keeps a record (``ROOT/v1/settled/``) of that verdict: which memo
held, for which interpreter, and the sha256 of the lock's text. Its key is the exact
arguments, the current folder, the cache root, lockgen's and packaging's versions
and every ``LOCKGEN_`` variable: the same arguments in the same place mean the same
options, so the same checks decide.

The next ``lockgen lock`` with that key checks, before click is imported, that the
memo still holds (every file and variable it came from unchanged, pip's settings
too), the interpreter is the same and the lock's text is the same, and prints the
line the full run printed. Anything else, or anything unreadable, is the full run.
Like every cache entry a record is untrusted; a forged one can make a run take its
lock for up to date, as a forged memo can. Arguments that resolve anyway
(``--check``, ``-U``, ``-P``, ``--refresh``) or print the lock (``-o -``) are never
answered, whatever the cache holds.
"""

from __future__ import annotations

import codecs
import json
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen import __version__
from lockgen.app.input_memo import interpreter, still_holding, text_sha256
from lockgen.store.entry import BadEntryError, load_keyed_json, store

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from lockgen.app.input_memo import InputMemo

__all__ = [
    "answer",
    "cache_root",
    "packages_text",
    "remember",
    "resolves_anyway",
    "up_to_date_line",
]

_FORMAT = "settled-1"
_LIMIT = 64 * 1024


def up_to_date_line(output: str, packages: int, elapsed: float) -> str:
    """The line an up-to-date run prints (the full run's and this one's)."""
    return (
        f"{output} is up to date ({packages_text(packages)}); "
        f"nothing to do ({elapsed:.2f}s)"
    )


def packages_text(count: int) -> str:
    """``1 package``, ``2 packages``: how the command line counts them."""
    return f"{count} package" if count == 1 else f"{count} packages"


def cache_root(argv: Sequence[str], environ: Mapping[str, str]) -> Path | None:
    """The cache a ``lock`` with these arguments uses, as its ``--cache-dir`` (the
    last one given) or the default says; ``None`` with ``--no-cache``. A guess that
    differs from what click makes of the arguments only misses: the root is part of
    every record's key."""
    if "--no-cache" in argv:
        return None
    given = None
    for i, arg in enumerate(argv):
        if arg == "--cache-dir" and i + 1 < len(argv):
            given = argv[i + 1]
        elif arg.startswith("--cache-dir="):
            given = arg.partition("=")[2]
    if given:
        return Path(given)
    from lockgen.store.location import default_cache_dir

    return default_cache_dir(environ)


def remember(
    argv: Sequence[str],
    environ: Mapping[str, str],
    root: Path,
    memo: InputMemo,
    *,
    digest: str,
    output: str,
    text: str,
    packages: int,
    quiet: bool,
) -> None:
    """Keep the verdict that ``output`` (whose text is ``text``) is up to date for
    the inputs digest ``digest``, which ``memo`` holds, for runs with these
    arguments and ``LOCKGEN_`` variables. Best effort."""
    key = _key(argv, root, environ)
    if key is None or memo.key is None:
        return
    if still_holding(root, memo.key, _read_text, environ) != digest:
        return  # not remembered (a pipe, stdin), or already out of date
    fields = {
        "memo": memo.key,
        "digest": digest,
        "interpreter": interpreter(),
        "output": output,
        "lock": text_sha256(text),
        "packages": packages,
        "quiet": quiet,
    }
    payload = json.dumps(fields, sort_keys=True).encode()
    store(root / "v1" / "tmp", _path(root, key), {"key": key}, payload)


def answer(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Print the up-to-date line and return ``True`` if a record says these
    arguments' lock is up to date and every check still holds; else ``False``, and
    nothing printed."""
    started = time.monotonic()
    if resolves_anyway(argv):
        return False
    root = cache_root(argv, environ)
    key = None if root is None else _key(argv, root, environ)
    if root is None or key is None:
        return False
    record = load_keyed_json(_path(root, key), key, _record, _LIMIT)
    if record is None or (not record.quiet and not _utf8_stderr()):
        return False
    if not record.holds(root, environ):
        return False
    if not record.quiet:
        from lockgen.app.pipconfig import ignored_notes, read_pip_settings
        from lockgen.core.printable import printable

        lines = [*ignored_notes(read_pip_settings(environ))]
        elapsed = time.monotonic() - started
        lines.append(up_to_date_line(record.output, record.packages, elapsed))
        with suppress(OSError, AttributeError):  # stderr closed: best effort
            sys.stderr.write("".join(printable(line) + "\n" for line in lines))
            sys.stderr.flush()
    return True


#: Long options that make a run resolve, compare or print the lock whatever the
#: record says; their short forms are ``-U`` and ``-P``, and ``-o -`` is stdout.
_NEVER_ANSWERED = ("--check", "--upgrade", "--upgrade-package", "--refresh")


def resolves_anyway(argv: Sequence[str]) -> bool:
    """Whether these arguments may ask for what no record answers: ``--check``,
    ``-U``, ``-P``, ``--refresh``, the lock on stdout, requirements from stdin. A
    genuine run never records a verdict for them; refusing them here too means a
    forged record cannot stand in for ``--check``. It errs towards refusing: a
    short-option cluster with a ``U`` or ``P`` anywhere (``-qU``, or a value such
    as ``-oPylock``) is refused as well."""
    for i, arg in enumerate(argv):
        if arg == "-" or arg.split("=", 1)[0] in _NEVER_ANSWERED:
            return True
        if (
            arg.startswith("-")
            and not arg.startswith("--")
            and ("U" in arg or "P" in arg)
        ):
            return True
        if arg in ("-o-", "--output=-") or (
            arg in ("-o", "--output") and argv[i + 1 : i + 2] == ["-"]
        ):
            return True
    return False


def _utf8_stderr() -> bool:
    """Whether stderr writes UTF-8, as click makes it write: on another encoding
    click's own stream handling decides how a path is spelled, so the full run
    answers."""
    encoding = getattr(sys.stderr, "encoding", None)
    if not isinstance(encoding, str):
        return False
    try:
        return codecs.lookup(encoding).name == "utf-8"
    except LookupError:
        return False


class _Record:
    """A record's fields, each of the type it must have."""

    def __init__(self, fields: dict[str, object]) -> None:
        memo, digest, output, lock = (
            fields.get(name) for name in ("memo", "digest", "output", "lock")
        )
        running, packages, quiet = (
            fields.get(name) for name in ("interpreter", "packages", "quiet")
        )
        if not (
            isinstance(memo, str)
            and isinstance(digest, str)
            and isinstance(output, str)
            and isinstance(lock, str)
            and isinstance(running, list)
            and type(packages) is int
            and type(quiet) is bool
        ):
            raise BadEntryError("not a settled record")
        self.memo, self.digest, self.output, self.lock = memo, digest, output, lock
        self.interpreter, self.packages, self.quiet = running, packages, quiet

    def holds(self, root: Path, environ: Mapping[str, str]) -> bool:
        """Whether the interpreter, the remembered inputs (their digest included)
        and the lock's text are all what they were at the verdict."""
        if self.interpreter != interpreter():
            return False
        if still_holding(root, self.memo, _read_text, environ) != self.digest:
            return False
        try:
            text = _read_text(self.output)
        except (OSError, UnicodeDecodeError):
            return False
        return text_sha256(text) == self.lock


def _record(fields: object) -> _Record:
    if not isinstance(fields, dict):
        raise BadEntryError("not a settled record")
    return _Record(fields)


def _key(argv: Sequence[str], root: Path, environ: Mapping[str, str]) -> str | None:
    try:
        cwd = str(Path.cwd())
    except OSError:  # the current folder was removed
        return None
    import packaging  # the package only: its version, not its parsers

    ours = sorted((k, v) for k, v in environ.items() if k.startswith("LOCKGEN_"))
    fields = [
        _FORMAT,
        __version__,
        packaging.__version__,
        list(argv),
        cwd,
        str(root),
        ours,
    ]
    return text_sha256(json.dumps(fields))


def _read_text(path: str) -> str:
    """A file as the command line reads it (the lock, a requirements file)."""
    return Path(path).read_text(encoding="utf-8")


def _path(root: Path, key: str) -> Path:
    return root / "v1" / "settled" / key
