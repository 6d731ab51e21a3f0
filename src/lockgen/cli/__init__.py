"""The command line: click commands, options and what is shown on the terminal."""

from lockgen.cli.main import main

__all__ = ["main"]
