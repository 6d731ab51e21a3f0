"""``--exclude-newer``'s value: an RFC 3339 time, or a date.

A date keeps the files of that whole day (the cutoff is the next midnight, UTC), as
uv reads it; a time without an offset is UTC. So the same command locks the same
files on every machine, whatever its time zone (uv reads both in the local zone).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

__all__ = ["parse_cutoff"]


def parse_cutoff(text: str) -> datetime:
    """The moment ``text`` names, timezone-aware; ``ValueError`` saying what is
    accepted otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:  # YYYY-MM-DD
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(1)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a date (2024-06-30) or an RFC 3339 time "
            "(2024-06-30T12:00:00Z)"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
