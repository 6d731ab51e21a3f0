"""Entry point for ``python -m lockgen`` and the ``lockgen`` script.

``lockgen --version`` (or ``-V``) alone is answered here, before click is imported:
click and the commands cost several times what the interpreter's own start-up does,
and a version check should be instant. The text is click's ``version_option`` text;
everything else goes to the click group in :mod:`lockgen.cli.main`.
"""

from __future__ import annotations

import os
import sys

from lockgen import __version__

__all__ = ["run"]


def run() -> None:
    """Print the version for a bare ``--version``, else run the command line."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.exit(_print_version())
    from lockgen.cli.main import main

    main()


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
