"""pip's requirements-file options: every spelling pip accepts, which ones lockgen
honours, and what ``--only-binary``/``--no-binary`` mean (:class:`FormatControl`).

Split from :mod:`lockgen.core._reqsyntax` (logical lines and requirement lines) and
:mod:`lockgen.core.requirements` (reading files and includes): an option line is
parsed here exactly as optparse would, so "not supported" is told from "unknown"
and abbreviations resolve as pip resolves them.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from lockgen.core._reqsyntax import LineError

__all__ = [
    "CONSTRAINT",
    "EDITABLE",
    "REQUIREMENT",
    "FormatControl",
    "check_option_line",
    "check_requirement_options",
    "mutual_excludes",
    "parse_options",
]

REQUIREMENT = "--requirement"
CONSTRAINT = "--constraint"
EDITABLE = "--editable"
_PER_REQUIREMENT = frozenset({"--hash", "--config-settings"})
_SUPPORTED = frozenset({
    REQUIREMENT, CONSTRAINT, EDITABLE, "--index-url", "--extra-index-url", "--pre",
    "--only-binary", "--no-binary", "--find-links", "--no-index",
})  # fmt: skip


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
        (("-r", REQUIREMENT), True),
        (("-c", CONSTRAINT), True),
        (("--pre",), False),
        (("--only-binary",), True),
        (("--no-binary",), True),
        (("-e", EDITABLE), True),
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


def parse_options(text: str) -> list[tuple[str, str]]:
    """(long name, value) pairs in order; flags get an empty value."""
    try:
        args = shlex.split(text)
    except ValueError as exc:
        raise LineError(f"cannot split options ({exc}): {text}") from None
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
        raise LineError(f"unexpected argument {arg!r}")
    if arg.startswith("--"):
        spelled, eq, attached = arg.partition("=")
        option = _long_option(spelled)
        if eq and not option.takes_value:
            raise LineError(f"option {option.name} does not take a value")
        value = attached if eq else None
    else:
        option = _short_option(arg[:2])
        value = arg[2:] or None
    if not option.takes_value:
        return option.name, ""
    if value is None:
        if not args:
            raise LineError(f"option {option.name} requires a value")
        value = args.pop(0)
    return option.name, value


def _short_option(spelled: str) -> _Option:
    if spelled not in _OPTIONS:
        raise LineError(f"unknown option {spelled}")
    return _OPTIONS[spelled]


def _long_option(spelled: str) -> _Option:
    """Exact spelling or a unique prefix of one, as optparse accepts."""
    if spelled in _OPTIONS:
        return _OPTIONS[spelled]
    matches = {o for s, o in _OPTIONS.items() if s.startswith(spelled) and s[1] == "-"}
    if len(matches) == 1:
        return matches.pop()
    if not matches:
        raise LineError(f"unknown option {spelled}")
    names = ", ".join(sorted(o.name for o in matches))
    raise LineError(f"ambiguous option {spelled} (could be {names})")


def check_option_line(options: list[tuple[str, str]], line: str) -> None:
    """Reject options lockgen cannot honour before any of the line takes effect."""
    names = [name for name, _ in options]
    if EDITABLE in names and len(names) > 1:
        raise LineError(f"option -e must be alone on its line: {line}")
    for name in names:
        if name in _PER_REQUIREMENT:
            raise LineError(f"per-requirement options are not supported yet: {name}")
        if name not in _SUPPORTED:
            raise LineError(f"option {name} is not supported")
    includes = [n for n in names if n in (REQUIREMENT, CONSTRAINT)]
    if includes and len(names) > 1:
        # pip reads only the first include of such a line and drops the rest.
        raise LineError(f"option {includes[0]} must be alone on its line")


def check_requirement_options(options: list[tuple[str, str]]) -> None:
    """Options after a requirement: pip scopes --hash/-C to it and ignores the rest."""
    names = [name for name, _ in options]
    per_requirement = [n for n in names if n in _PER_REQUIREMENT]
    if per_requirement:
        raise LineError(
            f"per-requirement options are not supported yet: {per_requirement[0]}"
        )
    if names:
        raise LineError(
            f"option {names[0]} must be on a line of its own "
            "(pip ignores it after a requirement)"
        )


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


def mutual_excludes(value: str, target: set[str], other: set[str]) -> None:
    """pip's FormatControl.handle_mutual_excludes, on plain sets."""
    if value.startswith("-"):
        raise LineError("--no-binary / --only-binary option requires 1 argument")
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
