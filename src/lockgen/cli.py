"""The ``lockgen`` command line: options, wiring, and everything printed.

Commands stay thin: they turn options into the objects of the layers below, call one
function, and print. Any :class:`~lockgen.errors.LockgenError` becomes one line on
stderr and exit status 1; bad usage is click's exit status 2.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import click

from lockgen import __version__
from lockgen.errors import LockgenError

if TYPE_CHECKING:
    from lockgen.lock import LockOptions

__all__ = ["main"]

_INDEX_HELP = (
    "Base URL of the simple index (default: pip's configured index-url, else pip's "
    "own default). Credentials in the URL are used but never written or printed."
)
_EXTRA_HELP = (
    "Another index, searched after --index-url. A project's files come from the first "
    "index that has the project, never a mix, so a public index cannot shadow a "
    "private one (dependency confusion)."
)
_PLATFORM_HELP = (
    "Lock for another platform: linux_x86_64 (= manylinux_2_28), manylinux_2_17_aarch64, "
    "musllinux_1_2_x86_64, macosx_11_0_arm64, win_amd64, ..."
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="lockgen")
def main() -> None:
    """Resolve requirements into a PEP 751 pylock.toml, fast."""


@main.command()
@click.argument("requirements", nargs=-1, metavar="[REQUIREMENTS]...")
@click.option(
    "-c",
    "--constraint",
    "constraints",
    multiple=True,
    metavar="FILE",
    help="Constrain versions with this file (repeatable).",
)
@click.option(
    "-o",
    "--output",
    default="pylock.toml",
    show_default=True,
    metavar="PATH",
    help="Where to write the lock ('-' for stdout).",
)
@click.option("-i", "--index-url", metavar="URL", help=_INDEX_HELP)
@click.option(
    "--extra-index-url",
    "extra_index_urls",
    multiple=True,
    metavar="URL",
    help=_EXTRA_HELP,
)
@click.option("--pre", is_flag=True, help="Allow pre-releases.")
@click.option(
    "--only-binary",
    multiple=True,
    metavar="NAMES",
    help="Use only wheels for these (comma-separated, :all:, :none:).",
)
@click.option(
    "--no-binary",
    multiple=True,
    metavar="NAMES",
    help="Use only sdists for these (comma-separated, :all:, :none:).",
)
@click.option(
    "--python-version",
    metavar="X.Y[.Z]",
    help="Lock for this Python version (default: the running one).",
)
@click.option("--platform", metavar="PLATFORM", help=_PLATFORM_HELP)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "-v", "--verbose", is_flag=True, help="Say how each file's metadata was read."
)
def lock(
    requirements: tuple[str, ...],
    constraints: tuple[str, ...],
    output: str,
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    pre: bool,
    only_binary: tuple[str, ...],
    no_binary: tuple[str, ...],
    python_version: str | None,
    platform: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Resolve REQUIREMENTS files ('-' for stdin) and write a pylock.toml.

    Without arguments, reads requirements.in from the current directory.
    """
    from lockgen.lock import LockOptions

    if not requirements:
        if not Path("requirements.in").is_file():
            raise click.UsageError(
                "no requirements file given (and no requirements.in here)"
            )
        requirements = ("requirements.in",)
    _check_output(output)
    options = LockOptions(
        requirement_files=requirements,
        constraint_files=constraints,
        output=output,
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        pre=pre,
        only_binary=only_binary,
        no_binary=no_binary,
        python_version=python_version,
        platform=platform,
    )
    _run(options, quiet=quiet, verbose=verbose)


def _check_output(output: str) -> None:
    from packaging.pylock import is_valid_pylock_path

    if output != "-" and not is_valid_pylock_path(Path(output)):
        raise click.BadParameter(
            f"{Path(output).name!r} is not a lock file name PEP 751 tools recognise; "
            "use pylock.toml or pylock.<name>.toml",
            param_hint="'-o' / '--output'",
        )


def _run(options: LockOptions, *, quiet: bool, verbose: bool) -> None:
    from lockgen.lock import run_lock

    progress = _Progress(enabled=not quiet, verbose=verbose and not quiet)
    started = time.monotonic()
    try:
        result = run_lock(
            options, progress=progress, read_text=_read_text, environ=os.environ
        )
    except LockgenError as exc:
        progress.finish()
        _fail(str(exc))
    except KeyboardInterrupt:
        progress.finish()
        _fail("interrupted", status=130)
    progress.finish()
    if options.output == "-":
        click.echo(result.text, nl=False)
    if not quiet:
        elapsed = time.monotonic() - started
        click.echo(result.summary(elapsed), err=True)


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def _fail(message: str, *, status: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(status)


class _Progress:
    """Live progress on a terminal's stderr; verbose details as plain lines."""

    def __init__(self, *, enabled: bool, verbose: bool) -> None:
        self._live = enabled and sys.stderr.isatty()
        self._verbose = verbose
        self._pinned = 0
        self._shown = False

    def pinned(self, name: str, version: str, requests: int) -> None:
        self._pinned += 1
        if self._verbose:
            click.echo(f"pinned {name} {version}", err=True)
        elif self._live:
            line = f"Resolving: {self._pinned} packages pinned, {requests} requests"
            click.echo(f"\r{line}\x1b[K", err=True, nl=False)
            self._shown = True

    def detail(self, message: str) -> None:
        if self._verbose:
            click.echo(message, err=True)

    def finish(self) -> None:
        if self._shown:
            click.echo("\r\x1b[K", err=True, nl=False)
            self._shown = False
