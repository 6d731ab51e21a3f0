"""The retry policy of every request: which answers are retried and how long lockgen
waits in between, which failures are final at once, and the https-to-http redirect
that is never followed.

The waits are urllib3's exponential backoff (none before the first retry, then
``2 * factor``, ``4 * factor``...) or a server's ``Retry-After``, capped. Every wait
goes through one injected ``sleep`` callable, so a caller (a test, a build tool) can
turn waiting off, or record it, without changing what is retried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Self, TypeAlias
from urllib.parse import urljoin, urlsplit

import urllib3

from lockgen.core.errors import InsecureRedirectError
from lockgen.core.urls import strip_credentials
from lockgen.net.http_response import release

if TYPE_CHECKING:
    from types import TracebackType

    from urllib3.connectionpool import ConnectionPool

__all__ = ["DEFAULT_BACKOFF", "RETRY_AFTER_MAX", "Backoff", "pause", "retry_policy"]

#: A float is urllib3's backoff factor (waits by :func:`time.sleep`); a callable is
#: handed each wait, in seconds, of the default schedule instead of sleeping.
Backoff: TypeAlias = float | Callable[[float], None]
#: The backoff factor when none is given: waits of 0, 0.5 and 1 s over three retries.
DEFAULT_BACKOFF = 0.25
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: The longest wait a ``Retry-After`` header can impose (or the timeout, if shorter):
#: a server asking for more is retried after this long (and, if still refusing,
#: reported) instead of stalling a run.
RETRY_AFTER_MAX = 10.0


def pause(backoff: Backoff, attempt: int) -> None:
    """Wait before retry number ``attempt + 1`` of something the caller retries itself
    (a download resumed after a dropped connection): the same schedule and the same
    injected wait as the requests urllib3 retries."""
    if callable(backoff):
        backoff(DEFAULT_BACKOFF * 2**attempt)
    else:
        time.sleep(backoff * 2**attempt)


def retry_policy(*, retries: int, backoff: Backoff, timeout: float) -> urllib3.Retry:
    """The policy for a client: ``retries`` retries of failed connections and of the
    statuses worth retrying, up to 5 redirects, waits per ``backoff``."""
    if callable(backoff):
        factor, sleep = DEFAULT_BACKOFF, backoff
    else:
        factor, sleep = backoff, time.sleep
    retry = _Retry(
        total=retries,
        redirect=5,
        status_forcelist=_RETRY_STATUSES,
        allowed_methods=frozenset({"GET", "HEAD"}),
        backoff_factor=factor,
        raise_on_status=False,
        raise_on_redirect=False,
    )
    retry.after_max = min(RETRY_AFTER_MAX, timeout)
    retry.wait = sleep
    return retry


class _Retry(urllib3.Retry):
    """urllib3's retries, except that a TLS failure or a silent server is final, an
    https to http redirect is never followed, and waits go through :attr:`wait`.

    An untrusted or mismatched certificate, or a refused client certificate, is no
    better a moment later: the error comes at once instead of after the backoff. A
    server that sent nothing for the whole read timeout is reported after that one
    timeout, not after four of them. urllib3 asks this class before following each
    redirect, so a downgrade is refused here, before any request leaves over plain
    http. (``Authorization`` is not carried to another scheme, host or port:
    urllib3 drops the default :attr:`remove_headers_on_redirect` headers there.)
    """

    #: The longest ``Retry-After`` wait honoured (set per client, kept by copies).
    after_max = RETRY_AFTER_MAX
    #: What waits between attempts (set per client, kept by copies).
    wait: Callable[[float], None]

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: urllib3.BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        final = (urllib3.exceptions.SSLError, urllib3.exceptions.ReadTimeoutError)
        if isinstance(error, final) and _pool is not None:
            raise urllib3.exceptions.MaxRetryError(_pool, url or "", error) from error
        if response is not None and url is not None:
            _refuse_downgrade(url, response)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def new(self, **kw: Any) -> Self:
        retry = super().new(**kw)
        retry.after_max = self.after_max
        retry.wait = self.wait
        return retry

    def parse_retry_after(self, retry_after: str) -> float:
        """The server's ``Retry-After``, but never more than ``after_max``."""
        return min(super().parse_retry_after(retry_after), self.after_max)

    def sleep_for_retry(self, response: urllib3.BaseHTTPResponse) -> bool:
        """Wait as the server's ``Retry-After`` asks; whether it asked."""
        seconds = self.get_retry_after(response)
        if seconds:
            self.wait(seconds)
            return True
        return False

    def sleep(self, response: urllib3.BaseHTTPResponse | None = None) -> None:
        """Wait before the next attempt: ``Retry-After`` if the answer has one, else
        the backoff (urllib3's rule, with the wait made injectable)."""
        if (
            self.respect_retry_after_header
            and response is not None
            and self.sleep_for_retry(response)
        ):
            return
        seconds = self.get_backoff_time()
        if seconds > 0:
            self.wait(seconds)


def _refuse_downgrade(url: str, response: urllib3.BaseHTTPResponse) -> None:
    """Raise InsecureRedirectError if ``response`` redirects https ``url`` to http.

    The redirect's connection is closed, not drained: its body is the server's to
    make endless. Both URLs are named without credentials.
    """
    location = response.get_redirect_location()
    if not location or urlsplit(url).scheme.lower() != "https":
        return
    target = urljoin(url, location)
    if urlsplit(target).scheme.lower() != "http":
        return
    release(response, refused=True)
    raise InsecureRedirectError(
        strip_credentials(url)[0],
        strip_credentials(target)[0],
        status=response.status,
    )
