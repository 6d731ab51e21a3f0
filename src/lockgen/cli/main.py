"""The ``lockgen`` command line: the group, its version option and its commands.

Commands stay thin: they turn options into the arguments of the use cases in
:mod:`lockgen.app` (the same ones the Python API calls), call one, and print. Any
:class:`~lockgen.core.errors.LockgenError` becomes one line on stderr and exit status
1; bad usage is click's exit status 2. Each command lives in its own module.
"""

from __future__ import annotations

import click

from lockgen import __version__
from lockgen.cli.cache_command import cache
from lockgen.cli.hydrate_command import hydrate
from lockgen.cli.lock_command import lock

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lockgen")
def main() -> None:
    """Resolve requirements into a PEP 751 pylock.toml, fast."""


main.add_command(lock)
main.add_command(hydrate)
main.add_command(cache)
