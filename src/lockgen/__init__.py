"""lockgen: resolve requirements into a PEP 751 pylock.toml, fast, and fetch what it names.

The names in ``__all__`` are lockgen's Python API, for build tools that would rather
not spawn a process. The API is provisional: it may change in a minor release until
it is declared stable. Each name is imported on first use (module ``__getattr__``), so
``import lockgen`` and ``lockgen --version`` load nothing but this file.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Each public name and the module that defines it.
_EXPORTS = {
    "lock": "lockgen.app.api",
    "hydrate": "lockgen.app.api",
    "dumps": "lockgen.app.api",
    "Target": "lockgen.core.environment",
    "HydrateReport": "lockgen.app.hydrate",
    "LockReporter": "lockgen.app.lock",
    "HydrateReporter": "lockgen.app.hydrate",
    "LockgenError": "lockgen.core.errors",
    "InvalidTargetError": "lockgen.core.errors",
    "LockFileError": "lockgen.core.errors",
    "NetworkError": "lockgen.core.errors",
    "ProjectNotFoundError": "lockgen.core.errors",
    "ResolutionError": "lockgen.core.errors",
}
#: Public names whose definition has another name there.
_RENAMED = {"LockReporter": "Progress", "HydrateReporter": "HydrateProgress"}

__all__ = [
    "HydrateReport",
    "HydrateReporter",
    "InvalidTargetError",
    "LockFileError",
    "LockReporter",
    "LockgenError",
    "NetworkError",
    "ProjectNotFoundError",
    "ResolutionError",
    "Target",
    "__version__",
    "dumps",
    "hydrate",
    "lock",
]

if TYPE_CHECKING:
    from lockgen.app.api import dumps, hydrate, lock
    from lockgen.app.hydrate import HydrateProgress as HydrateReporter
    from lockgen.app.hydrate import HydrateReport
    from lockgen.app.lock import Progress as LockReporter
    from lockgen.core.environment import Target
    from lockgen.core.errors import (
        InvalidTargetError,
        LockFileError,
        LockgenError,
        NetworkError,
        ProjectNotFoundError,
        ResolutionError,
    )


def __getattr__(name: str) -> object:
    """Import a public name's module the first time the name is used."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'lockgen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
