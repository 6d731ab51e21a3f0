"""Requirements files read as pip reads them, so locks match ``pip install -r``."""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from lockgen.errors import RequirementsFileError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

__all__ = [
    "FormatControl",
    "InputRequirement",
    "RequirementsInput",
    "parse_requirements",
    "redact_url",
]

# pip's patterns (req_file.py): a comment starts a line or follows whitespace, so the
# "#" of a URL fragment survives; variables are POSIX-style upper-case names only.
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
# Greedy up to the last "@" of the authority, as urllib.parse splits userinfo.
_USERINFO_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://)[^/?#\s]*@")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")

_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"})
_VCS_NAMES = frozenset({"git", "hg", "svn", "bzr"})
# pip.utils.filetypes.ARCHIVE_EXTENSIONS
_ARCHIVE_EXTENSIONS = (
    ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip
_MAX_DEPTH = 100

_REQUIREMENT = "--requirement"
_CONSTRAINT = "--constraint"
_EDITABLE = "--editable"
_PER_REQUIREMENT = frozenset({"--hash", "--config-settings"})
_SUPPORTED = frozenset({
    _REQUIREMENT, _CONSTRAINT, "--index-url", "--extra-index-url", "--pre",
    "--only-binary", "--no-binary",
})  # fmt: skip


@dataclass(frozen=True, kw_only=True, slots=True)
class InputRequirement:
    """A requirement with where it was written, so later errors can point at it."""

    requirement: Requirement
    source: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FormatControl:
    """pip's ``--only-binary``/``--no-binary`` sets, answering which kinds may be used."""

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()

    def allows_wheel(self, name: str) -> bool:
        """Whether a wheel of ``name`` may be used."""
        return self._allowed(name)[0]

    def allows_sdist(self, name: str) -> bool:
        """Whether an sdist of ``name`` may be used."""
        return self._allowed(name)[1]

    def _allowed(self, name: str) -> tuple[bool, bool]:
        """(wheel, sdist) by pip's precedence: a named project beats ``:all:``."""
        key = canonicalize_name(name)
        if key in self.only_binary:
            return True, False
        if key in self.no_binary:
            return False, True
        if ":all:" in self.only_binary:
            return True, False
        if ":all:" in self.no_binary:
            return False, True
        return True, True


@dataclass(frozen=True, kw_only=True, slots=True)
class RequirementsInput:
    """Everything the files asked for: requirements, constraints and index options."""

    requirements: tuple[InputRequirement, ...]
    constraints: tuple[InputRequirement, ...]
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    pre: bool = False
    format_control: FormatControl = FormatControl()


def redact_url(text: str) -> str:
    """Replace the userinfo of every URL in ``text`` by ``****``: messages leak no secrets."""
    return _USERINFO_RE.sub(r"\1****@", text)


def parse_requirements(
    requirement_files: Sequence[str],
    constraint_files: Sequence[str] = (),
    *,
    read_text: Callable[[str], str],
    environ: Mapping[str, str],
) -> RequirementsInput:
    """Read the files as ``pip install -c C... -r R...`` would.

    Constraint files come first, as in pip, so a later file's ``-i`` wins over theirs.
    """
    reader = _Reader(read_text, environ)
    for path in constraint_files:
        reader.read_file(path, constraint=True)
    for path in requirement_files:
        reader.read_file(path, constraint=False)
    return reader.result()


class _LineError(Exception):
    """A problem with the current line; the reader adds the file and line number."""


@dataclass(frozen=True, slots=True)
class _Option:
    name: str  # the long spelling, used in messages and for dispatch
    takes_value: bool


def _option_table() -> dict[str, _Option]:
    """Every option pip accepts in a requirements file, by each of its spellings.

    lockgen must know pip's whole set, not just what it supports, so that it can tell
    "not supported" from "unknown" and resolve abbreviations exactly as optparse does.
    """
    specs: tuple[tuple[tuple[str, ...], bool], ...] = (
        (("-i", "--index-url", "--pypi-url"), True),
        (("--extra-index-url",), True),
        (("-r", _REQUIREMENT), True),
        (("-c", _CONSTRAINT), True),
        (("--pre",), False),
        (("--only-binary",), True),
        (("--no-binary",), True),
        (("-e", _EDITABLE), True),
        (("--hash",), True),
        (("-C", "--config-settings"), True),
        (("--no-index",), False),
        (("-f", "--find-links"), True),
        (("--prefer-binary",), False),
        (("--require-hashes",), False),
        (("--no-require-hashes",), False),
        (("--all-releases",), True),
        (("--only-final",), True),
        (("--trusted-host",), True),
        (("--use-feature",), True),
    )
    table: dict[str, _Option] = {}
    for spellings, takes_value in specs:
        option = _Option(next(s for s in spellings if s.startswith("--")), takes_value)
        table.update(dict.fromkeys(spellings, option))
    return table


_OPTIONS = _option_table()


# ---- logical lines ----------------------------------------------------------------


def _logical_lines(text: str, environ: Mapping[str, str]) -> Iterator[tuple[int, str]]:
    """Non-blank lines without comments, variables expanded, numbered by first line."""
    for lineno, line in _join_lines(text.removeprefix("\ufeff").splitlines()):
        stripped = _COMMENT_RE.sub("", line).strip()
        if stripped:
            yield lineno, _expand(stripped, environ)


def _join_lines(lines: Sequence[str]) -> Iterator[tuple[int, str]]:
    """Join backslash continuations as pip does: a comment line never continues."""
    first = 0
    parts: list[str] = []
    for lineno, line in enumerate(lines, start=1):
        is_comment = _COMMENT_RE.match(line) is not None
        if line.endswith("\\") and not is_comment:
            first = first if parts else lineno
            parts.append(line.strip("\\"))
            continue
        text = " " + line if is_comment else line  # keeps a joined comment a comment
        yield (first, "".join([*parts, text])) if parts else (lineno, text)
        parts = []
    if parts:
        yield first, "".join(parts)


def _expand(line: str, environ: Mapping[str, str]) -> str:
    """``${VAR}`` from ``environ``; undefined or empty ones stay as written, as in pip."""
    return _ENV_VAR_RE.sub(lambda m: environ.get(m[1]) or m[0], line)


def _break_args_options(line: str) -> tuple[str, str]:
    """Split at the first space-separated token starting with "-", as pip does.

    The requirement part is never shell-split, so markers keep their quotes.
    """
    tokens = line.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return line, ""


# ---- options ----------------------------------------------------------------------


def _parse_options(text: str) -> list[tuple[str, str]]:
    """(long name, value) pairs in order; flags get an empty value."""
    try:
        args = shlex.split(text)
    except ValueError as exc:
        raise _LineError(f"cannot split options ({exc}): {text}") from None
    parsed: list[tuple[str, str]] = []
    while args:
        parsed.append(_next_option(args))
    return parsed


def _next_option(args: list[str]) -> tuple[str, str]:
    """Consume one option and its value, with optparse's spellings.

    ``--opt=value``, ``--opt value``, ``-ovalue`` and ``-o value``; pip ignores stray
    arguments, lockgen reports them so nothing written is silently dropped.
    """
    arg = args.pop(0)
    if arg in ("-", "--") or not arg.startswith("-"):
        raise _LineError(f"unexpected argument {arg!r}")
    if arg.startswith("--"):
        spelled, eq, attached = arg.partition("=")
        option = _long_option(spelled)
        if eq and not option.takes_value:
            raise _LineError(f"option {option.name} does not take a value")
        value = attached if eq else None
    else:
        option = _short_option(arg[:2])
        value = arg[2:] or None
    if not option.takes_value:
        return option.name, ""
    if value is None:
        if not args:
            raise _LineError(f"option {option.name} requires a value")
        value = args.pop(0)
    return option.name, value


def _short_option(spelled: str) -> _Option:
    if spelled not in _OPTIONS:
        raise _LineError(f"unknown option {spelled}")
    return _OPTIONS[spelled]


def _long_option(spelled: str) -> _Option:
    """Exact spelling or a unique prefix of one, as optparse accepts."""
    if spelled in _OPTIONS:
        return _OPTIONS[spelled]
    matches = {o for s, o in _OPTIONS.items() if s.startswith(spelled) and s[1] == "-"}
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise _LineError(f"unknown option {spelled}")
    names = ", ".join(sorted(o.name for o in matches))
    raise _LineError(f"ambiguous option {spelled} (could be {names})")


def _check_option_line(options: list[tuple[str, str]], line: str) -> None:
    """Reject options lockgen cannot honour before any of the line takes effect."""
    names = [name for name, _ in options]
    if _EDITABLE in names:
        raise _LineError(f"editable requirements are not supported yet: {line}")
    for name in names:
        if name in _PER_REQUIREMENT:
            raise _LineError(f"per-requirement options are not supported yet: {name}")
        if name not in _SUPPORTED:
            raise _LineError(f"option {name} is not supported")
    includes = [n for n in names if n in (_REQUIREMENT, _CONSTRAINT)]
    if includes and len(names) > 1:
        # pip reads only the first include of such a line and drops the rest.
        raise _LineError(f"option {includes[0]} must be alone on its line")


def _check_requirement_options(options: list[tuple[str, str]]) -> None:
    """Options after a requirement: pip scopes --hash/-C to it and ignores the rest."""
    names = [name for name, _ in options]
    per_requirement = [n for n in names if n in _PER_REQUIREMENT]
    if per_requirement:
        raise _LineError(
            f"per-requirement options are not supported yet: {per_requirement[0]}"
        )
    if names:
        raise _LineError(
            f"option {names[0]} must be on a line of its own "
            "(pip ignores it after a requirement)"
        )


def _mutual_excludes(value: str, target: set[str], other: set[str]) -> None:
    """pip's FormatControl.handle_mutual_excludes, on plain sets."""
    if value.startswith("-"):
        raise _LineError("--no-binary / --only-binary option requires 1 argument")
    new = value.split(",")
    while ":all:" in new:
        other.clear()
        target.clear()
        target.add(":all:")
        del new[: new.index(":all:") + 1]
        if ":none:" not in new:  # ":all:" already covers any later name
            return
    for name in new:
        if name == ":none:":
            target.clear()
            continue
        key = canonicalize_name(name)
        other.discard(key)
        target.add(key)


# ---- requirement lines ------------------------------------------------------------


def _parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement on an index; every other kind of line is refused by kind."""
    kind = _url_kind(text) or _archive_kind(text)
    if kind is None:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise _invalid_requirement(text, exc) from None
        kind = _direct_url_kind(requirement)
        if kind is None:
            return requirement
    raise _LineError(f"{kind} requirements are not supported yet: {text}")


def _scheme(text: str) -> tuple[str, bool] | None:
    """(lower-cased scheme, whether "//" follows) when ``text`` starts like a URL."""
    match = _SCHEME_RE.match(text)
    return None if match is None else (match[1].lower(), match[2] is not None)


def _is_vcs(scheme: str) -> bool:
    """``git+https``, ``hg+ssh``, ... and the plain ``git``/``svn`` protocols."""
    return scheme.partition("+")[0] in _VCS_NAMES


def _url_kind(text: str) -> str | None:
    """The kind of a line that is a bare URL: pip's ``is_url``, plus any ``x://``."""
    found = _scheme(text)
    if found is None:
        return None
    scheme, slashes = found
    if _is_vcs(scheme) and (slashes or "+" in scheme):
        return "VCS"
    if scheme in _URL_SCHEMES or slashes:
        return "URL"
    return None


def _archive_kind(text: str) -> str | None:
    """The kind of a line naming an archive file, as pip's constructors decide.

    ``foo-1.0.whl`` is a valid PEP 508 name, so this must come before parsing; a
    ``name @ url`` whose name is not a path is left to PEP 508.
    """
    name = _strip_extras(text.split(";", 1)[0].strip())
    if not name.lower().endswith(_ARCHIVE_EXTENSIONS):
        return None
    before, at, _ = name.partition("@")
    if at and not _looks_like_path(before):
        return None
    return "local path"


def _strip_extras(name: str) -> str:
    match = re.match(r"^(.+)(\[[^\]]+\])$", name)
    return name if match is None else match[1].rstrip()


def _looks_like_path(name: str) -> bool:
    """pip's ``_looks_like_path``, with both separators whatever the platform."""
    return "/" in name or "\\" in name or name.startswith(".")


def _direct_url_kind(requirement: Requirement) -> str | None:
    if requirement.url is None:
        return None
    found = _scheme(requirement.url)
    if found is None:
        return "local path"  # "name @ ./dir": packaging accepts a bare path
    return "VCS" if _is_vcs(found[0]) else "direct URL"


def _invalid_requirement(text: str, exc: InvalidRequirement) -> _LineError:
    """packaging's reason (first line only) plus pip's hints for the usual slips."""
    name = text.split(";", 1)[0].strip()
    if _looks_like_path(name) and "@" not in name:  # "@": a broken "name @ url"
        return _LineError(f"local path requirements are not supported yet: {text}")
    reason = str(exc).splitlines()[0] if str(exc) else "invalid syntax"
    message = f"invalid requirement {text!r}: {reason}"
    operators = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")
    if "=" in text and not any(op in text for op in operators):
        message += " (= is not a valid operator; did you mean ==?)"
    return _LineError(message)


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
    requirements: list[InputRequirement] = field(default_factory=list)
    constraints: list[InputRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    pre: bool = False
    only_binary: set[str] = field(default_factory=set)
    no_binary: set[str] = field(default_factory=set)

    def result(self) -> RequirementsInput:
        """The frozen view handed out, so callers cannot change what was read."""
        return RequirementsInput(
            requirements=tuple(self.requirements),
            constraints=tuple(self.constraints),
            index_url=self.index_url,
            extra_index_urls=tuple(self.extra_index_urls),
            pre=self.pre,
            format_control=FormatControl(
                only_binary=frozenset(self.only_binary),
                no_binary=frozenset(self.no_binary),
            ),
        )

    def read_file(
        self, path: str, *, constraint: bool, include: _Include | None = None
    ) -> None:
        """Apply every logical line of ``path``; errors name the file and line."""
        include = include or _Include()
        text = self._read(path, include.origin)
        chain = (*include.chain, _cycle_key(path))
        for lineno, line in _logical_lines(text, self.environ):
            try:
                self._line(line, path, lineno, constraint=constraint, chain=chain)
            except _LineError as exc:
                raise _error(str(exc), path, lineno) from None

    def _read(self, path: str, origin: tuple[str, int] | None) -> str:
        """The file's text; a failure names the including line when there is one."""
        try:
            return self.read_text(path)
        except (OSError, UnicodeDecodeError) as exc:
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
        args, options_text = _break_args_options(line)
        options = _parse_options(options_text)
        if args:
            _check_requirement_options(options)
            found = InputRequirement(
                requirement=_parse_requirement(args.strip()), source=f"{path}:{lineno}"
            )
            (self.constraints if constraint else self.requirements).append(found)
            return
        _check_option_line(options, line)
        for name, value in options:
            if name in (_REQUIREMENT, _CONSTRAINT):
                # -c switches to constraints; -r keeps the including file's kind (the
                # lockgen rule: pip itself reads a -r inside a -c file as requirements).
                nested = constraint or name == _CONSTRAINT
                include = _Include(chain, (path, lineno))
                self._include(path, value, nested, include)
            else:
                self._apply(name, value)

    def _include(
        self, path: str, value: str, constraint: bool, include: _Include
    ) -> None:
        """Read the file ``value`` written in ``path``, refusing cycles and URLs."""
        if _url_kind(value) is not None:
            raise _LineError(
                f"requirements files at URLs are not supported yet: {value}"
            )
        target = _nested_path(path, value)
        key = _cycle_key(target)
        if key in include.chain:
            cycle = " -> ".join([*include.chain, key])
            raise _LineError(f"{target} recursively includes itself ({cycle})")
        if len(include.chain) >= _MAX_DEPTH:
            raise _LineError(f"{target}: includes nested more than {_MAX_DEPTH} deep")
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
        elif name == "--only-binary":
            _mutual_excludes(value, self.only_binary, self.no_binary)
        else:
            _mutual_excludes(value, self.no_binary, self.only_binary)
