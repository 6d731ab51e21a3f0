"""Everything the command line prints, and how a run ends: message lines on stderr,
data on stdout, the error exit and the Ctrl-C watchdog.

One module owns the terminal so that every message goes through
:func:`~lockgen.core.printable.printable` and every failure is one line and exit 1.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, NoReturn

import click

from lockgen.core.printable import printable

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = [
    "emit",
    "fail",
    "progress_output",
    "prompt_interrupt",
    "say",
    "stderr_is_terminal",
]


def say(text: str) -> None:
    """A message line on stderr, every message's way out (errors included): text
    from indexes, metadata and lock files is in them, so control characters are
    shown, never obeyed (:func:`~lockgen.core.printable.printable`). Messages are best
    effort: an unwritable stderr (a full disk, closed) must not cost the user the
    lock the run was making; the exit status still tells."""
    with suppress(OSError):
        click.echo(printable(text), err=True)


def emit(text: str, *, nl: bool = True) -> None:
    """Write data to stdout as it is: the lock and ``--json`` escape control
    characters themselves, cache paths are the user's own. An unwritable stdout (a
    full disk, a closed descriptor) is one error line, not a traceback; a reader that
    went away (``| head``) ends the run quietly, as other command-line tools do."""
    if sys.stdout is None:
        fail("cannot write to standard output: it is closed")
    try:
        click.echo(text, nl=nl)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_exit_after_broken_pipe()
    except OSError as exc:
        fail(f"cannot write to standard output: {exc.strerror or exc}")


def _quiet_exit_after_broken_pipe() -> NoReturn:
    """Exit 1 without a word, with stdout pointed at /dev/null so that the
    interpreter's final flush does not report the broken pipe again."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    _REPORTED.set()
    sys.exit(1)


def fail(message: str, *, status: int = 1) -> NoReturn:
    _REPORTED.set()
    say(f"error: {message}")
    sys.exit(status)


#: Set once an error line is out, so the interrupt watchdog does not repeat it.
_REPORTED = threading.Event()
#: How long Ctrl-C waits for an orderly exit before the process ends anyway.
_INTERRUPT_GRACE = 1.0


@contextmanager
def prompt_interrupt(message: str) -> Iterator[None]:
    """Make Ctrl-C end the run within about a second, whatever threads are doing.

    The interrupt is raised as usual (so the lock file's temp file is removed and the
    error line printed); but worker threads blocked in a network read cannot be
    interrupted, and waiting for them (pool shutdown, interpreter exit) could take a
    whole read timeout. A watchdog started by the first Ctrl-C ends the process
    after :data:`_INTERRUPT_GRACE` seconds with the same line and status 130. Only in
    the main thread (where Python delivers signals); the previous handler is restored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: object) -> None:
        watchdog = threading.Timer(_INTERRUPT_GRACE, _hard_exit, args=(message,))
        watchdog.daemon = True
        watchdog.start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _hard_exit(message: str) -> None:
    if not _REPORTED.is_set():
        sys.stderr.write(f"error: {printable(message)}\n")
    sys.stderr.flush()
    os._exit(130)


def progress_output(text: str) -> None:
    """The progress displays' output, as they wrote it: they send their own control
    sequences and make their text printable themselves. Best effort, like
    :func:`say`."""
    with suppress(OSError):
        click.echo(text, err=True, nl=False)


def stderr_is_terminal() -> bool:
    """Whether live progress may redraw stderr (``None`` when it was closed)."""
    return sys.stderr is not None and sys.stderr.isatty()
