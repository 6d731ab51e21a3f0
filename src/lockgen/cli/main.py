"""The ``lockgen`` command line: options, wiring, and everything printed.

Commands stay thin: they turn options into the objects of the layers below, call one
function, and print. Any :class:`~lockgen.core.errors.LockgenError` becomes one line on
stderr and exit status 1; bad usage is click's exit status 2.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from lockgen import __version__
from lockgen.cli.progress import HydrateDisplay, LockDisplay, format_size
from lockgen.core.errors import LockgenError
from lockgen.core.printable import printable

_F = TypeVar("_F", bound=Callable[..., Any])

if TYPE_CHECKING:
    from lockgen.app.hydrate import HydrateOptions, HydrateReport
    from lockgen.app.lock import LockOptions
    from lockgen.net.access import Network
    from lockgen.store.cache import Cache

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
_FIND_LINKS_HELP = (
    "A directory of wheels and sdists, an HTML page of links, or a file:// URL of "
    "either (repeatable). Its files are merged with the index's, as in pip."
)
_NO_INDEX_HELP = "Ignore every index (command line, files, pip config); use only -f."
_PLATFORM_HELP = (
    "Lock for another platform: linux_x86_64 (= manylinux_2_28), manylinux_2_17_aarch64, "
    "musllinux_1_2_x86_64, macosx_11_0_arm64, win_amd64, ..."
)


def _target_options(func: _F) -> _F:
    """``--python-version`` and ``--platform``: the environment to lock or select for."""
    func = click.option("--platform", metavar="PLATFORM", help=_PLATFORM_HELP)(func)
    return click.option(
        "--python-version",
        metavar="X.Y[.Z]",
        help="Target this CPython version (default: the running one).",
    )(func)


def _jobs(what: str, default: int) -> Callable[[_F], _F]:
    """``-j/--jobs``: how many requests run at once, on one connection pool.

    Defaults are measured (bench/): locking waits on round trips and gains up to 16;
    hydrate moves bytes, and 16 streams on two cores were slower than 8.
    """
    return click.option(
        "-j",
        "--jobs",
        default=default,
        show_default=True,
        metavar="N",
        type=click.IntRange(1, 64),
        help=what,
    )


_QUIET = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
_CACHE_DIR_OPTION = click.option(
    "--cache-dir",
    metavar="DIR",
    type=click.Path(path_type=Path),
    help="Cache directory (default: $LOCKGEN_CACHE_DIR, else the user cache dir).",
)


def _cache_options(func: _F) -> _F:
    """``--cache-dir``, ``--no-cache`` and ``--offline``, shared by the commands."""
    func = click.option(
        "--offline",
        is_flag=True,
        help="Use only the cache and local files; fail naming what is missing.",
    )(func)
    func = click.option(
        "--no-cache", is_flag=True, help="Neither read nor write the cache."
    )(func)
    return _CACHE_DIR_OPTION(func)


def _network_options(func: _F) -> _F:
    """``--cert``, ``--client-cert`` and ``--keyring-provider`` (pip's spellings),
    shared by the commands that reach indexes; proxies and netrc come from the
    environment, as for pip and uv."""
    func = click.option(
        "--keyring-provider",
        type=click.Choice(["disabled", "subprocess"]),
        default="disabled",
        show_default=True,
        help="Ask the `keyring` command on PATH for credentials when an index "
        "answers 401 (as pip's --keyring-provider subprocess).",
    )(func)
    func = click.option(
        "--client-cert",
        metavar="PATH",
        help="PEM file with the private key and certificate to present to the "
        "server (default: PIP_CLIENT_CERT, pip's client-cert).",
    )(func)
    return click.option(
        "--cert",
        metavar="PATH",
        help="CA bundle to trust (default: PIP_CERT, pip's cert, REQUESTS_CA_BUNDLE, "
        "CURL_CA_BUNDLE, SSL_CERT_FILE, else the system's trust store).",
    )(func)


def _network(
    cert: str | None, client_cert: str | None, keyring_provider: str
) -> Network:
    """Resolve the network options against pip's config and the environment."""
    from lockgen.app.network import resolve_network

    try:
        return resolve_network(
            cert=cert,
            client_cert=client_cert,
            keyring_provider=keyring_provider,
            environ=os.environ,
            warn=lambda message: _say(f"warning: {message}"),
        )
    except LockgenError as exc:
        _fail(str(exc))


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
@click.option(
    "-f",
    "--find-links",
    "find_links",
    multiple=True,
    metavar="PATH_OR_URL",
    help=_FIND_LINKS_HELP,
)
@click.option("--no-index", is_flag=True, help=_NO_INDEX_HELP)
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
@_target_options
@click.option(
    "-U",
    "--upgrade",
    is_flag=True,
    help="Ignore the existing lock's pins (they are preferences otherwise).",
)
@click.option(
    "-P",
    "--upgrade-package",
    "upgrade_packages",
    multiple=True,
    metavar="NAME[==VER]",
    help="Free this package's pin, or move it to VER (repeatable).",
)
@_jobs("Requests in flight ahead of the resolver (1 = no prefetch).", 16)
@click.option(
    "--refresh", is_flag=True, help="Refetch index pages instead of revalidating them."
)
@_cache_options
@_network_options
@click.option(
    "--check",
    is_flag=True,
    help="Resolve again; exit 1 unless the lock is what lockgen would write now. "
    "Writes nothing.",
)
@_QUIET
@click.option(
    "-v", "--verbose", is_flag=True, help="Say how each file's metadata was read."
)
def lock(
    requirements: tuple[str, ...],
    constraints: tuple[str, ...],
    output: str,
    index_url: str | None,
    extra_index_urls: tuple[str, ...],
    find_links: tuple[str, ...],
    no_index: bool,
    pre: bool,
    only_binary: tuple[str, ...],
    no_binary: tuple[str, ...],
    python_version: str | None,
    platform: str | None,
    upgrade: bool,
    upgrade_packages: tuple[str, ...],
    jobs: int,
    refresh: bool,
    cache_dir: Path | None,
    no_cache: bool,
    offline: bool,
    cert: str | None,
    client_cert: str | None,
    keyring_provider: str,
    check: bool,
    quiet: bool,
    verbose: bool,
) -> None:
    """Resolve REQUIREMENTS files ('-' for stdin) and write a pylock.toml.

    Without arguments, reads requirements.in from the current directory. An existing
    lock's pins are kept where they still fit; when its recorded inputs match, nothing
    is fetched and nothing is written.
    """
    from lockgen.app.lock import LockOptions

    if not requirements:
        if not Path("requirements.in").is_file():
            raise click.UsageError(
                "no requirements file given (and no requirements.in here)"
            )
        requirements = ("requirements.in",)
    _check_output(output)
    if check and output == "-":
        raise click.UsageError("--check compares with a lock file; it cannot use -o -")
    options = LockOptions(
        requirement_files=requirements,
        constraint_files=constraints,
        output=output,
        index_url=index_url,
        extra_index_urls=extra_index_urls,
        find_links=find_links,
        no_index=no_index,
        pre=pre,
        only_binary=only_binary,
        no_binary=no_binary,
        python_version=python_version,
        platform=platform,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        check=check,
        jobs=jobs,
        cache_dir=cache_dir,
        no_cache=no_cache,
        refresh=refresh,
        offline=offline,
        network=_network(cert, client_cert, keyring_provider),
    )
    _run(options, quiet=quiet, verbose=verbose)


@main.command()
@click.argument("lock_file", default="pylock.toml", metavar="[LOCK]")
@click.option(
    "-d",
    "--dest",
    required=True,
    metavar="DIR",
    help="Directory to put the files in (created if missing).",
)
@_target_options
@click.option(
    "--extra",
    "extras",
    multiple=True,
    metavar="NAME",
    help="Select the lock's packages for this extra (repeatable).",
)
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="NAME",
    help="Select this dependency group (repeatable; default: the lock's "
    "default-groups).",
)
@click.option(
    "--all",
    "all_files",
    is_flag=True,
    help="Fetch every artifact in the lock (all wheels and sdists).",
)
@_jobs("Parallel downloads.", 8)
@click.option(
    "--allow-http",
    is_flag=True,
    help="Allow plain-http URLs (loopback addresses are always allowed).",
)
@click.option(
    "--allow-file-urls",
    is_flag=True,
    help="Allow file: URLs outside the lock file's directory.",
)
@click.option(
    "--no-verify-metadata",
    is_flag=True,
    help="Skip comparing each wheel's METADATA with the lock's record.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a machine-readable summary on stdout.",
)
@_cache_options
@_network_options
@_QUIET
def hydrate(
    lock_file: str,
    dest: str,
    python_version: str | None,
    platform: str | None,
    extras: tuple[str, ...],
    groups: tuple[str, ...],
    all_files: bool,
    jobs: int,
    allow_http: bool,
    allow_file_urls: bool,
    no_verify_metadata: bool,
    as_json: bool,
    cache_dir: Path | None,
    no_cache: bool,
    offline: bool,
    cert: str | None,
    client_cert: str | None,
    keyring_provider: str,
    quiet: bool,
) -> None:
    """Download the files LOCK selects for an environment into DIR, verified.

    Each file streams to DIR/NAME.part while its size and sha256 are checked, and is
    renamed to its final name only when both match the lock. Files already in DIR
    with the right hash are kept. DIR is then a wheelhouse for
    `pip install --no-index --find-links DIR`.
    """
    from lockgen.app.hydrate import HydrateOptions

    if all_files and (extras or groups or python_version or platform):
        raise click.UsageError(
            "--all fetches everything; it cannot be combined with selection options"
        )
    options = HydrateOptions(
        lock_path=Path(lock_file),
        dest=Path(dest),
        python_version=python_version,
        platform=platform,
        extras=extras,
        groups=groups or None,
        all_files=all_files,
        jobs=jobs,
        allow_http=allow_http,
        allow_file_urls=allow_file_urls,
        verify_metadata=not no_verify_metadata,
        cache_dir=cache_dir,
        no_cache=no_cache,
        offline=offline,
        network=_network(cert, client_cert, keyring_provider),
    )
    _run_hydrate(options, quiet=quiet, as_json=as_json)


def _run_hydrate(options: HydrateOptions, *, quiet: bool, as_json: bool) -> None:
    import json

    from lockgen.app.hydrate import run_hydrate
    from lockgen.core.errors import HydrateError

    progress = HydrateDisplay(_stderr, live=not quiet and _stderr_is_terminal())
    started = time.monotonic()
    try:
        with _prompt_interrupt(
            "interrupted (finished files are kept; run again to complete)"
        ):
            report = run_hydrate(options, progress)
    except LockgenError as exc:
        progress.finish()
        _fail(str(exc))
    except KeyboardInterrupt:
        progress.finish()
        _fail(
            "interrupted (finished files are kept; run again to complete)", status=130
        )
    progress.finish()
    if as_json:
        _stdout(json.dumps(report.to_json(), indent=2, sort_keys=True))
    if not quiet:
        _say(_hydrate_summary(report, time.monotonic() - started))
    failures = report.failures
    if failures:
        error = HydrateError(
            [(o.artifact.filename, o.error or "failed") for o in failures],
            total=len(report.outcomes),
        )
        _fail(str(error))


def _hydrate_summary(report: HydrateReport, elapsed: float) -> str:
    fetched, cached = report.count("fetched"), report.count("cached")
    rate = report.transferred / elapsed if elapsed > 0 else 0.0
    return (
        f"Hydrated {report.dest}: {fetched} fetched ({format_size(report.transferred)}, "
        f"{format_size(int(rate))}/s), {report.count('from-cache')} from the cache, "
        f"{cached} already present, {report.count('failed')} failed "
        f"in {elapsed:.2f}s"
    )


@main.group()
def cache() -> None:
    """Inspect or empty the cache shared by lock and hydrate."""


@cache.command("dir")
@_CACHE_DIR_OPTION
def cache_dir_command(cache_dir: Path | None) -> None:
    """Print the cache directory."""
    _stdout(str(_open_cache(cache_dir).root))


@cache.command("info")
@_CACHE_DIR_OPTION
def cache_info(cache_dir: Path | None) -> None:
    """Print the cache's size and its entries per kind."""
    cache = _open_cache(cache_dir)
    kinds = cache.info()
    total = sum(size for _, size in kinds.values())
    _stdout(f"{cache.root}: {format_size(total)}")
    for kind, (entries, size) in kinds.items():
        _stdout(f"  {kind}: {entries} entries, {format_size(size)}")


@cache.command("clean")
@_CACHE_DIR_OPTION
def cache_clean(cache_dir: Path | None) -> None:
    """Remove everything in the cache."""
    cache = _open_cache(cache_dir)
    freed = cache.clean()
    _stdout(f"Removed {format_size(freed)} from {cache.root}")


def _open_cache(cache_dir: Path | None) -> Cache:
    from lockgen.store.cache import Cache, default_cache_dir

    return Cache(cache_dir or default_cache_dir(os.environ))


def _check_output(output: str) -> None:
    from packaging.pylock import is_valid_pylock_path

    if output != "-" and not is_valid_pylock_path(Path(output)):
        raise click.BadParameter(
            f"{Path(output).name!r} is not a lock file name PEP 751 tools recognise; "
            "use pylock.toml or pylock.<name>.toml",
            param_hint="'-o' / '--output'",
        )


def _run(options: LockOptions, *, quiet: bool, verbose: bool) -> None:
    from lockgen.app.lock import run_lock
    from lockgen.app.pipconfig import ignored_notes, read_pip_settings

    if not quiet:
        for note in ignored_notes(read_pip_settings(os.environ)):
            _say(note)
    progress = LockDisplay(
        _stderr, live=not quiet and _stderr_is_terminal(), verbose=verbose and not quiet
    )
    started = time.monotonic()
    try:
        with _prompt_interrupt("interrupted"):
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
        _stdout(result.text, nl=False)
    for warning in result.warnings:  # even with -q, as pip's warnings
        _say(f"warning: {warning}")
    if quiet:
        return
    elapsed = time.monotonic() - started
    if result.unchanged:
        _say(
            f"{result.output} is up to date ({_packages(result.packages)}); "
            f"nothing to do ({elapsed:.2f}s)"
        )
        return
    where = "stdout" if result.output == "-" else result.output
    _say(
        f"Locked {_packages(result.packages)} into {where} in {elapsed:.2f}s "
        f"({result.requests} requests, {format_size(result.bytes)})"
    )


def _packages(count: int) -> str:
    return f"{count} package" if count == 1 else f"{count} packages"


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def _say(text: str) -> None:
    """A message line on stderr, every message's way out (errors included): text
    from indexes, metadata and lock files is in them, so control characters are
    shown, never obeyed (:func:`~lockgen.core.printable.printable`). Messages are best
    effort: an unwritable stderr (a full disk, closed) must not cost the user the
    lock the run was making; the exit status still tells."""
    with suppress(OSError):
        click.echo(printable(text), err=True)


def _stdout(text: str, *, nl: bool = True) -> None:
    """Write data to stdout as it is: the lock and ``--json`` escape control
    characters themselves, cache paths are the user's own. An unwritable stdout (a
    full disk, a closed descriptor) is one error line, not a traceback; a reader that
    went away (``| head``) ends the run quietly, as other command-line tools do."""
    if sys.stdout is None:
        _fail("cannot write to standard output: it is closed")
    try:
        click.echo(text, nl=nl)
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_exit_after_broken_pipe()
    except OSError as exc:
        _fail(f"cannot write to standard output: {exc.strerror or exc}")


def _quiet_exit_after_broken_pipe() -> NoReturn:
    """Exit 1 without a word, with stdout pointed at /dev/null so that the
    interpreter's final flush does not report the broken pipe again."""
    with suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    _REPORTED.set()
    sys.exit(1)


def _fail(message: str, *, status: int = 1) -> NoReturn:
    _REPORTED.set()
    _say(f"error: {message}")
    sys.exit(status)


#: Set once an error line is out, so the interrupt watchdog does not repeat it.
_REPORTED = threading.Event()
#: How long Ctrl-C waits for an orderly exit before the process ends anyway.
_INTERRUPT_GRACE = 1.0


@contextmanager
def _prompt_interrupt(message: str) -> Iterator[None]:
    """Make Ctrl-C end the run within about a second, whatever threads are doing.

    The interrupt is raised as usual (so the lock file's temp file is removed and the
    error line printed); but worker threads blocked in a network read cannot be
    interrupted, and waiting for them (pool shutdown, interpreter exit) could take a
    whole read timeout. A watchdog started by the first Ctrl-C ends the process
    after :data:`_INTERRUPT_GRACE` seconds with the same line and status 130. Only in
    the main thread (where Python delivers signals); the previous handler is restored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def on_interrupt(signum: int, frame: object) -> None:
        watchdog = threading.Timer(_INTERRUPT_GRACE, _hard_exit, args=(message,))
        watchdog.daemon = True
        watchdog.start()
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _hard_exit(message: str) -> None:
    if not _REPORTED.is_set():
        sys.stderr.write(f"error: {printable(message)}\n")
    sys.stderr.flush()
    os._exit(130)


def _stderr(text: str) -> None:
    """The progress displays' output, as they wrote it: they send their own control
    sequences and make their text printable themselves. Best effort, like
    :func:`_say`."""
    with suppress(OSError):
        click.echo(text, err=True, nl=False)


def _stderr_is_terminal() -> bool:
    """Whether live progress may redraw stderr (``None`` when it was closed)."""
    return sys.stderr is not None and sys.stderr.isatty()
