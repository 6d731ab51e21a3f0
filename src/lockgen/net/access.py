"""How lockgen reaches a private index, resolved the way pip and uv users expect.

Everything here is a pure rule over plain values (an ``environ`` mapping, file
contents, URLs), so the rules can be tested without a network and the transport only
applies them:

* **netrc**: the file named by ``NETRC``, else ``~/.netrc`` (then ``~/_netrc``), read
  with the stdlib :mod:`netrc` module and looked up by host name (netrc has no ports),
  falling back to its ``default`` entry, exactly as requests (so pip) does. A file that
  does not parse is ignored with a one-line warning naming its line, never its text.
* **Proxies**: ``<scheme>_proxy`` variables as :func:`urllib.request.getproxies`
  reads them (lowercase wins; ``HTTP_PROXY`` is ignored under CGI), ``all_proxy`` as
  the fallback requests and curl use, and ``no_proxy`` with urllib's suffix rules
  plus CIDR blocks for IP addresses (as requests and uv accept).

Which CA bundle and client certificate to use is settled with the other run
settings, in :mod:`lockgen.app.network`.
"""

from __future__ import annotations

import base64
import netrc
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import urlsplit

from lockgen.core.errors import LockgenError
from lockgen.core.urls import strip_credentials

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "Network",
    "Netrc",
    "Origin",
    "Secret",
    "environ_proxies",
    "netrc_path",
    "proxy_for",
    "read_netrc",
    "split_proxy",
]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class Origin(NamedTuple):
    """Scheme, host and port: what a credential is scoped to."""

    scheme: str
    host: str
    port: int

    @classmethod
    def of(cls, url: str) -> Origin:
        """The origin of ``url``; the port is the scheme's default when absent."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        return cls(scheme, parts.hostname or "", port or _DEFAULT_PORTS.get(scheme, 0))


@dataclass(frozen=True, slots=True)
class Secret:
    """A user name and its password; the password never appears in a repr."""

    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        """The ``Authorization`` (or ``Proxy-Authorization``) value for Basic auth."""
        token = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(token).decode("ascii")


@dataclass(frozen=True, kw_only=True)
class Netrc:
    """The machines of a netrc file, and its ``default`` entry."""

    hosts: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    default: Secret | None = field(default=None, repr=False)

    def lookup(self, host: str) -> Secret | None:
        """Credentials for ``host`` (case-insensitive), else the default entry."""
        return self.hosts.get(host.lower(), self.default)


@dataclass(frozen=True, kw_only=True)
class Network:
    """How requests reach indexes: proxies, credentials files, trust, keyring.

    Built once by :func:`lockgen.app.network.resolve_network`; the default reaches indexes directly, with
    the system's trust store and no netrc or keyring.
    """

    proxies: Mapping[str, str] = field(default_factory=dict, repr=False)
    netrc: Netrc = field(default_factory=Netrc)
    ca_bundle: str | None = None
    client_cert: str | None = None
    #: The ``keyring`` executable to ask on a 401 (``None``: keyring disabled).
    keyring: str | None = None
    #: The environment the ``keyring`` command runs in (the caller's).
    keyring_environ: Mapping[str, str] = field(default_factory=dict, repr=False)


# -- netrc ---------------------------------------------------------------------------


def netrc_path(environ: Mapping[str, str]) -> Path | None:
    """The netrc file to read: ``NETRC`` if set, else ``~/.netrc`` or ``~/_netrc``."""
    if "NETRC" in environ:
        candidates = [Path(environ["NETRC"]).expanduser()]
    else:
        home = Path(environ.get("HOME") or Path.home())
        candidates = [home / ".netrc", home / "_netrc"]
    return next((path for path in candidates if path.is_file()), None)


def read_netrc(path: Path) -> Netrc:
    """Parse a netrc file; the error names the line, never a token (it may be secret)."""
    try:
        parsed = netrc.netrc(str(path))
    except netrc.NetrcParseError as exc:
        raise LockgenError(f"{path}: malformed netrc (line {exc.lineno})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LockgenError(f"{path}: cannot read netrc ({exc})") from None
    hosts: dict[str, Secret] = {}
    default = None
    for host, (login, account, password) in parsed.hosts.items():
        # As requests: the login, else the account, is the user name.
        secret = Secret(login or account or "", password or "")
        if host == "default":
            default = secret
        else:
            hosts[host.lower()] = secret
    return Netrc(hosts=hosts, default=default)


# -- proxies -------------------------------------------------------------------------


def environ_proxies(environ: Mapping[str, str]) -> dict[str, str]:
    """``urllib.request.getproxies_environment`` over ``environ``: scheme -> proxy.

    Two passes so that lowercase variables win; ``no`` holds ``no_proxy``.
    """
    proxies: dict[str, str] = {}
    for name, value in environ.items():
        lowered = name.lower()
        if value and lowered.endswith("_proxy"):
            proxies[lowered[:-6]] = value
    if "REQUEST_METHOD" in environ:  # CVE-2016-1000110: a CGI "Proxy:" header
        proxies.pop("http", None)
    for name, value in environ.items():
        if name.endswith("_proxy"):
            if value:
                proxies[name.lower()[:-6]] = value
            else:
                proxies.pop(name.lower()[:-6], None)
    return proxies


def proxy_for(url: str, proxies: Mapping[str, str]) -> str | None:
    """The proxy URL for ``url`` (``None``: connect directly).

    ``<scheme>_proxy``, else ``all_proxy``; a proxy without a scheme is ``http://``,
    as requests reads it; ``no_proxy`` exempts hosts (see :func:`_bypass`).
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return None
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or _bypass(parts.netloc.rpartition("@")[2], proxies.get("no")):
        return None
    return proxy if "://" in proxy else "http://" + proxy


def _bypass(netloc: str, no_proxy: str | None) -> bool:
    """Whether ``no_proxy`` exempts ``netloc`` (``host[:port]``).

    urllib's ``proxy_bypass_environment`` rules: ``*`` exempts everything; an entry
    (leading dots ignored, case-insensitive) matches the host or the host:port, or is
    a domain suffix of either. Added, as requests and uv do: an entry that is an IP
    address or CIDR block matches an IP host inside it.
    """
    if not no_proxy:
        return False
    if no_proxy.strip() == "*":
        return True
    netloc = netloc.lower()
    host = urlsplit("//" + netloc).hostname or ""
    with_port = re.fullmatch(r"(.*):([0-9]*)", netloc)
    hostonly = with_port[1] if with_port else netloc
    for entry in no_proxy.split(","):
        name = entry.strip().lstrip(".").lower()
        if not name:
            continue
        if name in (hostonly, netloc) or hostonly.endswith("." + name):
            return True
        if netloc.endswith("." + name) or _in_network(host, name):
            return True
    return False


def _in_network(host: str, entry: str) -> bool:
    import ipaddress  # only a no_proxy entry that is no host name gets here

    try:
        return ipaddress.ip_address(host) in ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False


def split_proxy(proxy: str) -> tuple[str, Secret | None]:
    """The proxy URL without userinfo, and the credentials it carried."""
    clean, secret = strip_credentials(proxy)
    return clean, None if secret is None else Secret(*secret)
