"""Running ``python -m lockgen`` in a child process, the way the tests that need a real
process (signals, terminals, closed or full streams, peak memory, two processes at
once) all do it.

The autouse ``_hermetic`` fixture has already cleaned this process's environment; the
child inherits it, minus every ``PIP_*`` setting the machine may add, with pip's
configuration file off, so no test reads the machine's pip configuration.
"""

from __future__ import annotations

import os
import sys

__all__ = ["isolated_env", "lockgen_command"]


def isolated_env(**extra: str) -> dict[str, str]:
    """This process's environment without ``PIP_*`` settings, pip's configuration file
    off (``PIP_CONFIG_FILE`` is ``os.devnull``), then ``extra`` on top."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.update(extra)
    return env


def lockgen_command(*args: str) -> list[str]:
    """The argv of ``python -m lockgen ARGS`` with this interpreter (so the child runs
    the code under test: it inherits ``PYTHONPATH``)."""
    return [sys.executable, "-m", "lockgen", *args]


#: Python lines that turn the command line's immediate exit (``os._exit``, after its
#: exit functions: see ``lockgen.__main__``) back into ``SystemExit``, so that a
#: test running it in-process (``runpy``) can look at what it loaded afterwards.
EXIT_AS_SYSTEM_EXIT = """\
import os
def _exit(code):
    raise SystemExit(code)
os._exit = _exit
"""
