"""The ``lockgen`` command line: the group, its version option and its commands.

Commands stay thin: they turn options into the arguments of the use cases in
:mod:`lockgen.app` (the same ones the Python API calls), call one, and print. Any
:class:`~lockgen.core.errors.LockgenError` becomes one line on stderr and exit status
1; bad usage is click's exit status 2. Each command lives in its own module, imported
only when that command runs (or help lists it): a ``lock`` never loads ``hydrate``'s
options, and ``--version`` loads none of them.
"""

from __future__ import annotations

import importlib

import click

from lockgen import __version__

__all__ = ["main"]

#: Each command and the module that defines it (under the same name).
_COMMANDS = {
    "cache": "lockgen.cli.cache_command",
    "hydrate": "lockgen.cli.hydrate_command",
    "lock": "lockgen.cli.lock_command",
}


class _LazyGroup(click.Group):
    """A group that imports a command's module the first time the command is used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """The commands, sorted, as :class:`click.Group` lists them."""
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name``, importing its module now."""
        module = _COMMANDS.get(cmd_name)
        if module is None:
            return None
        command: click.Command = getattr(importlib.import_module(module), cmd_name)
        return command


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lockgen")
def main() -> None:
    """Resolve requirements into a PEP 751 pylock.toml, fast."""
