"""Where the cache lives by default: the platform's convention, or ``LOCKGEN_CACHE_DIR``.

It takes the environment as a mapping, so the caller decides which environment counts
and nothing here reads the process's own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["default_cache_dir"]


def default_cache_dir(environ: Mapping[str, str], platform: str = sys.platform) -> Path:
    """Where the cache lives unless the user says otherwise: the platform's convention.

    ``LOCKGEN_CACHE_DIR`` wins. Then Windows uses ``%LOCALAPPDATA%\\lockgen\\Cache``,
    macOS ``~/Library/Caches/lockgen``, and everything else ``$XDG_CACHE_HOME/lockgen``
    (a relative value is ignored, as the XDG spec asks) or ``~/.cache/lockgen``.
    """
    if explicit := environ.get("LOCKGEN_CACHE_DIR"):
        return Path(explicit)
    if platform == "win32":
        local = environ.get("LOCALAPPDATA")
        base = Path(local) if local else _home(environ, platform) / "AppData" / "Local"
        return base / "lockgen" / "Cache"
    if platform == "darwin":
        return _home(environ, platform) / "Library" / "Caches" / "lockgen"
    xdg = environ.get("XDG_CACHE_HOME")
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / "lockgen"
    return _home(environ, platform) / ".cache" / "lockgen"


def _home(environ: Mapping[str, str], platform: str) -> Path:
    names = ("USERPROFILE", "HOME") if platform == "win32" else ("HOME",)
    home = next((environ[n] for n in names if environ.get(n)), None)
    return Path(home) if home else Path.home()
