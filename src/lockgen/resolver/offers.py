"""What :meth:`LockgenProvider.find_matches` offers resolvelib: candidates made as
they are reached, best first, and remembered.

resolvelib tries a project's candidates in order and stops at the first that fits,
so most of a popular project's versions are never looked at. Building every
candidate up front read (parsed, ranked) the files of every version the
requirements allow, hundreds per project; an offer makes the next candidate only
when resolvelib, the lookahead or an explanation iterates that far. It may be
iterated many times (resolvelib re-reads a criterion's candidates every round), each
time from the start; candidates already made are not made again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from lockgen.resolver.values import Candidate

__all__ = ["Offer"]


class Offer:
    """A lazily made, memoised, re-iterable sequence of candidates.

    Used from the resolver's thread only (the prefetcher never sees offers).
    """

    def __init__(self, source: Iterator[Candidate]) -> None:
        self._source: Iterator[Candidate] | None = source
        self._made: list[Candidate] = []

    def __iter__(self) -> Iterator[Candidate]:
        index = 0
        while True:
            if index < len(self._made):
                yield self._made[index]
                index += 1
            elif not self._more():
                return

    def first(self, count: int) -> list[Candidate]:
        """Up to ``count`` candidates from the start."""
        while len(self._made) < count and self._more():
            pass
        return self._made[:count]

    def after(self, candidate: Candidate, count: int) -> list[Candidate]:
        """Up to ``count`` candidates after ``candidate``'s version (none if it is
        not offered)."""
        for index, offered in enumerate(self):
            if offered.version == candidate.version:
                return self.first(index + 1 + count)[index + 1 :]
        return []

    def _more(self) -> bool:
        """Make one more candidate; False when there are no more."""
        if self._source is None:
            return False
        made = next(self._source, None)
        if made is None:
            self._source = None
            return False
        self._made.append(made)
        return True
