"""``lockgen lock`` end to end: inputs to a written, validated pylock.toml.

This is where the layers meet (requirements, target, HTTP client, index, resolver, lock
writer), so that each of them stays ignorant of the others and the CLI only handles
options and printing. The output is written to a temporary file beside the target and
renamed over it, so a failed run never leaves a half-written or missing lock.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from packaging.utils import canonicalize_name
from resolvelib import BaseReporter

from lockgen.environment import make_target
from lockgen.errors import LockFileError, LockgenError
from lockgen.index import IndexClient
from lockgen.lockfile import build_lock, dumps
from lockgen.pipconfig import default_index_url
from lockgen.provider import Policy, Req, root_requirements
from lockgen.requirements import parse_requirements
from lockgen.resolve import resolve
from lockgen.simple_api import strip_credentials
from lockgen.transport import HttpClient

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from packaging.utils import NormalizedName

    from lockgen.provider import Candidate
    from lockgen.requirements import InputRequirement, RequirementsInput

__all__ = ["LockOptions", "LockResult", "Progress", "run_lock"]

_COMMAND_LINE = "<command line>"


class Progress(Protocol):
    """What the lock reports while it runs (the CLI prints it)."""

    def pinned(self, name: str, version: str, requests: int) -> None:
        """The resolver settled on ``name`` at ``version``."""

    def detail(self, message: str) -> None:
        """A verbose-only line (how metadata was read, a fallback taken)."""


@dataclass(frozen=True, kw_only=True)
class LockOptions:
    """The ``lock`` command's inputs, as the user gave them."""

    requirement_files: Sequence[str]
    constraint_files: Sequence[str] = ()
    output: str = "pylock.toml"
    index_url: str | None = None
    extra_index_urls: Sequence[str] = ()
    pre: bool = False
    only_binary: Sequence[str] = ()
    no_binary: Sequence[str] = ()
    python_version: str | None = None
    platform: str | None = None


@dataclass(frozen=True, kw_only=True)
class LockResult:
    """What a lock run produced: the text, and the counts for the summary line."""

    text: str
    output: str
    packages: int
    requests: int
    bytes: int


def run_lock(
    options: LockOptions,
    *,
    progress: Progress,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
) -> LockResult:
    """Resolve ``options`` and write the lock; raises LockgenError on any failure."""
    inputs = _read_inputs(options, read_text, environ)
    target = make_target(options.python_version, options.platform)
    client = HttpClient()
    repository = IndexClient(
        client, _indexes(options, inputs, environ, client), on_event=progress.detail
    )
    environment = target.environment()
    roots = root_requirements((r.requirement for r in inputs.requirements), environment)
    policy = Policy(
        constraints=_constraints(inputs.constraints, environment),
        pre=options.pre or inputs.pre,
        format_control=inputs.format_control,
    )
    pins = resolve(roots, repository, target, policy, _Reporter(progress, client))
    text = dumps(build_lock(pins, target, repository.get_sha256))
    if options.output != "-":
        write_atomically(Path(options.output), text)
    return LockResult(
        text=text,
        output=options.output,
        packages=len(pins),
        requests=client.stats.requests,
        bytes=client.stats.bytes,
    )


def _read_inputs(
    options: LockOptions, read_text: Callable[[str], str], environ: Mapping[str, str]
) -> RequirementsInput:
    """Parse the files; command-line format options count as a last, extra file."""
    lines = [f"--only-binary {v}" for v in options.only_binary]
    lines += [f"--no-binary {v}" for v in options.no_binary]

    def read(path: str) -> str:
        return "\n".join(lines) if path == _COMMAND_LINE else read_text(path)

    files = [*options.requirement_files, *([_COMMAND_LINE] if lines else [])]
    return parse_requirements(
        files, options.constraint_files, read_text=read, environ=environ
    )


def _indexes(
    options: LockOptions,
    inputs: RequirementsInput,
    environ: Mapping[str, str],
    client: HttpClient,
) -> list[str]:
    """Index URLs in search order, credential-free; credentials go to the client."""
    first = options.index_url or inputs.index_url or default_index_url(environ)
    if first is None:
        raise LockgenError(
            "no index configured and no pip to ask for its default: pass --index-url URL"
        )
    urls = [first, *options.extra_index_urls, *inputs.extra_index_urls]
    indexes: list[str] = []
    for url in urls:
        clean, credentials = strip_credentials(url)
        if credentials is not None:
            client.add_credentials(_netloc(clean), *credentials)
        clean = clean if clean.endswith("/") else clean + "/"
        if clean not in indexes:
            indexes.append(clean)
    return indexes


def _netloc(url: str) -> str:
    return urlsplit(url).netloc


def _constraints(
    constraints: Sequence[InputRequirement], environment: Mapping[str, str]
) -> dict[NormalizedName, list[Req]]:
    by_name: dict[NormalizedName, list[Req]] = {}
    for req in root_requirements((c.requirement for c in constraints), environment):
        by_name.setdefault(canonicalize_name(req.name), []).append(req)
    return by_name


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one rename; on failure the old file stays."""
    folder = path.parent if str(path.parent) else Path()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise LockFileError(str(path), f"cannot write: {exc.strerror}") from exc


class _Reporter(BaseReporter["Req", "Candidate", str]):
    """Forwards resolvelib's pins to the progress display."""

    def __init__(self, progress: Progress, client: HttpClient) -> None:
        self._progress = progress
        self._client = client

    def pinning(self, candidate: Candidate) -> None:
        if candidate.name != "<python>":
            self._progress.pinned(
                candidate.name, str(candidate.version), self._client.stats.requests
            )
