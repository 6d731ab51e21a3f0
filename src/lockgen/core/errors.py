"""The exceptions lockgen raises: one root, each subclass carrying its fields.

The CLI turns any :class:`LockgenError` into a one-line message and exit status 1, so
every message here must read well on its own, and must never contain credentials: URLs
reach these classes already stripped of userinfo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "BodyTooLargeError",
    "ExcludeNewerError",
    "HashMismatchError",
    "HydrateError",
    "IndexPageError",
    "InsecureRedirectError",
    "InvalidTargetError",
    "LockFileError",
    "LockgenError",
    "MetadataError",
    "NetworkError",
    "OfflineError",
    "ProjectNotFoundError",
    "RangeUnsupportedError",
    "RequirementsFileError",
    "TooSlowError",
    "ResolutionError",
    "UnsupportedError",
    "first_line",
]


class LockgenError(Exception):
    """Root of every error lockgen reports to its user."""


def first_line(exc: BaseException, default: str = "invalid syntax") -> str:
    """What ``exc`` says, on one line: packaging's parsers add lines that draw a caret
    under the fault, and an error may say nothing at all (then ``default``)."""
    lines = str(exc).splitlines()
    return lines[0] if lines and lines[0] else default


class RequirementsFileError(LockgenError, ValueError):
    """A requirements file line lockgen cannot read."""

    def __init__(self, reason: str, *, path: str, lineno: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.lineno = lineno
        super().__init__(reason)

    def __str__(self) -> str:
        where = self.path if self.lineno is None else f"{self.path}:{self.lineno}"
        return f"{where}: {self.reason}"


class UnsupportedError(LockgenError):
    """Input that is valid but that lockgen does not handle yet."""


class ExcludeNewerError(LockgenError):
    """``--exclude-newer`` met a file whose index gives no upload time."""


class InvalidTargetError(LockgenError, ValueError):
    """A ``--python-version`` or ``--platform`` value lockgen cannot turn into a target."""


class OfflineError(LockgenError):
    """``--offline`` and something needed is neither cached nor a local file: the one
    error for that, whether ``lock`` needed a page or METADATA or ``hydrate`` a file."""


class NetworkError(LockgenError):
    """A request failed for good (after retries), or answered with an error status."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        self.url = url
        self.reason = reason
        self.status = status
        super().__init__(reason)

    def __str__(self) -> str:
        return f"{self.reason} ({self.url})"


class BodyTooLargeError(NetworkError):
    """A response body went past the limit set for its kind (a page, a ``.metadata``
    file, a range read) or past the size a download was promised."""

    def __init__(self, url: str, limit: int, what: str) -> None:
        super().__init__(
            url, f"response larger than {_size(limit)}, the limit for {what}"
        )


class InsecureRedirectError(NetworkError):
    """An https URL redirected to plain http: never followed, whatever the host, since
    the bytes (and the lock made of them) would then travel unauthenticated."""

    def __init__(self, url: str, target: str, *, status: int) -> None:
        self.target = target
        super().__init__(
            url, f"refusing redirect from {url} to insecure {target}", status=status
        )

    def __str__(self) -> str:
        return self.reason


class TooSlowError(NetworkError):
    """A body that did not arrive within its deadline, or arrived too slowly: final,
    since asking the same server again would only wait as long again."""


def _size(n: int) -> str:
    """``n`` bytes, in MiB when that is exact, for limits named in messages."""
    return f"{n // 2**20} MiB" if n >= 2**20 and n % 2**20 == 0 else f"{n} bytes"


class RangeUnsupportedError(LockgenError):
    """A server answered a byte-range request with something other than the range.

    Raised by the range reader and caught by the metadata fetcher, which then falls back
    to the whole file; it is classified by type, never by message text.
    """


class IndexPageError(LockgenError, ValueError):
    """A project page that does not parse as PEP 503 HTML or PEP 691 JSON."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"invalid index page {self.url}: {self.reason}"


class ProjectNotFoundError(LockgenError):
    """No configured index or find-links location knows the project."""

    def __init__(
        self, name: str, indexes: Sequence[str], find_links: Sequence[str] = ()
    ) -> None:
        self.name = name
        self.indexes = tuple(indexes)
        self.find_links = tuple(find_links)
        super().__init__(name)

    def __str__(self) -> str:
        places = []
        if self.indexes:
            places.append("on " + ", ".join(self.indexes))
        if self.find_links:
            places.append("in --find-links " + ", ".join(self.find_links))
        if not places:
            return (
                f"no project named {self.name!r}: --no-index ignores every index "
                "and no --find-links location is given"
            )
        where = " or ".join(places)
        no_index = "" if self.indexes else " (--no-index ignores every index)"
        return f"no project named {self.name!r} {where}{no_index}"


class MetadataError(LockgenError, ValueError):
    """A distribution's core metadata is missing, unreadable or inconsistent."""

    def __init__(self, filename: str, reason: str) -> None:
        self.filename = filename
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"{self.filename}: {self.reason}"


class HashMismatchError(LockgenError, ValueError):
    """Bytes whose sha256 (or size) differ from what the index or lock promised."""

    def __init__(self, filename: str, *, expected: str, actual: str) -> None:
        self.filename = filename
        self.expected = expected
        self.actual = actual
        super().__init__(filename)

    def __str__(self) -> str:
        return (
            f"{self.filename}: hash mismatch "
            f"(expected {self.expected}, got {self.actual})"
        )


class ResolutionError(LockgenError):
    """The requirements cannot be satisfied together; ``causes`` are readable lines."""

    def __init__(self, causes: Sequence[str]) -> None:
        self.causes = tuple(causes)
        super().__init__(*self.causes)

    def __str__(self) -> str:
        return "cannot resolve the requirements: " + "; ".join(self.causes)


class LockFileError(LockgenError):
    """A lock file that cannot be written, read or validated."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(reason)

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


class HydrateError(LockgenError):
    """Some artifacts could not be fetched or verified; the rest were kept."""

    def __init__(self, failures: Sequence[tuple[str, str]], total: int) -> None:
        self.failures = tuple(failures)
        self.total = total
        super().__init__(len(self.failures))

    def __str__(self) -> str:
        lines = [f"{len(self.failures)} of {self.total} files failed"]
        lines += [
            f"  {name}: {reason.removeprefix(f'{name}: ')}"  # no "x.whl: x.whl: ..."
            for name, reason in self.failures
        ]
        return "\n".join(lines)
