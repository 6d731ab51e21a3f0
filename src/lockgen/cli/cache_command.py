"""``lockgen cache dir|info|clean``: look at or empty the cache lock and hydrate share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from lockgen.cli.options import CACHE_DIR_OPTION, open_cache
from lockgen.cli.output import emit, fail
from lockgen.cli.progress import format_size

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["cache"]


@click.group()
def cache() -> None:
    """Inspect or empty the cache shared by lock and hydrate."""


@cache.command("dir")
@CACHE_DIR_OPTION
def cache_dir_command(cache_dir: Path | None) -> None:
    """Print the cache directory."""
    emit(str(open_cache(cache_dir).root))


@cache.command("info")
@CACHE_DIR_OPTION
def cache_info(cache_dir: Path | None) -> None:
    """Print the cache's size and its entries per kind."""
    cache = open_cache(cache_dir)
    kinds = cache.info()
    total = sum(size for _, size in kinds.values())
    emit(f"{cache.root}: {format_size(total)}")
    for kind, (entries, size) in kinds.items():
        emit(f"  {kind}: {entries} entries, {format_size(size)}")


@cache.command("clean")
@CACHE_DIR_OPTION
def cache_clean(cache_dir: Path | None) -> None:
    """Remove everything in the cache."""
    cache = open_cache(cache_dir)
    freed, kept = cache.clean()
    emit(f"Removed {format_size(freed)} from {cache.root}")
    # what could not be removed (a read-only mount, another user's files) must not
    # pass for a clean cache: the next lock would still read it
    if kept:
        fail(
            f"{kept} {'file' if kept == 1 else 'files'} could not be removed from "
            f"{cache.root}: check that it is writable"
        )
