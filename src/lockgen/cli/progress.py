"""What ``lock`` and ``hydrate`` show while they run, written through an injected sink.

The displays decide *what* to show (a live line on a terminal, plain lines in verbose
mode, nothing when quiet or not on a terminal); the CLI decides *where* it goes by
passing ``write``. So only the CLI touches the terminal, and the displays are plain
objects a test can drive. The displays write their own control sequences (to redraw
the live line), so they, not ``write``, make their text :func:`printable`: every
line goes out through :func:`_line` or :func:`_live`.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from lockgen.core.printable import printable

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["HydrateDisplay", "LockDisplay", "format_size"]

_CLEAR = "\r\x1b[K"


def _live(text: str) -> str:
    """Carriage return, the text, then "erase to end of line": one line redrawn in
    place."""
    return f"\r{printable(text)}\x1b[K"


def _line(text: str) -> str:
    """One plain line (verbose mode)."""
    return printable(text) + "\n"


def format_size(nbytes: int) -> str:
    """``1.2 MiB``-style sizes for summaries and progress."""
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


class LockDisplay:
    """``lock``: a live count of pins and requests, or one line per event if verbose."""

    def __init__(
        self, write: Callable[[str], None], *, live: bool, verbose: bool
    ) -> None:
        self._write = write
        self._live = live and not verbose
        self._verbose = verbose
        self._pinned = 0
        self._shown = False

    def pinned(self, name: str, version: str, requests: int) -> None:
        """The resolver settled on a version."""
        self._pinned += 1
        if self._verbose:
            self._write(_line(f"pinned {name} {version}"))
        elif self._live:
            line = f"Resolving: {self._pinned} packages pinned, {requests} requests"
            self._write(_live(line))
            self._shown = True

    def detail(self, message: str) -> None:
        """A verbose-only line (how metadata was read, a fallback taken)."""
        if self._verbose:
            self._write(_line(message))

    def finish(self) -> None:
        """Erase the live line before the summary is printed."""
        if self._shown:
            self._write(_CLEAR)
            self._shown = False


class HydrateDisplay:
    """``hydrate``: files and bytes done of the total, and the rate (thread-safe)."""

    def __init__(self, write: Callable[[str], None], *, live: bool) -> None:
        self._write = write
        self._live = live
        self._lock = threading.Lock()
        self._files = self._total_files = 0
        self._bytes = self._total_bytes = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    def start(self, files: int, total_bytes: int) -> None:
        """The plan is known."""
        self._total_files, self._total_bytes = files, total_bytes

    def advance(self, nbytes: int) -> None:
        """Bytes arrived; redrawn at most ten times a second."""
        with self._lock:
            self._bytes += nbytes
            self._draw(force=False)

    def file_done(self, filename: str, status: str) -> None:
        """A file ended (any status)."""
        with self._lock:
            self._files += 1
            self._draw(force=True)

    def _draw(self, *, force: bool) -> None:
        now = time.monotonic()
        if not self._live or (not force and now - self._drawn < 0.1):
            return
        self._drawn = now
        rate = self._bytes / max(now - self._started, 1e-6)
        line = (
            f"Hydrating: {self._files}/{self._total_files} files, "
            f"{format_size(self._bytes)}/{format_size(self._total_bytes)}, "
            f"{format_size(int(rate))}/s"
        )
        self._write(_live(line))

    def finish(self) -> None:
        """Erase the live line before the summary is printed."""
        if self._live:
            self._write(_CLEAR)
