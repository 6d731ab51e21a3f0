"""uv and pip as the interop tests run them: the test extras' own binaries, in an
environment that reads none of the machine's configuration and reaches nothing past
the loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

__all__ = ["hermetic_env", "install", "uv", "venv"]

_PROXIES = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
_INHERITED_NOT = {"VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONPATH", "PYTHONHOME"}


def _is_inherited(name: str) -> bool:
    """Drop every pip/uv setting, proxy and active venv the machine or CI may carry."""
    return not (
        name.startswith(("PIP_", "UV_"))
        or name.lower() in _PROXIES
        or name in _INHERITED_NOT
    )


def hermetic_env(tmp_path: Path) -> dict[str, str]:
    """Neither installer may read the machine's config nor reach past the loopback."""
    env = {key: value for key, value in os.environ.items() if _is_inherited(key)}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_NO_CACHE_DIR="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_INPUT="1",
        UV_NO_CONFIG="1",
        UV_CACHE_DIR=str(tmp_path / "uv-cache"),
        UV_PYTHON_DOWNLOADS="never",
        NO_PROXY="127.0.0.1,localhost",
        XDG_CONFIG_HOME=str(tmp_path / "no-config"),
        XDG_CONFIG_DIRS=str(tmp_path / "no-xdg"),
    )
    return env


def uv() -> list[str]:
    """The uv the test extras installed, not whatever is first on PATH."""
    beside = Path(sys.executable).with_name("uv.exe" if os.name == "nt" else "uv")
    return [str(beside)] if beside.is_file() else [sys.executable, "-m", "uv"]


def venv(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An empty venv made by uv, and an environment that reads no user config."""
    env = hermetic_env(tmp_path)
    folder = tmp_path / "venv"
    run = [*uv(), "venv", "-q", str(folder), "-p", sys.executable]
    subprocess.run(run, env=env, check=True, capture_output=True, timeout=120)
    return env, folder / "bin" / "python"


def install(args: list[str], env: dict[str, str], cwd: Path, python: Path) -> set[str]:
    """Run an installer, then the names installed in ``python``'s venv."""
    done = subprocess.run(
        args, env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    listed = subprocess.run(
        [*uv(), "pip", "list", "--python", str(python), "--format", "freeze"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return {line.split("==")[0] for line in listed.stdout.split()}
