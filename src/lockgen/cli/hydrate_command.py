"""``lockgen hydrate``: its options, turned into a call of the hydrate use case, and
the summary (or ``--json``). The use case (:func:`~lockgen.app.hydrate.run_hydrate`)
does the work."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from lockgen.cli.options import (
    QUIET,
    cache_options,
    jobs,
    network_options,
    services,
    target,
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
from lockgen.cli.progress import HydrateDisplay, format_size
from lockgen.core.errors import LockgenError

if TYPE_CHECKING:
    from lockgen.app.hydrate import HydrateOptions, HydrateReport
    from lockgen.app.services import Services

__all__ = ["hydrate"]


@click.command()
@click.argument("lock_file", default="pylock.toml", metavar="[LOCK]")
@click.option(
    "-d",
    "--dest",
    required=True,
    metavar="DIR",
    help="Directory to put the files in (created if missing).",
)
@target_options
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
@jobs("Parallel downloads.", 8)
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
@cache_options
@network_options
@QUIET
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
    run_services = services(
        cert=cert,
        client_cert=client_cert,
        keyring_provider=keyring_provider,
        cache_dir=cache_dir,
        no_cache=no_cache,
    )
    options = HydrateOptions(
        lock_path=Path(lock_file),
        dest=Path(dest),
        target=None if all_files else target(python_version, platform),
        extras=extras,
        groups=groups or None,
        all_files=all_files,
        jobs=jobs,
        allow_http=allow_http,
        allow_file_urls=allow_file_urls,
        verify_metadata=not no_verify_metadata,
        offline=offline,
    )
    _run_hydrate(options, run_services, quiet=quiet, as_json=as_json)


def _run_hydrate(
    options: HydrateOptions, run_services: Services, *, quiet: bool, as_json: bool
) -> None:
    import json

    from lockgen.app.hydrate import run_hydrate
    from lockgen.core.errors import HydrateError

    progress = HydrateDisplay(progress_output, live=not quiet and stderr_is_terminal())
    started = time.monotonic()
    try:
        with prompt_interrupt(
            "interrupted (finished files are kept; run again to complete)"
        ):
            report = run_hydrate(options, progress, run_services)
    except LockgenError as exc:
        progress.finish()
        fail(str(exc))
    except KeyboardInterrupt:
        progress.finish()
        fail("interrupted (finished files are kept; run again to complete)", status=130)
    progress.finish()
    if as_json:
        emit(json.dumps(report.to_json(), indent=2, sort_keys=True))
    if not quiet:
        say(_hydrate_summary(report, time.monotonic() - started))
    failures = report.failures
    if failures:
        error = HydrateError(
            [(o.artifact.filename, o.error or "failed") for o in failures],
            total=len(report.outcomes),
        )
        fail(str(error))


def _hydrate_summary(report: HydrateReport, elapsed: float) -> str:
    fetched, cached = report.count("fetched"), report.count("cached")
    rate = report.transferred / elapsed if elapsed > 0 else 0.0
    checked_out = report.count("checked-out")
    local = [o.artifact.filename for o in report.outcomes if o.status == "local"]
    sources = f", {checked_out} checked out" if checked_out else ""
    if local:
        sources += f", {len(local)} local (not downloaded: {', '.join(local)})"
    return (
        f"Hydrated {report.dest}: {fetched} fetched ({format_size(report.transferred)}, "
        f"{format_size(int(rate))}/s), {report.count('from-cache')} from the cache, "
        f"{cached} already present{sources}, {report.count('failed')} failed "
        f"in {elapsed:.2f}s"
    )
