"""Entry point for ``python -m lockgen``."""

from lockgen.cli.main import main

main()
