"""``lockgen lock``: its options, turned into a call of the lock use case, and the
summary line. The use case (:func:`~lockgen.app.lock.run_lock`) does the work."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.app.lock import DEFAULT_BUILD_TIMEOUT
from lockgen.cli.options import (
    EXTRA_HELP,
    FIND_LINKS_HELP,
    INDEX_HELP,
    NO_INDEX_HELP,
    QUIET,
    cache_options,
    jobs,
    network_options,
    services,
    target_options,
)
from lockgen.cli.output import (
    emit,
    fail,
    progress_output,
    prompt_interrupt,
    say,
    stderr_is_terminal,
)
from lockgen.cli.progress import LockDisplay, format_size
from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from lockgen.app.input_memo import InputMemo
    from lockgen.app.lock import LockOptions, LockResult
    from lockgen.app.services import Services

__all__ = ["lock"]


@click.command()
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
@click.option("-i", "--index-url", metavar="URL", help=INDEX_HELP)
@click.option(
    "--extra-index-url",
    "extra_index_urls",
    multiple=True,
    metavar="URL",
    help=EXTRA_HELP,
)
@click.option(
    "-f",
    "--find-links",
    "find_links",
    multiple=True,
    metavar="PATH_OR_URL",
    help=FIND_LINKS_HELP,
)
@click.option("--no-index", is_flag=True, help=NO_INDEX_HELP)
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
    "--no-build",
    is_flag=True,
    help="Build no sdist for its metadata: an sdist whose PKG-INFO is dynamic "
    "cannot be used.",
)
@click.option(
    "--no-build-package",
    "no_build_packages",
    multiple=True,
    metavar="NAME",
    callback=lambda _ctx, _param, value: _project_names(value),
    help="Build no sdist of this project for its metadata (repeatable).",
)
@click.option(
    "--build-timeout",
    type=click.FloatRange(min=0, min_open=True),
    callback=lambda _ctx, _param, value: _finite(value),
    default=DEFAULT_BUILD_TIMEOUT,
    show_default=True,
    metavar="SECONDS",
    help="Kill a build (of an sdist, for its metadata) that takes longer.",
)
@click.option(
    "--extra",
    "extras",
    multiple=True,
    metavar="NAME",
    help="From a pyproject.toml, lock this extra (repeatable; default: all of them).",
)
@click.option("--all-extras", is_flag=True, help="Lock every extra (the default).")
@click.option(
    "--group",
    "groups",
    multiple=True,
    metavar="NAME",
    help="From a pyproject.toml, lock this dependency group (repeatable; default: "
    "all of them).",
)
@click.option(
    "--no-default-groups",
    is_flag=True,
    help="Do not lock the default group (dev), nor make it the lock's default.",
)
@click.option(
    "--exclude-newer",
    metavar="DATE",
    callback=lambda _ctx, _param, value: _cutoff(value),
    help="Use only files uploaded before DATE (an RFC 3339 time, or a date: up to its "
    "end, UTC).",
)
@target_options
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
@jobs("Requests in flight ahead of the resolver (1 = no prefetch).", 16)
@click.option(
    "--refresh", is_flag=True, help="Refetch index pages instead of revalidating them."
)
@cache_options
@network_options
@click.option(
    "--check",
    is_flag=True,
    help="Resolve again; exit 1 unless the lock is what lockgen would write now. "
    "Writes nothing.",
)
@QUIET
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
    no_build: bool,
    no_build_packages: tuple[str, ...],
    build_timeout: float,
    extras: tuple[str, ...],
    all_extras: bool,
    groups: tuple[str, ...],
    no_default_groups: bool,
    exclude_newer: datetime | None,
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
    """Resolve REQUIREMENTS files ('-' for stdin), or a pyproject.toml, and write a
    pylock.toml.

    Without arguments, reads requirements.in from the current directory, else its
    pyproject.toml. An existing
    lock's pins are kept where they still fit; when its recorded inputs match, nothing
    is fetched and nothing is written.
    """
    from lockgen.app.lock import LockOptions

    if not requirements:
        found = [p for p in ("requirements.in", "pyproject.toml") if Path(p).is_file()]
        if not found:
            raise click.UsageError(
                "no requirements file given (and no requirements.in or "
                "pyproject.toml here)"
            )
        requirements = (found[0],)
    _check_selection(requirements, extras, all_extras, groups, no_default_groups)
    _check_output(output)
    if check and output == "-":
        raise click.UsageError("--check compares with a lock file; it cannot use -o -")

    def run_services() -> Services:  # only when the lock is not up to date
        return services(
            cert=cert,
            client_cert=client_cert,
            keyring_provider=keyring_provider,
            cache_dir=cache_dir,
            no_cache=no_cache,
            tune=True,
        )

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
        no_build=no_build,
        no_build_packages=no_build_packages,
        build_timeout=build_timeout,
        exclude_newer=exclude_newer,
        extras=None if all_extras or not extras else extras,
        groups=groups or None,
        default_groups=not no_default_groups,
        upgrade=upgrade,
        upgrade_packages=upgrade_packages,
        check=check,
        # the target is made when the inputs are read: an up-to-date lock whose
        # inputs are remembered does not need it (see lockgen.app.input_memo)
        target_spec=(python_version, platform),
        jobs=jobs,
        refresh=refresh,
        offline=offline,
    )
    root = memo = None
    if not no_cache:
        from lockgen.app.input_memo import InputMemo
        from lockgen.store.location import default_cache_dir

        root = cache_dir or default_cache_dir(os.environ)
        memo = InputMemo(root, options)
    result = _run(options, run_services, memo, quiet=quiet, verbose=verbose)
    argv = _argv(click.get_current_context())
    digest = _settled_digest(options, result)
    if root and memo and argv is not None and digest is not None:
        from lockgen.app.settled import remember

        remember(
            argv,
            os.environ,
            root,
            memo,
            digest=digest,
            output=options.output,
            text=result.text,
            packages=result.packages,
            quiet=quiet,
        )


def _argv(ctx: click.Context) -> tuple[str, ...] | None:
    """The arguments the command line was run with, as ``lockgen.__main__`` hands
    them over (``None`` when called otherwise, as tests do)."""
    obj = ctx.find_root().obj
    argv = obj.get("argv") if isinstance(obj, dict) else None
    return argv if isinstance(argv, tuple) else None


def _settled_digest(options: LockOptions, result: LockResult) -> str | None:
    """The inputs digest ``result``'s lock is sealed for, if the next run with these
    arguments finds it up to date (:mod:`lockgen.app.settled` records that verdict):
    it is a file, and nothing in the options resolves anyway."""
    if options.output == "-" or options.resolves_anyway:
        return None
    return result.digest


def _check_selection(
    requirements: tuple[str, ...],
    extras: tuple[str, ...],
    all_extras: bool,
    groups: tuple[str, ...],
    no_default_groups: bool,
) -> None:
    """The pyproject.toml options need a pyproject.toml, and do not contradict."""
    from lockgen.core.pyproject import is_pyproject

    if (extras or all_extras or groups or no_default_groups) and not any(
        is_pyproject(r) for r in requirements
    ):
        raise click.UsageError(
            "--extra, --all-extras, --group and --no-default-groups select from a "
            "pyproject.toml; lock one (lockgen lock pyproject.toml)"
        )
    if extras and all_extras:
        raise click.UsageError("--extra and --all-extras contradict each other")


def _finite(value: float) -> float:
    """``--build-timeout``: a number of seconds (``nan`` and ``inf`` are not)."""
    import math

    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds")
    return value


def _project_names(values: tuple[str, ...]) -> tuple[str, ...]:
    """``--no-build-package``: project names (comma-separated too, as pip's format
    options are); a value that is no name is a usage error, not a silent no-op."""
    if not values:  # packaging is not imported by a run that has nothing to check
        return values
    from packaging.utils import InvalidName, canonicalize_name

    names = []
    for name in (n.strip() for value in values for n in value.split(",")):
        try:
            names.append(canonicalize_name(name, validate=True))
        except InvalidName:
            raise click.BadParameter(f"{name!r} is not a project name") from None
    return tuple(names)


def _cutoff(value: str | None) -> datetime | None:
    """``--exclude-newer``'s value as a time; a bad one is a usage error."""
    from lockgen.core.cutoff import parse_cutoff

    if value is None:
        return None
    try:
        return parse_cutoff(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--exclude-newer'") from None


def _check_output(output: str) -> None:
    from lockgen.lockfile.read import is_lock_file_name

    if output != "-" and not is_lock_file_name(Path(output).name):
        raise click.BadParameter(
            f"{Path(output).name!r} is not a lock file name PEP 751 tools recognise; "
            "use pylock.toml or pylock.<name>.toml",
            param_hint="'-o' / '--output'",
        )


def _run(
    options: LockOptions,
    run_services: Callable[[], Services],
    memo: InputMemo | None,
    *,
    quiet: bool,
    verbose: bool,
) -> LockResult:
    from lockgen.app.lock import run_lock
    from lockgen.app.pipconfig import ignored_notes, read_pip_settings

    if not quiet:
        for note in ignored_notes(read_pip_settings(os.environ)):
            say(note)
    progress = LockDisplay(
        progress_output,
        live=not quiet and stderr_is_terminal(),
        verbose=verbose and not quiet,
    )
    started = time.monotonic()
    try:
        with prompt_interrupt("interrupted"):
            result = run_lock(
                options,
                progress=progress,
                read_text=_read_text,
                environ=os.environ,
                services=run_services,
                memo=memo,
            )
    except LockgenError as exc:
        progress.finish()
        fail(str(exc))
    except KeyboardInterrupt:
        progress.finish()
        fail("interrupted", status=130)
    progress.finish()
    if options.output == "-":
        emit(result.text, nl=False)
    for warning in result.warnings:  # even with -q, as pip's warnings
        say(f"warning: {warning}")
    if quiet:
        return result
    elapsed = time.monotonic() - started
    if result.unchanged:
        from lockgen.app.settled import up_to_date_line

        say(up_to_date_line(result.output, result.packages, elapsed))
        return result
    from lockgen.app.settled import packages_text

    where = "stdout" if result.output == "-" else result.output
    say(
        f"Locked {packages_text(result.packages)} into {where} in {elapsed:.2f}s "
        f"({result.requests} requests, {format_size(result.bytes)})"
    )
    return result


def _read_text(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")
