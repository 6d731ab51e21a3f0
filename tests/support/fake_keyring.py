"""A stand-in ``keyring`` command: a real executable, for tests to put first on PATH.

It speaks the CLI of keyring >= 25.2.1 as pip calls it (``keyring --mode=creds
--output=json get SERVICE [USER]``): it prints the stored credential as JSON and exits
0, or exits 1 when nothing is stored, and logs every argv to ``calls.jsonl`` beside
itself. ``old=True`` makes it a keyring too old for ``--mode``, failing as argparse
does.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

__all__ = ["FakeKeyring"]

_SCRIPT = """#!{python}
import json, sys
from pathlib import Path

here = Path(__file__).parent
with open(here / "calls.jsonl", "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if {old}:
    sys.stderr.write("keyring: error: unrecognized arguments: --mode=creds\\n")
    sys.exit(2)
args = sys.argv[1:]
assert args[:3] == ["--mode=creds", "--output=json", "get"], args
service, user = args[3], (args[4] if len(args) > 4 else None)
stored = json.loads((here / "store.json").read_text())
for entry in stored:
    if entry["service"] == service and user in (None, entry["username"]):
        print(json.dumps({{"username": entry["username"], "password": entry["password"]}}))
        sys.exit(0)
sys.exit(1)
"""


class FakeKeyring:
    """``FakeKeyring(folder).store(service, user, password)``; put ``folder`` on PATH."""

    def __init__(self, folder: Path, *, old: bool = False) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.path = folder / "keyring"
        self.path.write_text(_SCRIPT.format(python=sys.executable, old=old))
        self.path.chmod(0o755)
        self._store: list[dict[str, str]] = []
        (folder / "store.json").write_text("[]")

    def store(self, service: str, username: str, password: str) -> None:
        self._store.append(
            {"service": service, "username": username, "password": password}
        )
        (self.folder / "store.json").write_text(json.dumps(self._store))

    @property
    def calls(self) -> list[list[str]]:
        """The argv of every call so far (without the program name)."""
        log = self.folder / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]
