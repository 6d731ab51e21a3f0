"""Which credentials a request carries: index URLs, netrc, then the keyring on a 401.

Credentials are scoped to an origin (scheme, host, port), never to a bare host name,
so a password given for ``https://host/`` is not sent to ``http://host:8080/``. Basic
auth goes over plain http only to an origin that an index URL itself named with
``http://``; netrc entries, keyed by host alone, obey the same rule.

Order for a request to origin O, as pip's ``MultiDomainBasicAuth`` looks them up:

1. the user and password given in an index URL on O (the index whose path the
   request shares most, when several on O carry some);
2. what the keyring answered earlier for O;
3. the netrc entry for O's host (when an index URL names only a user, the entry
   must be for that user, as uv requires);
4. an index URL with a user and no password: the keyring is asked for that user
   before the first request (pip would first send an empty password, be refused,
   then ask; uv asks first, and so does lockgen); without an answer the empty
   password is sent, as pip does;
5. nothing; and if the server answers 401, the keyring is asked once per origin, as
   pip asks it only in its 401 handler. (A 401 after a redirect to another origin,
   which urllib3 reaches without our ``Authorization``, is first retried with what
   steps 1-4 give for that origin.)

The keyring is pip's ``--keyring-provider subprocess``: the ``keyring`` command on
PATH, called as pip's ``KeyRingCliProvider`` calls it (``keyring --mode=creds
--output=json get SERVICE [USER]``, standard input closed, JSON ``username`` and
``password`` on standard output, a non-zero exit meaning "nothing stored"). SERVICE
is the credential-free index URL the request falls under, then its ``host[:port]``,
the order pip tries them.
"""

from __future__ import annotations

import json
import posixpath
import subprocess
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lockgen.core.errors import LockgenError
from lockgen.core.urls import strip_credentials
from lockgen.net.access import Network, Origin, Secret

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["Credentials", "keyring_credential"]


@dataclass(frozen=True, slots=True)
class _Index:
    """An index URL without its credentials, and what it carried."""

    url: str
    origin: Origin
    path: str
    secret: Secret | None  # a user and a password
    user: str | None  # a user without a password


class Credentials:
    """The ``Authorization`` header each request gets; shared by all threads.

    Several indexes on one origin may carry different credentials (two repositories
    of one Artifactory): a request takes those of the index whose path it shares the
    most with, as pip's ``_get_index_url`` picks it.
    """

    def __init__(self, network: Network, index_urls: Iterable[str] = ()) -> None:
        self._network = network
        self._indexes: list[_Index] = []
        for url in index_urls:
            clean, secret = strip_credentials(url)
            clean = clean if clean.endswith("/") else clean + "/"
            user, password = secret or (None, "")
            self._indexes.append(
                _Index(
                    url=clean,
                    origin=Origin.of(clean),
                    path=urlsplit(clean).path or "/",
                    secret=Secret(user, password)
                    if user is not None and password
                    else None,
                    user=user if user is not None and not password else None,
                )
            )
        self._http = {i.origin for i in self._indexes if i.origin.scheme == "http"}
        self._given = {i.origin for i in self._indexes if i.secret is not None}
        self._lock = threading.Lock()
        self._asked: set[Origin] = set()
        self._found: dict[Origin, Secret] = {}

    def header(self, url: str) -> str | None:
        """The ``Authorization`` value for a first request to ``url``, if any."""
        secret = self._for(Origin.of(url), url)
        return None if secret is None else secret.header()

    def after_401(self, url: str, sent: str | None) -> str | None:
        """A header worth one retry after ``url`` answered 401 to ``sent``, if any.

        First what :meth:`header` would send, if that is not what was refused (a
        redirect to another origin arrives without it); then, unless index URL
        credentials were refused (as pip, they are final), the keyring.
        """
        origin = Origin.of(url)
        first = self._for(origin, url)
        if first is not None and first.header() != sent:
            return first.header()
        if (
            self._network.keyring is None
            or origin in self._given
            or not self._allowed(origin)
        ):
            return None
        with self._lock:
            if origin not in self._asked:
                self._asked.add(origin)
                secret = self._ask(origin, url, self._user(origin, url))
                if secret is not None:
                    self._found[origin] = secret
            found = self._found.get(origin)
        if found is None or found.header() == sent:
            return None
        return found.header()

    def _for(self, origin: Origin, url: str) -> Secret | None:
        given = self._best(origin, url, lambda i: i.secret is not None)
        if given is not None:
            return given.secret
        if not self._allowed(origin):
            return None
        user = self._user(origin, url)
        with self._lock:
            if origin in self._found:
                return self._found[origin]
            entry = self._network.netrc.lookup(origin.host)
            if entry is not None and user in (None, entry.username):
                return entry
            if user is None:
                return None
            if self._network.keyring is not None and origin not in self._asked:
                self._asked.add(origin)
                secret = self._ask(origin, url, user)
                if secret is not None:
                    self._found[origin] = secret
                    return secret
        return Secret(user, "")

    def _allowed(self, origin: Origin) -> bool:
        """Basic auth over https, or over http to an origin an index URL named."""
        return origin.scheme == "https" or origin in self._http

    def _user(self, origin: Origin, url: str) -> str | None:
        """The user an index URL names without a password, for ``url``."""
        index = self._best(origin, url, lambda i: i.user is not None)
        return None if index is None else index.user

    def _ask(self, origin: Origin, url: str, user: str | None) -> Secret | None:
        """Ask the keyring for the index URL ``url`` falls under, then host[:port]."""
        assert self._network.keyring is not None
        index = self._best(origin, url, lambda i: True)
        netloc = urlsplit(url).netloc.rpartition("@")[2]
        for service in (None if index is None else index.url, netloc):
            if service is not None:
                secret = keyring_credential(
                    self._network.keyring, service, user, self._network.keyring_environ
                )
                if secret is not None:
                    return secret
        return None

    def _best(
        self, origin: Origin, url: str, wanted: Callable[[_Index], bool]
    ) -> _Index | None:
        """The wanted index on ``origin`` sharing the longest path with ``url`` (the
        first listed on a tie)."""
        path = urlsplit(url).path or "/"
        best: _Index | None = None
        longest = -1
        for index in self._indexes:
            if index.origin == origin and wanted(index):
                shared = len(posixpath.commonpath([path, index.path]))
                if shared > longest:
                    best, longest = index, shared
        return best


def keyring_credential(
    executable: str, service: str, user: str | None, environ: Mapping[str, str]
) -> Secret | None:
    """Ask the ``keyring`` command for ``service`` (and ``user``), as pip does, in the
    caller's ``environ`` (its backends find their stores through it).

    A non-zero exit means nothing is stored. A keyring too old for ``--mode=creds``
    or an answer that is not credentials is an error naming the fix, never the output.
    """
    command = [executable, "--mode=creds", "--output=json", "get", service]
    if user is not None:
        command.append(user)
    try:
        done = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            env={**environ, "PYTHONIOENCODING": "utf-8"},
            check=False,
        )
    except OSError as exc:
        raise LockgenError(f"cannot run {executable}: {exc.strerror}") from None
    errors = done.stderr.decode("utf-8", "replace")
    if done.returncode == 2 and "unrecognized arguments" in errors:
        raise LockgenError(
            f"{executable} does not know --mode=creds: keyring 25.2.1 or newer is needed"
        )
    if done.returncode:
        return None
    try:
        answer = json.loads(done.stdout.decode("utf-8"))
        return Secret(str(answer["username"]), str(answer["password"]))
    except (ValueError, KeyError, TypeError):
        raise LockgenError(
            f"{executable} answered for {service} with something other than "
            "JSON credentials"
        ) from None
