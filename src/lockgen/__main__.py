"""Entry point for ``python -m lockgen``."""

from lockgen.cli import main

main()
