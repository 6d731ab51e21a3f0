"""The options the commands share, and what they become: the target, and the
:class:`~lockgen.app.services.Services` (network settings, cache, retry backoff)
handed to the use cases.

This is the one place lockgen reads the process environment: pip's configuration,
proxies, netrc, CA settings, ``LOCKGEN_CACHE_DIR``, and ``_LOCKGEN_RETRY_BACKOFF``, an
internal setting (not supported, may go away) that lockgen's own test suite uses to
turn the retry sleeps off.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from lockgen.cli.output import fail, say
from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    from lockgen.app.services import Services
    from lockgen.core.environment import Target
    from lockgen.store.cache import Cache

_F = TypeVar("_F", bound=Callable[..., Any])

__all__ = [
    "CACHE_DIR_OPTION",
    "EXTRA_HELP",
    "FIND_LINKS_HELP",
    "INDEX_HELP",
    "NO_INDEX_HELP",
    "QUIET",
    "cache_options",
    "jobs",
    "network_options",
    "open_cache",
    "services",
    "target",
    "target_options",
]

#: Seconds before a failed request's first retry, when set (lockgen's tests: 0).
_BACKOFF_VARIABLE = "_LOCKGEN_RETRY_BACKOFF"

INDEX_HELP = (
    "Base URL of the simple index (default: pip's configured index-url, else pip's "
    "own default). Credentials in the URL are used but never written or printed."
)
EXTRA_HELP = (
    "Another index, searched after --index-url. A project's files come from the first "
    "index that has the project, never a mix, so a public index cannot shadow a "
    "private one (dependency confusion)."
)
FIND_LINKS_HELP = (
    "A directory of wheels and sdists, an HTML page of links, or a file:// URL of "
    "either (repeatable). Its files are merged with the index's, as in pip."
)
NO_INDEX_HELP = "Ignore every index (command line, files, pip config); use only -f."
_PLATFORM_HELP = (
    "Lock for another platform: linux_x86_64 (= manylinux_2_28), manylinux_2_17_aarch64, "
    "musllinux_1_2_x86_64, macosx_11_0_arm64, win_amd64, ..."
)


def target_options(func: _F) -> _F:
    """``--python-version`` and ``--platform``: the environment to lock or select for."""
    func = click.option("--platform", metavar="PLATFORM", help=_PLATFORM_HELP)(func)
    return click.option(
        "--python-version",
        metavar="X.Y[.Z]",
        help="Target this CPython version (default: the running one).",
    )(func)


def jobs(what: str, default: int) -> Callable[[_F], _F]:
    """``-j/--jobs``: how many requests run at once, on one connection pool.

    Defaults are measured (bench/): locking waits on round trips and gains up to 16;
    hydrate moves bytes, and 16 streams on two cores were slower than 8.
    """
    return click.option(
        "-j",
        "--jobs",
        default=default,
        show_default=True,
        metavar="N",
        type=click.IntRange(1, 64),
        help=what,
    )


QUIET = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
CACHE_DIR_OPTION = click.option(
    "--cache-dir",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="Cache directory (default: $LOCKGEN_CACHE_DIR, else the user cache dir).",
)


def cache_options(func: _F) -> _F:
    """``--cache-dir``, ``--no-cache`` and ``--offline``, shared by the commands."""
    func = click.option(
        "--offline",
        is_flag=True,
        help="Use only the cache and local files; fail naming what is missing.",
    )(func)
    func = click.option(
        "--no-cache", is_flag=True, help="Neither read nor write the cache."
    )(func)
    return CACHE_DIR_OPTION(func)


def network_options(func: _F) -> _F:
    """``--cert``, ``--client-cert`` and ``--keyring-provider`` (pip's spellings),
    shared by the commands that reach indexes; proxies and netrc come from the
    environment, as for pip and uv."""
    func = click.option(
        "--keyring-provider",
        type=click.Choice(["disabled", "subprocess"]),
        default="disabled",
        show_default=True,
        help="Ask the `keyring` command on PATH for credentials when an index "
        "answers 401 (as pip's --keyring-provider subprocess).",
    )(func)
    func = click.option(
        "--client-cert",
        metavar="PATH",
        help="PEM file with the private key and certificate to present to the "
        "server (default: PIP_CLIENT_CERT, pip's client-cert).",
    )(func)
    return click.option(
        "--cert",
        metavar="PATH",
        help="CA bundle to trust (default: PIP_CERT, pip's cert, REQUESTS_CA_BUNDLE, "
        "CURL_CA_BUNDLE, SSL_CERT_FILE, else the system's trust store).",
    )(func)


def target(python_version: str | None, platform: str | None) -> Target:
    """``--python-version``/``--platform`` as a target (the running one if neither)."""
    from lockgen.core.environment import Target

    try:
        return Target.from_spec(python_version=python_version, platform=platform)
    except LockgenError as exc:
        fail(str(exc))


def services(
    *,
    cert: str | None,
    client_cert: str | None,
    keyring_provider: str,
    cache_dir: Path | None,
    no_cache: bool,
    tune: bool = False,
) -> Services:
    """The network options resolved against pip's config and the environment, the
    cache (unless ``--no-cache``) and the retry backoff; with ``tune``, the memory
    settings a lock applies to this process before resolving."""
    from lockgen.app.network import resolve_network
    from lockgen.app.services import Services

    try:
        network = resolve_network(
            cert=cert,
            client_cert=client_cert,
            keyring_provider=keyring_provider,
            environ=os.environ,
            warn=lambda message: say(f"warning: {message}"),
        )
    except LockgenError as exc:
        fail(str(exc))
    cache = None if no_cache else open_cache(cache_dir)
    if not tune:
        return Services(network=network, cache=cache, backoff=_backoff())

    def tune_for_a_lock() -> None:  # imported on use: an up-to-date lock needs none
        from lockgen.app.memory import tune_for_a_lock

        tune_for_a_lock()

    return Services(
        network=network,
        cache=cache,
        backoff=_backoff(),
        before_resolving=tune_for_a_lock,
    )


def open_cache(cache_dir: Path | None) -> Cache:
    """The cache at ``--cache-dir``, else ``LOCKGEN_CACHE_DIR`` or the user's."""
    from lockgen.store.cache import Cache, default_cache_dir

    return Cache(cache_dir or default_cache_dir(os.environ))


def _backoff() -> float:
    from lockgen.app.services import DEFAULT_BACKOFF

    value = os.environ.get(_BACKOFF_VARIABLE)
    if not value:
        return DEFAULT_BACKOFF
    try:
        return max(0.0, float(value))
    except ValueError:
        fail(f"{_BACKOFF_VARIABLE}={value!r} is not a number of seconds")
