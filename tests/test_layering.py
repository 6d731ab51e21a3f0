"""The pure core never imports urllib3 or click, even indirectly (architecture rule)."""

from __future__ import annotations

import subprocess
import sys

import pytest

PURE = [
    "lockgen.errors",
    "lockgen.models",
    "lockgen.requirements",
    "lockgen._reqsyntax",
    "lockgen.simple_api",
    "lockgen.link_scope",
    "lockgen.environment",
    "lockgen.wheel_metadata",
    "lockgen.wheel_zip",
    "lockgen.repository",
    "lockgen.provider",
    "lockgen.resolve",
    "lockgen.lockfile",
    "lockgen.progress",
    "lockgen.printable",
    "lockgen.relock",
    "lockgen.access",
    "lockgen.credentials",
]


@pytest.mark.parametrize("module", PURE)
def test_pure_module_imports_no_io_library(module: str) -> None:
    code = (
        f"import sys, {module}; "
        "bad = sorted(m for m in ('urllib3', 'click') if m in sys.modules); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{module} pulls in {out}"


def test_only_transport_and_cli_import_their_libraries() -> None:
    import re
    from pathlib import Path

    import lockgen

    allowed = {"urllib3": {"transport.py"}, "click": {"cli.py"}}
    for path in Path(lockgen.__file__).parent.glob("*.py"):
        source = path.read_text()
        for library, owners in allowed.items():
            pattern = rf"^\s*(import|from) {library}\b"
            if re.search(pattern, source, re.MULTILINE):
                assert path.name in owners, f"{path.name} imports {library}"
