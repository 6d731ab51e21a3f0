"""Which sdists a lock may build for their metadata, and with what.

``--no-build`` forbids every build and ``--no-build-package NAME`` one project's;
otherwise an sdist whose PKG-INFO is dynamic is built (:mod:`lockgen.build`). Its
build requirements are resolved by lockgen's own resolver, for the running
interpreter and from wheels only, against the lock's own indexes, and read through
its cache: with a cache, environments are kept under ``v1/build-envs`` and reused
by later runs, and a failed build's log under ``v1/build-logs``; without one, both
live in a temporary folder for the run. A build runs with the running interpreter,
so when the lock is for another target, the metadata is that of this machine (uv
says the same): the run says so once.
"""

from __future__ import annotations

import tempfile
import threading
import weakref
from functools import partial
from pathlib import Path
from typing import IO, TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lockgen.core.environment import current_target
from lockgen.core.errors import LockgenError
from lockgen.core.req_options import FormatControl

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from packaging.utils import NormalizedName

    from lockgen.build.builder import Builder
    from lockgen.build.environment import Wheel
    from lockgen.core.environment import Target
    from lockgen.net.index import IndexClient
    from lockgen.store.cache import Cache

__all__ = ["Builds"]


class Builds:
    """The run's build policy and builder (:class:`~lockgen.net.index_metadata.SdistBuilds`)."""

    def __init__(
        self,
        *,
        no_build: bool,
        no_build_packages: Sequence[str],
        timeout: float,
        cache: Cache | None,
        target: Target,
        on_event: Callable[[str], None],
    ) -> None:
        self._no_build = no_build
        self._refused = frozenset(canonicalize_name(n) for n in no_build_packages)
        self._timeout = timeout
        self._cache = cache
        self._target = target
        self._event = on_event
        self._repository: IndexClient | None = None
        self._builder: Builder | None = None
        self._foreign: bool | None = None
        self._lock = threading.Lock()
        #: What the run should tell its user once (a build for a foreign target).
        self.notes: list[str] = []

    def attach(self, repository: IndexClient) -> None:
        """The index the build requirements come from (the lock's own)."""
        self._repository = repository

    def refusal(self, name: NormalizedName) -> str | None:
        """What forbids building ``name``'s sdists, or ``None``."""
        if self._no_build:
            return "--no-build"
        if name in self._refused:
            return f"--no-build-package {name}"
        return None

    def metadata(self, filename: str, sdist: IO[bytes]) -> bytes:
        """The METADATA the sdist ``filename`` builds to."""
        return self._builder_for(filename).metadata(filename, sdist)

    def tree_metadata(
        self, label: str, source: Path, name: NormalizedName | None, *, user: bool
    ) -> bytes:
        """The METADATA of a source tree (a local folder, a git checkout) of the
        project ``name`` (``None``: not known yet): its static ``[project]``
        table's, else a build's (``--no-build`` forbids it)."""
        return self._builder_for(label).tree_metadata(
            label, source, user=user, refusal=self.tree_refusal(name)
        )

    def tree_refusal(self, name: NormalizedName | None) -> str | None:
        """What forbids building a source tree of ``name`` (``None``: not known)."""
        if name is None:
            return "--no-build" if self._no_build else None
        return self.refusal(name)

    def _builder_for(self, filename: str) -> Builder:
        """The builder, made on first use; a foreign target's note, once."""
        with self._lock:
            builder = self._builder or self._make_builder()
            if self._foreign is None:
                self._foreign = self._target != current_target()
            if self._foreign and not self.notes:
                self.notes.append(
                    "sdists (or source trees) were built for their metadata with "
                    "the running interpreter; where a build's dependencies depend on "
                    "the platform or Python, the lock holds this machine's (first: "
                    f"{filename})"
                )
        return builder

    def _make_builder(self) -> Builder:
        from lockgen.build.builder import Builder

        if self._cache is not None:
            base = self._cache.root / "v1"
            environments, scratch, logs = (
                base / "build-envs",
                base / "tmp",
                base / "build-logs",
            )
        else:
            run = tempfile.TemporaryDirectory(prefix="lockgen-builds-")
            weakref.finalize(self, run.cleanup)
            environments, scratch = Path(run.name) / "envs", Path(run.name) / "tmp"
            logs = Path(tempfile.gettempdir()) / "lockgen-build-logs"
        self._builder = Builder(
            requirement_wheels=self._wheels,
            environments=environments,
            scratch=scratch,
            logs=logs,
            timeout=self._timeout,
            on_event=self._event,
        )
        return self._builder

    def _wheels(self, requirements: Sequence[str]) -> list[Wheel]:
        """The wheels of ``requirements`` resolved for the running interpreter."""
        from lockgen.build.environment import Wheel
        from lockgen.resolver.resolve import resolve
        from lockgen.resolver.selection import Policy, Selector
        from lockgen.resolver.values import root_requirements

        repository = self._repository
        assert repository is not None, "attach() the index first"
        try:
            parsed = [Requirement(text) for text in requirements]
        except InvalidRequirement as exc:
            raise LockgenError(f"invalid build requirement: {exc}") from None
        target = current_target()
        policy = Policy(
            constraints={},
            pre=False,
            format_control=FormatControl(only_binary=frozenset({":all:"})),
        )
        selector = Selector(target, policy)
        roots = root_requirements(parsed, target.environment())
        wheels = []
        for pin in resolve(roots, repository, target, policy, selector=selector):
            usable = selector.usable_files(pin.name, pin.files, allow_yanked=True)
            best = usable[pin.version][0]
            sha256, _size = repository.get_sha256(best)
            wheels.append(
                Wheel(best.filename, sha256, partial(repository.open_artifact, best))
            )
        return wheels
