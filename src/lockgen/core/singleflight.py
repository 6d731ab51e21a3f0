"""Compute each key once, however many threads ask for it at the same time.

The prefetcher and the resolver ask the index client for the same pages and metadata;
whoever asks first does the request and everyone else waits on its result. So a
speculative fetch is never repeated, and the resolver never issues a request that is
already in flight. Failures are remembered too: the caller that needs the value gets
the same error a serial run would have raised.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable

__all__ = ["SingleFlight"]

K = TypeVar("K", bound="Hashable")
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """A thread-safe memo whose values are computed at most once per key."""

    def __init__(self) -> None:
        self._futures: dict[K, Future[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, compute: Callable[[], V]) -> V:
        """The value for ``key``: computed now by this thread, or awaited, or memoised."""
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if future is None:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(compute())
            except Exception as exc:  # noqa: BLE001 - re-raised by future.result()
                future.set_exception(exc)
            except BaseException:  # Ctrl-C: forget the key so nobody waits forever
                with self._lock:
                    del self._futures[key]
                future.cancel()
                raise
        return future.result()

    def forget_failure(self, key: K) -> None:
        """Forget ``key`` if its computation failed, so the next :meth:`get` tries
        again (those waiting on it met the failure already)."""
        with self._lock:
            future = self._futures.get(key)
            if future is not None and future.done() and future.exception():
                del self._futures[key]

    def seed(self, key: K, value: V) -> None:
        """Remember ``value`` for ``key`` unless it is already known or being computed:
        for a value that another computation produced on the way (a file downloaded
        for its metadata has its sha256 and size known too)."""
        with self._lock:
            if key not in self._futures:
                future: Future[V] = Future()
                future.set_result(value)
                self._futures[key] = future
