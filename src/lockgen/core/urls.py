"""The rules for URLs, their credentials and local files, in one place.

Every layer asks the same questions of a URL: what it is without its credentials
(the form that may reach a lock, a cache or a message), whether it carries any,
whether its bytes come from this machine (read in place, usable offline, never
cached), and whether it is a plain http(s) URL whose identity a cache may key on.
Each question has one answer here, so no two modules can disagree about a secret.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

if TYPE_CHECKING:
    from lockgen.core.models import DistFile

__all__ = [
    "has_userinfo",
    "is_local",
    "is_plain_http",
    "local_file",
    "local_path",
    "redact_url",
    "strip_credentials",
]

#: Greedy up to the last "@" of the authority, as urllib.parse splits userinfo.
_USERINFO_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")


def strip_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split userinfo out of a URL so it can go to an auth header, never to a lock.

    Only the userinfo is removed; the rest of the URL keeps its spelling and
    percent-encoding. A user without a password gets ``""`` as the password.
    """
    netloc = urlsplit(url).netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if not at:
        return url, None
    user, _, password = userinfo.partition(":")
    start = url.find("//") + 2
    if url[start : start + len(netloc)] == netloc:
        bare = url[:start] + hostport + url[start + len(netloc) :]
    else:  # urlsplit dropped characters; fall back to a rebuilt URL
        bare = urlunsplit(urlsplit(url)._replace(netloc=hostport))
    return bare, (unquote(user), unquote(password))


_HOST_PORT = re.compile(r"[^:/?#@\s]+:[0-9]+")


def unencoded_userinfo(url: str) -> bool:
    """Whether ``url``'s password holds an unencoded ``#``, ``/`` or ``?``: URL
    parsing ends the host there, so the secret would become the host, path or
    fragment and reach requests and messages (the URL must not be echoed)."""
    _, sep, rest = url.partition("://")
    before_at, at, _ = rest.partition("@")
    if not (sep and at and ":" in before_at):
        return False
    if _HOST_PORT.fullmatch(re.split(r"[/?#]", before_at, maxsplit=1)[0]):
        return False  # host:port, then a path holding "@" (git's URL@revision)
    return any(c in before_at for c in "#/?")


def redact_url(text: str) -> str:
    """Replace the userinfo of every URL in ``text`` by ``****``: messages leak no secrets."""
    return _USERINFO_RE.sub(r"\1****@", text)


def has_userinfo(url: str) -> bool:
    """Whether ``url`` carries credentials (an unparsable URL is treated as if so)."""
    try:
        return "@" in urlsplit(url).netloc
    except ValueError:
        return True


def is_plain_http(url: str) -> bool:
    """Whether ``url`` is ``http(s)`` with no credentials in it: a URL that names the
    same bytes for everyone, so what they hashed to may be remembered by URL."""
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return False
    return scheme in ("http", "https") and not has_userinfo(url)


def is_local(url: str) -> bool:
    """Whether ``url`` is answered from disk (usable offline, never cached)."""
    return url.startswith("file:")


def local_path(url: str) -> Path:
    """The path a ``file:`` URL names (percent-escapes decoded once)."""
    # what urllib.request.url2pathname is, without importing urllib.request (it
    # pulls in http.client, ssl and email: ~30 ms of every run with a file: index)
    if os.name == "nt":
        from nturl2path import url2pathname

        return Path(url2pathname(urlsplit(url).path))
    return Path(unquote(urlsplit(url).path))


def local_file(dist: DistFile) -> Path | None:
    """The file on disk behind a find-links entry, or ``None`` (remote, or an index's:
    an index's ``file://`` files are read through the index, like remote ones)."""
    if dist.index or not is_local(dist.url):
        return None
    return local_path(dist.url)
