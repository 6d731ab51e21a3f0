"""What lockgen takes from pip's configuration, read with pip's own precedence.

lockgen honours pip's ``index-url`` and ``extra-index-url`` as defaults under the
command line and the requirements files. It does not honour ``find-links``,
``no-index`` and ``constraint``: they usually name machine-local paths, and following
them would make a committed lock depend on the machine that wrote it. :func:`ignored_notes` says so.
Its ``cert`` and ``client-cert`` (TLS settings) are honoured too: :func:`pip_setting`.

Precedence, as pip's option parser applies it: a non-empty ``PIP_<NAME>`` environment
variable beats the ``[install]`` section, which beats ``[global]``; within a section
the config file of highest priority wins (``PIP_CONFIG_FILE`` over the site file over
the user files over the global ones). ``PIP_CONFIG_FILE=/dev/null`` loads no file at
all, as in pip. List options (``extra-index-url``, ``find-links``, ``constraint``) are
whitespace-separated. Without any configured index, the default built into the
installed pip is read from pip itself at run time, so lockgen never hard-codes a
public host.
"""

from __future__ import annotations

import configparser
import importlib
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

__all__ = [
    "PipSettings",
    "builtin_index_url",
    "default_index_url",
    "ignored_notes",
    "pip_setting",
    "read_pip_settings",
]

_SECTIONS = ("global", "install")
_KEYS = (
    "index-url",
    "extra-index-url",
    "find-links",
    "no-index",
    "constraint",
    "cert",
    "client-cert",
)
_TRUE = frozenset({"y", "yes", "t", "true", "on", "1"})


class PipSettings(NamedTuple):
    """The index settings pip's environment and config files give (a named tuple,
    not a dataclass: an up-to-date re-lock reads them before anything else needs
    :mod:`dataclasses`, whose import costs more than that whole answer here)."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    constraints: tuple[str, ...] = ()


def read_pip_settings(environ: Mapping[str, str]) -> PipSettings:
    """pip's configured index settings (without pip's built-in default index)."""
    values = _configured_values(environ)
    index_url = values.get("index-url", "").split()
    return PipSettings(
        index_url=index_url[0] if index_url else None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=values.get("no-index", "").strip().lower() in _TRUE,
        constraints=tuple(values.get("constraint", "").split()),
    )


def default_index_url(environ: Mapping[str, str]) -> str | None:
    """The index URL pip would use, or ``None`` when neither config nor pip exists."""
    return read_pip_settings(environ).index_url or builtin_index_url()


def pip_setting(environ: Mapping[str, str], name: str) -> str | None:
    """A path-valued pip option (``cert``, ``client-cert``), with pip's precedence.

    A leading ``~`` is expanded as pip's ``path`` options do.
    """
    value = _configured_values(environ).get(name, "").strip()
    if not value:
        return None
    if value == "~" or value.startswith("~/"):
        home = environ.get("HOME", str(Path.home()))
        value = home + value[1:]
    return value


def ignored_notes(settings: PipSettings) -> list[str]:
    """One line per pip setting lockgen deliberately does not follow."""
    notes = []
    if settings.find_links:
        notes.append(
            f"note: pip's configured find-links ({' '.join(settings.find_links)}) "
            "is not used by lockgen; pass --find-links to use it"
        )
    if settings.no_index:
        notes.append(
            "note: pip's configured no-index is not used by lockgen; "
            "pass --no-index to use it"
        )
    if settings.constraints:
        notes.append(
            f"note: pip's configured constraint ({' '.join(settings.constraints)}) "
            "is not used by lockgen; pass -c FILE to use it"
        )
    return notes


def _configured_values(environ: Mapping[str, str]) -> dict[str, str]:
    """Each key's winning non-empty value: environment, then ``[install]``, ``[global]``."""
    by_section: dict[str, dict[str, str]] = {section: {} for section in _SECTIONS}
    for path in _config_files(environ):
        parser = configparser.RawConfigParser()
        try:
            parser.read(path, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        for section in _SECTIONS:
            for key in _KEYS:
                if parser.has_option(section, key):
                    by_section[section][key] = parser.get(section, key)
    env = {
        key: environ.get("PIP_" + key.upper().replace("-", "_"), "") for key in _KEYS
    }
    values: dict[str, str] = {}
    for layer in (by_section["global"], by_section["install"], env):
        values.update({key: value for key, value in layer.items() if value.strip()})
    return values


def _config_files(environ: Mapping[str, str]) -> Iterator[Path]:
    """Config files in increasing priority, as pip's ``iter_config_files`` orders them."""
    env_file = environ.get("PIP_CONFIG_FILE")
    if env_file == os.devnull:  # pip: "skipping loading configuration files"
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


def builtin_index_url() -> str | None:
    """The default index of the pip installed beside lockgen, if there is one."""
    try:
        module = importlib.import_module("pip._internal.models.index")
    except ImportError:
        return None
    url = getattr(getattr(module, "PyPI", None), "simple_url", None)
    return url if isinstance(url, str) else None
