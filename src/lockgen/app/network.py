"""The network settings of a run: the flags, pip's configuration and the environment
resolved into one :class:`~lockgen.net.access.Network` (the only place they are read)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from lockgen.app.pipconfig import pip_setting
from lockgen.core.errors import LockgenError
from lockgen.net.access import Netrc, Network, environ_proxies, netrc_path, read_netrc

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = ["ca_bundle", "resolve_network"]

#: Where a CA bundle may come from, in precedence order after ``--cert`` and pip's
#: ``cert``: first found wins, else the system's trust store. (pip itself, through
#: requests, lets ``REQUESTS_CA_BUNDLE`` override ``--cert``; lockgen lets the flag
#: win.) The client certificate comes from ``--client-cert``, ``PIP_CLIENT_CERT`` or
#: pip's ``client-cert``: one PEM file holding the private key and the certificate.
_CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE")


def resolve_network(
    *,
    cert: str | None,
    client_cert: str | None,
    keyring_provider: str,
    environ: Mapping[str, str],
    warn: Callable[[str], None],
) -> Network:
    """Resolve the flags, pip's config and the environment into one :class:`Network`.

    Problems that only disable a convenience (a malformed netrc, no ``keyring``
    command) are warnings; a named certificate file that does not exist is an error.
    """
    bundle = ca_bundle(cert, environ)
    client = _existing("--client-cert", client_cert) or _existing(
        "pip's client-cert", pip_setting(environ, "client-cert")
    )
    keyring = None
    if keyring_provider == "subprocess":
        keyring = shutil.which("keyring", path=environ.get("PATH"))
        if keyring is None:
            warn("--keyring-provider subprocess: no keyring command on PATH; ignored")
    credentials = Netrc()
    path = netrc_path(environ)
    if path is not None:
        try:
            credentials = read_netrc(path)
        except LockgenError as exc:
            warn(f"{exc}; ignoring it")
    return Network(
        proxies=environ_proxies(environ),
        netrc=credentials,
        ca_bundle=bundle,
        client_cert=client,
        keyring=keyring,
        keyring_environ=dict(environ) if keyring else {},
    )


def ca_bundle(cert: str | None, environ: Mapping[str, str]) -> str | None:
    """The CA bundle (file or directory) to trust, or ``None`` for the system's."""
    sources = [("--cert", cert), ("pip's cert", pip_setting(environ, "cert"))]
    sources += [(name, environ.get(name)) for name in _CA_VARIABLES]
    for source, value in sources:
        found = _existing(source, value)
        if found is not None:
            return found
    return None


def _existing(source: str, value: str | None) -> str | None:
    """``value`` if it names an existing path; an error names where it came from."""
    if not value:
        return None
    if not Path(value).exists():
        raise LockgenError(f"{value} (from {source}) does not exist")
    return value
