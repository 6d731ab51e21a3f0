"""Entry point for ``python -m lockgen`` and the ``lockgen`` script.

``lockgen --version`` (or ``-V``) alone is answered here, before click is imported:
click and the commands cost several times what the interpreter's own start-up does,
and a version check should be instant. The text is click's ``version_option`` text;
everything else goes to the click group in :mod:`lockgen.cli.main`.
"""

from __future__ import annotations

import sys

from lockgen import __version__

__all__ = ["run"]


def run() -> None:
    """Print the version for a bare ``--version``, else run the command line."""
    if sys.argv[1:] in (["--version"], ["-V"]):
        sys.stdout.write(f"lockgen, version {__version__}\n")
        return
    from lockgen.cli.main import main

    main()


if __name__ == "__main__":
    run()
