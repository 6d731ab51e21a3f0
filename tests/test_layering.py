"""The layers are the package's folders; each may import only the layers below it.

    cli -> app -> net -> store -> core
           app -> lockfile -> resolver -> core
           app -> build -> core

``core``, ``resolver`` and ``lockfile`` are pure: they never import urllib3 or click,
even indirectly, and never the I/O layers. The rule is read from each module's path,
so a new module is covered the day it is added; no list is kept by hand.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import lockgen

PACKAGE = Path(lockgen.__file__).parent
#: What each layer may import from lockgen (besides itself and the top-level package).
ALLOWED = {
    "core": set(),
    "resolver": {"core"},
    "lockfile": {"core", "resolver"},
    "store": {"core"},
    "net": {"core", "store"},
    "build": {"core"},
    "app": {"core", "resolver", "lockfile", "store", "net", "build"},
    "cli": {"core", "resolver", "lockfile", "store", "net", "build", "app"},
}
PURE = ("core", "resolver", "lockfile")
#: The only modules that may import these libraries.
LIBRARY_OWNERS = {
    "urllib3": {
        "net/transport.py",
        "net/http_response.py",
        "net/http_retry.py",
        "net/http_pools.py",
        "net/http_addresses.py",
    },
    "click": {
        "cli/main.py",
        "cli/options.py",
        "cli/output.py",
        "cli/lock_command.py",
        "cli/hydrate_command.py",
        "cli/cache_command.py",
    },
}


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str | None:
    parts = path.relative_to(PACKAGE).parts
    return parts[0] if len(parts) > 1 else None


def _imported(path: Path) -> set[str]:
    """Every ``lockgen.X...`` a module imports (``lockgen`` alone included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return {n for n in names if n == "lockgen" or n.startswith("lockgen.")}


def test_every_module_is_in_a_layer() -> None:
    top = {p.name for p in _modules() if _layer(p) is None}
    assert top <= {"__init__.py", "__main__.py"}
    assert {_layer(p) for p in _modules()} - {None} == set(ALLOWED)


@pytest.mark.parametrize(
    "path",
    [p for p in _modules() if _layer(p)],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_a_layer_imports_only_the_layers_below_it(path: Path) -> None:
    layer = _layer(path)
    assert layer is not None
    for name in _imported(path):
        parts = name.split(".")
        if len(parts) == 1 or parts[1] == "__version__":
            continue  # the package itself: its version
        assert parts[1] in ALLOWED[layer] | {layer}, f"{layer} imports {name}"


@pytest.mark.parametrize("layer", PURE)
def test_pure_layers_import_no_io_library(layer: str) -> None:
    modules = [
        ".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts)
        for p in (PACKAGE / layer).glob("*.py")
    ]
    code = (
        f"import sys, {', '.join(modules)}; "
        "bad = sorted(m for m in ('urllib3', 'click') if m in sys.modules); "
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"{layer} pulls in {out}"


def test_only_their_owners_import_urllib3_and_click() -> None:
    for path in _modules():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])
            elif isinstance(node, ast.Import):
                imported.update(a.name.split(".")[0] for a in node.names)
        where = path.relative_to(PACKAGE).as_posix()
        for library, owners in LIBRARY_OWNERS.items():
            if library in imported:
                assert where in owners, f"{where} imports {library}"
