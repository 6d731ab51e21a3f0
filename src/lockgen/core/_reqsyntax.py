"""One requirements line's syntax: logical lines, and the kinds of requirement lockgen
cannot take. Option lines are :mod:`lockgen.core.req_options`'."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from lockgen.core.errors import first_line

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence

__all__ = [
    "LineError",
    "break_args_options",
    "logical_lines",
    "parse_requirement",
    "url_kind",
]

# pip's patterns (req_file.py): a comment starts a line or follows whitespace, so the
# "#" of a URL fragment survives; variables are POSIX-style upper-case names only.
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_ENV_VAR_RE = re.compile(r"\$\{([A-Z0-9_]+)\}")
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(//)?")

_URL_SCHEMES = frozenset({"http", "https", "file", "ftp"})
_VCS_NAMES = frozenset({"git", "hg", "svn", "bzr"})
# pip.utils.filetypes.ARCHIVE_EXTENSIONS
_ARCHIVE_EXTENSIONS = (
    ".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
    ".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
)  # fmt: skip


class LineError(Exception):
    """A problem with the current line; the reader adds the file and line number."""


# ---- logical lines ----------------------------------------------------------------


def logical_lines(text: str, environ: Mapping[str, str]) -> Iterator[tuple[int, str]]:
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


def break_args_options(line: str) -> tuple[str, str]:
    """Split at the first space-separated token starting with "-", as pip does.

    The requirement part is never shell-split, so markers keep their quotes.
    """
    tokens = line.split(" ")
    for i, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:i]), " ".join(tokens[i:])
    return line, ""


# ---- requirement lines ------------------------------------------------------------


def parse_requirement(text: str) -> Requirement:
    """A PEP 508 requirement on an index; every other kind of line is refused by kind."""
    kind = url_kind(text) or _archive_kind(text)
    if kind is None:
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            raise _invalid_requirement(text, exc) from None
        kind = _direct_url_kind(requirement)
        if kind is None:
            return requirement
    raise LineError(f"{kind} requirements are not supported yet: {text}")


def _scheme(text: str) -> tuple[str, bool] | None:
    """(lower-cased scheme, whether "//" follows) when ``text`` starts like a URL."""
    match = _SCHEME_RE.match(text)
    return None if match is None else (match[1].lower(), match[2] is not None)


def _is_vcs(scheme: str) -> bool:
    """``git+https``, ``hg+ssh``, ... and the plain ``git``/``svn`` protocols."""
    return scheme.partition("+")[0] in _VCS_NAMES


def url_kind(text: str) -> str | None:
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


def _invalid_requirement(text: str, exc: InvalidRequirement) -> LineError:
    """packaging's reason (first line only) plus pip's hints for the usual slips."""
    name = text.split(";", 1)[0].strip()
    if _looks_like_path(name) and "@" not in name:  # "@": a broken "name @ url"
        return LineError(f"local path requirements are not supported yet: {text}")
    reason = first_line(exc)
    message = f"invalid requirement {text!r}: {reason}"
    operators = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")
    if "=" in text and not any(op in text for op in operators):
        message += " (= is not a valid operator; did you mean ==?)"
    return LineError(message)
