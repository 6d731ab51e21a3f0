"""Requirements files read as pip reads them, so locks match ``pip install -r``.

This module reads files and follows their includes (``-r``/``-c``, cycles, depth,
relative paths) and gathers what they ask for; one line's syntax is
:mod:`lockgen.core._reqsyntax`'s and its options :mod:`lockgen.core.req_options`'.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import TYPE_CHECKING

from packaging.requirements import Requirement

from lockgen.core._reqsyntax import (
    LineError,
    break_args_options,
    logical_lines,
    parse_requirement,
    url_kind,
)
from lockgen.core.errors import RequirementsFileError
from lockgen.core.req_options import (
    CONSTRAINT,
    EDITABLE,
    REQUIREMENT,
    FormatControl,
    check_option_line,
    check_requirement_options,
    mutual_excludes,
    parse_options,
)
from lockgen.core.urls import redact_url

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from lockgen.core.direct import DirectReference

__all__ = [
    "InputRequirement",
    "RequirementsInput",
    "parse_requirements",
]

_MAX_DEPTH = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequirement:
    """A requirement with where it was written, so later errors can point at it, and
    (from a pyproject.toml) what needs it: ``extra:NAME``, ``group:NAME`` or, for the
    project itself and any requirements file, ``None``."""

    requirement: Requirement
    source: str
    needed_by: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class RequirementsInput:
    """Everything the files asked for: requirements, constraints and index options."""

    requirements: tuple[InputRequirement, ...]
    constraints: tuple[InputRequirement, ...]
    #: Direct references (URLs, VCS, local paths, ``-e``), in the order written.
    directs: tuple[DirectReference, ...] = ()
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    pre: bool = False
    format_control: FormatControl = field(default_factory=FormatControl)
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    #: From a pyproject.toml: the extras and dependency groups the lock covers, and
    #: the groups an installer selects by default (PEP 751's top-level keys).
    extras: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    default_groups: tuple[str, ...] = ()


def parse_requirements(
    requirement_files: Sequence[str],
    constraint_files: Sequence[str] = (),
    *,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
    cwd: Path | None = None,
) -> RequirementsInput:
    """Read the files as ``pip install -c C... -r R...`` would.

    Constraint files come first, as in pip, so a later file's ``-i`` wins over theirs.
    Local paths in requirement lines are relative to ``cwd``, as pip reads them;
    without it, direct references are refused.
    """
    reader = _Reader(read_text, environ, cwd)
    for path in constraint_files:
        reader.read_file(path, constraint=True)
    for path in requirement_files:
        reader.read_file(path, constraint=False)
    return reader.result()


# ---- files ------------------------------------------------------------------------


def _nested_path(including: str, target: str) -> str:
    """``target`` relative to the including file's directory; stdin ("-") sits in ".".

    An absolute ``target`` stays as it is (``PurePath`` joining drops the base), and
    ".." is collapsed lexically, as pip's ``abspath`` does.
    """
    return os.path.normpath(PurePath(including).parent / target)


def _cycle_key(path: str) -> str:
    """A lexical identity for a file, as pip's ``abspath`` check is lexical too."""
    return os.path.normpath(path)


def _error(reason: str, path: str, lineno: int | None) -> RequirementsFileError:
    """The one place errors are built, so every message is credential-free."""
    return RequirementsFileError(
        redact_url(reason), path=redact_url(path), lineno=lineno
    )


@dataclass(frozen=True, slots=True)
class _Include:
    """Where a file is read from: the chain of files including it, and the line."""

    chain: tuple[str, ...] = ()
    origin: tuple[str, int] | None = None


@dataclass(slots=True)
class _Reader:
    """Walks the files in order, accumulating what they ask for."""

    read_text: Callable[[str], str]
    environ: Mapping[str, str]
    cwd: Path | None = None
    requirements: list[InputRequirement] = field(default_factory=list)
    directs: list[DirectReference] = field(default_factory=list)
    constraints: list[InputRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    pre: bool = False
    only_binary: set[str] = field(default_factory=set)
    no_binary: set[str] = field(default_factory=set)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False

    def result(self) -> RequirementsInput:
        """The frozen view handed out, so callers cannot change what was read."""
        return RequirementsInput(
            requirements=tuple(self.requirements),
            constraints=tuple(self.constraints),
            directs=tuple(self.directs),
            index_url=self.index_url,
            extra_index_urls=tuple(self.extra_index_urls),
            pre=self.pre,
            format_control=FormatControl(
                only_binary=frozenset(self.only_binary),
                no_binary=frozenset(self.no_binary),
            ),
            find_links=tuple(self.find_links),
            no_index=self.no_index,
        )

    def read_file(
        self, path: str, *, constraint: bool, include: _Include | None = None
    ) -> None:
        """Apply every logical line of ``path``; errors name the file and line."""
        include = include or _Include()
        text = self._read(path, include.origin)
        chain = (*include.chain, _cycle_key(path))
        for lineno, line in logical_lines(text, self.environ):
            try:
                self._line(line, path, lineno, constraint=constraint, chain=chain)
            except LineError as exc:
                raise _error(str(exc), path, lineno) from None

    def _read(self, path: str, origin: tuple[str, int] | None) -> str:
        """The file's text; a failure names the including line when there is one."""
        try:
            return self.read_text(path)
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8, or a NUL byte
            detail = exc.strerror if isinstance(exc, OSError) else str(exc)
            detail = detail or str(exc)
            if origin is None:
                raise _error(f"cannot read: {detail}", path, None) from None
            raise _error(f"cannot read {path}: {detail}", *origin) from None

    def _line(
        self,
        line: str,
        path: str,
        lineno: int,
        *,
        constraint: bool,
        chain: tuple[str, ...],
    ) -> None:
        """A requirement line adds one requirement; an option line applies in order."""
        args, options_text = break_args_options(line)
        options = parse_options(options_text)
        source = f"{path}:{lineno}"
        if args:
            check_requirement_options(options)
            self._requirement(args.strip(), source, constraint, editable=False)
            return
        check_option_line(options, line)
        for name, value in options:
            if name == EDITABLE:
                self._requirement(value, source, constraint, editable=True)
                continue
            if name in (REQUIREMENT, CONSTRAINT):
                # -c switches to constraints; -r keeps the including file's kind (the
                # lockgen rule: pip itself reads a -r inside a -c file as requirements).
                nested = constraint or name == CONSTRAINT
                include = _Include(chain, (path, lineno))
                self._include(path, value, nested, include)
            elif name == "--find-links":
                self._find_links(path, value)
            else:
                self._apply(name, value)

    def _requirement(
        self, text: str, source: str, constraint: bool, *, editable: bool
    ) -> None:
        """One requirement: on an index, or a direct reference (not as a constraint:
        a constraint limits versions, and a direct reference names no version)."""
        found = parse_requirement(text, cwd=self.cwd, editable=editable)
        if isinstance(found, Requirement):
            item = InputRequirement(requirement=found, source=source)
            (self.constraints if constraint else self.requirements).append(item)
        elif constraint:
            raise LineError(f"a constraint cannot be a direct reference: {found.text}")
        else:
            self.directs.append(replace(found, source=source))

    def _find_links(self, path: str, value: str) -> None:
        """A location; a relative path is relative to the file, as ``-r`` includes are.

        URLs and ``~/...`` paths are kept as written (the home directory is expanded
        only when the location is read, so the input digest stays portable).

        (pip tries the file's directory first and falls back to the current one;
        lockgen takes only the file's, so a lock does not depend on where it ran.)
        """
        kept = url_kind(value) is not None or value.startswith("~")  # "~": home
        location = value if kept else _nested_path(path, value)
        if location not in self.find_links:
            self.find_links.append(location)

    def _include(
        self, path: str, value: str, constraint: bool, include: _Include
    ) -> None:
        """Read the file ``value`` written in ``path``, refusing cycles and URLs."""
        if url_kind(value) is not None:
            raise LineError(
                f"requirements files at URLs are not supported yet: {value}"
            )
        target = _nested_path(path, value)
        key = _cycle_key(target)
        if key in include.chain:
            cycle = " -> ".join([*include.chain, key])
            raise LineError(f"{target} recursively includes itself ({cycle})")
        if len(include.chain) >= _MAX_DEPTH:
            raise LineError(f"{target}: includes nested more than {_MAX_DEPTH} deep")
        self.read_file(target, constraint=constraint, include=include)

    def _apply(self, name: str, value: str) -> None:
        """One index or format option; unsupported ones were refused already."""
        if name == "--index-url":
            self.index_url = value
        elif name == "--extra-index-url":
            if value not in self.extra_index_urls:
                self.extra_index_urls.append(value)
        elif name == "--pre":
            self.pre = True
        elif name == "--no-index":
            self.no_index = True
        elif name == "--only-binary":
            mutual_excludes(value, self.only_binary, self.no_binary)
        else:
            mutual_excludes(value, self.no_binary, self.only_binary)
