"""Settings lockgen takes from pip's configuration, so a pip user configures nothing twice.

The index used when none is given: ``PIP_INDEX_URL``; then ``index-url`` from pip's
config files (``PIP_CONFIG_FILE`` over the site file over the user files over the
global ones; ``[install]`` over ``[global]``); then the default built into the
installed pip, read from pip itself at run time so lockgen never hard-codes a public
host. Other settings (``cert``, ``client-cert``) follow the same order without the
built-in default: ``PIP_CERT`` over the config files' ``cert``.
"""

from __future__ import annotations

import configparser
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = ["default_index_url", "pip_setting"]

_SECTIONS = ("global", "install")


def default_index_url(environ: Mapping[str, str]) -> str | None:
    """The index URL pip would use, or ``None`` when neither config nor pip exists."""
    from_env = environ.get("PIP_INDEX_URL", "").split()
    if from_env:
        return from_env[0]
    configured = _configured(environ, "index-url")
    if configured:
        return configured.split()[0]
    return _builtin_index_url()


def pip_setting(environ: Mapping[str, str], name: str) -> str | None:
    """A path-valued pip option (``cert``, ``client-cert``): ``PIP_NAME``, then config.

    A leading ``~`` is expanded as pip's ``path`` options do.
    """
    variable = "PIP_" + name.upper().replace("-", "_")
    value = environ.get(variable, "").strip() or _configured(environ, name)
    if not value:
        return None
    if value == "~" or value.startswith("~/"):
        home = environ.get("HOME", str(Path.home()))
        value = home + value[1:]
    return value


def _configured(environ: Mapping[str, str], name: str) -> str | None:
    """The last value of ``name`` in pip's config files, in pip's priority order."""
    value: str | None = None
    for path in _config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in _SECTIONS:
            if parser.has_option(section, name):
                value = parser.get(section, name).strip()
    return value


def _config_files(environ: Mapping[str, str]) -> Iterator[Path]:
    """Config files in increasing priority, as pip's ``iter_config_files`` orders them.

    ``PIP_CONFIG_FILE=/dev/null`` means none at all, as pip's ``_load_config_files``.
    """
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:
        return
    xdg_dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
    for folder in xdg_dirs.split(os.pathsep):
        yield Path(folder, "pip", "pip.conf")
    yield Path("/etc/pip.conf")
    if not (env_file and Path(env_file).exists()):
        home = Path(environ.get("HOME", str(Path.home())))
        yield home / ".pip" / "pip.conf"
        if sys.platform == "darwin":
            yield home / "Library" / "Application Support" / "pip" / "pip.conf"
        config_home = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        yield Path(config_home, "pip", "pip.conf")
    yield Path(sys.prefix, "pip.conf")
    if env_file:
        yield Path(env_file)


def _builtin_index_url() -> str | None:
    try:
        module = importlib.import_module("pip._internal.models.index")
    except ImportError:
        return None
    url = getattr(getattr(module, "PyPI", None), "simple_url", None)
    return url if isinstance(url, str) else None
