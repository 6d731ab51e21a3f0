"""Default index discovery: environment, pip config files, pip's own default."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from lockgen.app.pipconfig import (
    PipSettings,
    default_index_url,
    ignored_notes,
    read_pip_settings,
)


def _isolated(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_DIRS": str(tmp_path / "xdg"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "PIP_CONFIG_FILE": os.devnull,
    }
    env.update(extra)
    return env


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _builtin() -> str:
    from pip._internal.models.index import PyPI

    return PyPI.simple_url


def test_environment_variable_wins(tmp_path: Path) -> None:
    env = _isolated(tmp_path, PIP_INDEX_URL="https://example.invalid/env/simple/")
    assert default_index_url(env) == "https://example.invalid/env/simple/"


def test_config_file_named_by_pip_config_file(tmp_path: Path) -> None:
    conf = _write(
        tmp_path / "pip.conf", "[global]\nindex-url = https://example.invalid/a/\n"
    )
    assert default_index_url(_isolated(tmp_path, PIP_CONFIG_FILE=str(conf))) == (
        "https://example.invalid/a/"
    )


def test_install_section_overrides_global(tmp_path: Path) -> None:
    conf = _write(
        tmp_path / "pip.conf",
        "[global]\nindex-url = https://example.invalid/g/\n"
        "[install]\nindex-url = https://example.invalid/i/\n",
    )
    env = _isolated(tmp_path, PIP_CONFIG_FILE=str(conf))
    assert default_index_url(env) == "https://example.invalid/i/"


def test_user_file_overrides_global_file(tmp_path: Path) -> None:
    _write(
        tmp_path / "xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://example.invalid/site/\n",
    )
    _write(
        tmp_path / "config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://example.invalid/user/\n",
    )
    env = _isolated(tmp_path)
    del env["PIP_CONFIG_FILE"]
    assert default_index_url(env) == "https://example.invalid/user/"


def test_pip_config_file_hides_user_files_like_pip(tmp_path: Path) -> None:
    _write(
        tmp_path / "config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://example.invalid/user/\n",
    )
    assert default_index_url(_isolated(tmp_path)) == _builtin()


def test_falls_back_to_pips_builtin_default(tmp_path: Path) -> None:
    assert default_index_url(_isolated(tmp_path)) == _builtin()


@pytest.fixture
def no_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if pip were not installed: importing it fails."""
    for name in (
        "pip",
        "pip._internal",
        "pip._internal.models",
        "pip._internal.models.index",
    ):
        monkeypatch.setitem(sys.modules, name, None)


@pytest.mark.usefixtures("no_pip")
def test_no_pip_and_no_config_gives_none(tmp_path: Path) -> None:
    assert default_index_url(_isolated(tmp_path)) is None


@pytest.mark.usefixtures("no_pip")
def test_cli_asks_for_index_url_without_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from lockgen.cli.main import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "r.in").write_text("x\n")
    result = CliRunner().invoke(main, ["lock", "r.in"])
    assert result.exit_code == 1
    assert "--index-url" in result.stderr


# ---- extra-index-url, find-links, no-index ------------------------------------------


def test_extra_index_urls_from_the_environment_are_whitespace_separated(
    tmp_path: Path,
) -> None:
    env = _isolated(
        tmp_path,
        PIP_EXTRA_INDEX_URL="https://example.invalid/a/\n https://example.invalid/b/",
    )
    assert read_pip_settings(env).extra_index_urls == (
        "https://example.invalid/a/",
        "https://example.invalid/b/",
    )


def test_extra_index_urls_from_a_config_file_one_per_line(tmp_path: Path) -> None:
    conf = _write(
        tmp_path / "pip.conf",
        "[global]\nextra-index-url =\n    https://example.invalid/a/\n"
        "    https://example.invalid/b/\n",
    )
    settings = read_pip_settings(_isolated(tmp_path, PIP_CONFIG_FILE=str(conf)))
    assert settings.extra_index_urls == (
        "https://example.invalid/a/",
        "https://example.invalid/b/",
    )


def test_the_environment_replaces_configured_extra_index_urls(tmp_path: Path) -> None:
    conf = _write(
        tmp_path / "pip.conf",
        "[global]\nextra-index-url = https://example.invalid/c/\n",
    )
    env = _isolated(
        tmp_path,
        PIP_CONFIG_FILE=str(conf),
        PIP_EXTRA_INDEX_URL="https://example.invalid/e/",
    )
    assert read_pip_settings(env).extra_index_urls == ("https://example.invalid/e/",)


def test_an_empty_environment_variable_does_not_override(tmp_path: Path) -> None:
    conf = _write(
        tmp_path / "pip.conf",
        "[global]\nextra-index-url = https://example.invalid/c/\n",
    )
    env = _isolated(tmp_path, PIP_CONFIG_FILE=str(conf), PIP_EXTRA_INDEX_URL="")
    assert read_pip_settings(env).extra_index_urls == ("https://example.invalid/c/",)


def test_install_section_of_any_file_beats_global_section_of_any_file(
    tmp_path: Path,
) -> None:
    # pip orders by section first ([global] < [install] < environment), then by file
    _write(
        tmp_path / "xdg" / "pip" / "pip.conf",
        "[install]\nextra-index-url = https://example.invalid/site-install/\n",
    )
    _write(
        tmp_path / "config" / "pip" / "pip.conf",
        "[global]\nextra-index-url = https://example.invalid/user-global/\n",
    )
    env = _isolated(tmp_path)
    del env["PIP_CONFIG_FILE"]
    assert read_pip_settings(env).extra_index_urls == (
        "https://example.invalid/site-install/",
    )


def test_pip_config_file_devnull_loads_no_file_at_all(tmp_path: Path) -> None:
    _write(
        tmp_path / "xdg" / "pip" / "pip.conf",
        "[global]\nindex-url = https://example.invalid/site/\nfind-links = /w\n",
    )
    assert read_pip_settings(_isolated(tmp_path)) == PipSettings()


def test_find_links_and_no_index_are_read_only_to_be_noted(tmp_path: Path) -> None:
    conf = _write(tmp_path / "pip.conf", "[install]\nno-index = yes\n")
    env = _isolated(tmp_path, PIP_CONFIG_FILE=str(conf), PIP_FIND_LINKS="/opt/w /srv/w")
    settings = read_pip_settings(env)
    assert settings.find_links == ("/opt/w", "/srv/w")
    assert settings.no_index is True
    assert ignored_notes(settings) == [
        (
            "note: pip's configured find-links (/opt/w /srv/w) is not used by "
            "lockgen; pass --find-links to use it"
        ),
        (
            "note: pip's configured no-index is not used by lockgen; "
            "pass --no-index to use it"
        ),
    ]


@pytest.mark.parametrize("value", ["false", "0", "off", "no"])
def test_a_false_no_index_is_not_noted(tmp_path: Path, value: str) -> None:
    settings = read_pip_settings(_isolated(tmp_path, PIP_NO_INDEX=value))
    assert settings.no_index is False
    assert ignored_notes(settings) == []


def test_a_configured_constraint_is_noted(tmp_path: Path) -> None:
    """pip would cap versions with it; lockgen does not, and says so."""
    conf = _write(tmp_path / "pip.conf", "[global]\nconstraint = /etc/pip/c.txt\n")
    settings = read_pip_settings(_isolated(tmp_path, PIP_CONFIG_FILE=str(conf)))
    assert settings.constraints == ("/etc/pip/c.txt",)
    assert ignored_notes(settings) == [
        (
            "note: pip's configured constraint (/etc/pip/c.txt) is not used by "
            "lockgen; pass -c FILE to use it"
        )
    ]
