"""One requirements line's syntax: logical lines, and what a requirement line names
(a project on an index or a direct reference, :mod:`lockgen.core.direct`). Option
lines are :mod:`lockgen.core.req_options`'."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.requirements import InvalidRequirement, Requirement

from lockgen.core.direct import (
    DirectError,
    DirectReference,
    direct_from_requirement,
    parse_direct,
)
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


def parse_requirement(
    text: str, *, cwd: Path | None = None, editable: bool = False
) -> Requirement | DirectReference:
    """A PEP 508 requirement on an index, or a direct reference (a URL, a VCS URL, a
    local path; ``editable`` after ``-e``) with paths relative to ``cwd``; without
    ``cwd``, direct references are refused (a caller that cannot place them)."""
    where = cwd if cwd is not None else Path.cwd()
    try:
        direct = parse_direct(text, editable=editable, cwd=where)
        if direct is None:
            try:
                requirement = Requirement(text)
            except InvalidRequirement as exc:
                raise _invalid_requirement(text, exc) from None
            if editable:
                raise LineError(f"-e needs a local folder, not {text!r}")
            if requirement.url is None:
                return requirement
            direct = direct_from_requirement(requirement, cwd=where, text=text)
    except DirectError as exc:
        raise LineError(str(exc)) from None
    if cwd is None:
        raise LineError(f"a direct reference is not allowed here: {direct.text}")
    return direct


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


def _invalid_requirement(text: str, exc: InvalidRequirement) -> LineError:
    """packaging's reason (first line only) plus pip's hints for the usual slips."""
    reason = first_line(exc)
    message = f"invalid requirement {text!r}: {reason}"
    operators = ("~=", "==", "!=", "<=", ">=", "<", ">", "===")
    if "=" in text and not any(op in text for op in operators):
        message += " (= is not a valid operator; did you mean ==?)"
    return LineError(message)
