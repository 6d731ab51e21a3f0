"""Entry point for ``python -m lockgen`` and the ``lockgen`` script.

``lockgen --version`` (or ``-V``) alone is answered here, before click is imported:
click and the commands cost several times what the interpreter's own start-up does,
and a version check should be instant. The text is click's ``version_option`` text.
So is a ``lockgen lock`` whose up-to-date verdict is on record and still holds
(:mod:`lockgen.app.settled`); everything else goes to the click group in
:mod:`lockgen.cli.main`, which is given the arguments so that ``lock`` can record
its verdict under them.
"""

from __future__ import annotations

import os
import sys

from lockgen import __version__

__all__ = ["run"]


def run() -> None:
    """Print the version for a bare ``--version``; answer a ``lock`` whose verdict
    is on record (:mod:`lockgen.app.settled`); else run the command line. Then
    exit at once (:func:`_exit_now`)."""
    try:
        _run()
    except SystemExit as done:
        if done.code is None or isinstance(done.code, int):
            _exit_now(done.code or 0)
        raise


def _exit_now(status: int) -> None:
    """End the process once the command is done, without tearing the interpreter
    down object by object: after a cold lock of 105 packages that took 110-140 ms
    here (the pages, records and resolver state freed one by one), against about
    20 ms for the kernel to reclaim the memory at once.

    Nothing is skipped that matters: every file is written and closed by then, the
    standard streams are flushed here, and the exit functions (``atexit``, and the
    ``weakref.finalize`` cleanups it runs, such as a ``--no-cache`` build folder's
    removal) run as they would. A stream that cannot be flushed, or a Python
    without ``atexit._run_exitfuncs``, gets the ordinary exit instead.
    """
    import atexit

    run_exit_functions = getattr(atexit, "_run_exitfuncs", None)
    if run_exit_functions is None:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return  # the interpreter's own exit reports (or silences) it, as before
    run_exit_functions()
    os._exit(status)


def _run() -> None:
    argv = sys.argv[1:]
    if argv in (["--version"], ["-V"]):
        sys.exit(_print_version())
    if argv[:1] == ["lock"]:
        from lockgen.app.settled import answer

        if answer(argv, os.environ):
            sys.exit(0)
    from lockgen.cli.main import main

    main(args=argv, obj={"argv": tuple(argv)})


def _print_version() -> int:
    """The version line; an unwritable stdout is one error line and status 1, as in
    the command line (a reader gone from a pipe, quietly)."""
    try:
        if sys.stdout is None:
            raise OSError("it is closed")
        sys.stdout.write(f"lockgen, version {__version__}\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    except OSError as exc:
        if sys.stderr is not None:
            reason = exc.strerror or str(exc)
            sys.stderr.write(f"error: cannot write to standard output: {reason}\n")
    else:
        return 0
    if sys.stdout is not None:  # the interpreter's final flush must not fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 1


if __name__ == "__main__":
    run()
