"""The one lock reader: a lock's text to its TOML, lockgen's entries and a ``Pylock``.

A lock is untrusted input (it arrives in pull requests), and both use cases read one:
``lock`` (the no-op check, ``--check``, preferences, known hashes) and ``hydrate``.
Both go through :func:`read_lock`, so they agree on what a usable lock is: TOML that
``packaging.pylock`` accepts as PEP 751. Text that is not TOML is a
:class:`LockFileError` naming the file and the reason, in one line. TOML that is not
PEP 751 still reads: :attr:`LockDocument.lock` is then ``None`` (a re-lock takes no
preferences or hashes from it, ``--check`` still names its first difference from
what lockgen would write) and :meth:`LockDocument.validated`, all ``hydrate`` uses,
raises the reason. Validation waits for its first use: a no-op run trusts the body
seal and reads only ``[tool.lockgen]``, as fast as before the reader existed.

PEP 751 leaves ``[tool.lockgen]`` and ``[packages.tool.lockgen]`` untyped, so this is
also the one place that types lockgen's own entries (the inputs digest, the body seal,
the metadata record). Those are lockgen's bookkeeping, not the lock's meaning: an
entry of the wrong shape reads as absent, never as an error, so another tool's edit
there costs a re-lock, not a refused hydrate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from lockgen.core.errors import LockFileError
from lockgen.lockfile.seal import is_sealed

if TYPE_CHECKING:
    from packaging.pylock import Package, Pylock

    from lockgen.core.models import MetadataRecord

__all__ = ["LockDocument", "is_lock_file_name", "metadata_record", "read_lock"]

_LOCK_NAME = re.compile(r"pylock\.([^.]+)\.toml")
#: The length of lockgen's closing table (below), with room to spare: only the end
#: of a lock is searched for it.
_TAIL_LENGTH = 256
#: How lockgen ends every lock it writes (tomli-w's rendering of its table).
_SEALED_TAIL = re.compile(
    r'\n\[tool\.lockgen\]\ninputs = "(sha256:[0-9a-f]{64})"\n'
    r'body = "(sha256:[0-9a-f]{64})"\n\Z'
)


@dataclass(frozen=True, kw_only=True)
class LockDocument:
    """A lock file's TOML, read; its PEP 751 lock if it is one.

    ``text`` and ``data`` are kept for what compares the lock as written (the body
    seal, ``--check``'s first difference); everything else reads :attr:`lock`.
    """

    path: str
    text: str
    #: ``[tool.lockgen] inputs``: the digest of the inputs lockgen wrote it from
    inputs: str | None
    #: ``[tool.lockgen] body``: the digest of the text with this value left empty
    body: str | None
    #: The TOML, when it was parsed to find the two digests (else parsed on use).
    parsed: Mapping[str, Any] | None = None

    @cached_property
    def sealed(self) -> bool:
        """Whether the text still hashes to its recorded body seal (computed once:
        reading the lock and judging it stale both ask)."""
        return is_sealed(self.text, self.body)

    @cached_property
    def data(self) -> Mapping[str, Any]:
        """The lock's TOML (a sealed lock's is parsed on first use)."""
        return self.parsed if self.parsed is not None else _toml(self.text, self.path)

    @property
    def lock(self) -> Pylock | None:
        """The validated lock; ``None`` when the TOML is not PEP 751."""
        outcome = self._validation
        return None if isinstance(outcome, str) else outcome

    def validated(self) -> Pylock:
        """The validated lock; a LockFileError naming the file if it is not PEP 751."""
        outcome = self._validation
        if isinstance(outcome, str):
            raise LockFileError(self.path, f"not a valid PEP 751 lock: {outcome}")
        return outcome

    @property
    def packages(self) -> int:
        """How many ``[[packages]]`` it lists, counted without validating it (in a
        sealed lock, lockgen's own text, without parsing it)."""
        if self.parsed is None:
            return self.text.count("\n[[packages]]\n")
        packages = self.data.get("packages")
        return len(packages) if isinstance(packages, list) else 0

    @cached_property
    def _validation(self) -> Pylock | str:
        """The lock, or why it is not PEP 751 (one line); computed once, when asked.

        packaging.pylock is imported here: an up-to-date re-lock reads the lock's
        digests and never needs it (~10 ms of its start-up)."""
        from packaging.pylock import Pylock, PylockValidationError

        try:
            return Pylock.from_dict(self.data)
        except PylockValidationError as exc:
            return _one_line(exc)


def read_lock(text: str, path: str) -> LockDocument:
    """Parse a lock's text (any PEP 751 writer's); errors name ``path``. Only text
    that is not TOML raises (see the module docstring).

    A lock that ends in lockgen's own ``[tool.lockgen]`` table and still hashes to
    its body seal is lockgen's text, unedited: its two digests are read from that
    table and the TOML is parsed only if something asks for it (an up-to-date
    re-lock never does; parsing a 100-package lock took 70 ms of its 250).
    """
    tail = _SEALED_TAIL.search(text, max(0, len(text) - _TAIL_LENGTH))
    if tail is not None:
        document = LockDocument(path=path, text=text, inputs=tail[1], body=tail[2])
        if document.sealed:
            return document
    data = _toml(text, path)
    tool = _lockgen_table(data.get("tool"))
    return LockDocument(
        path=path,
        text=text,
        inputs=_string(tool, "inputs"),
        body=_string(tool, "body"),
        parsed=data,
    )


def is_lock_file_name(name: str) -> bool:
    """Whether PEP 751 tools recognise ``name`` as a lock (``pylock.toml`` or
    ``pylock.<name>.toml``): packaging's ``is_valid_pylock_path``, without importing
    packaging's lock model on every run (``tests/unit/test_lock_read.py`` holds the
    two equal)."""
    return name == "pylock.toml" or _LOCK_NAME.fullmatch(name) is not None


def _toml(text: str, path: str) -> dict[str, Any]:
    import tomli  # on use: an up-to-date lock is read without parsing its TOML

    try:
        return tomli.loads(text)
    except (tomli.TOMLDecodeError, RecursionError) as exc:  # nesting bombs: Recursion
        raise LockFileError(path, f"not valid TOML: {_one_line(exc)}") from exc


def metadata_record(package: Package) -> MetadataRecord | None:
    """lockgen's record of the METADATA it resolved ``package`` with, if the lock has
    one of the right shape (``[packages.tool.lockgen]``)."""
    tool = _lockgen_table(package.tool)
    filename, sha256 = _string(tool, "metadata-file"), _string(tool, "metadata-sha256")
    requires = tool.get("requires-dist", [])
    if filename is None or sha256 is None or not isinstance(requires, list):
        return None
    from lockgen.core.models import MetadataRecord  # on use: hydrate's, not a no-op's

    return MetadataRecord(
        filename=filename,
        sha256=sha256,
        requires_dist=tuple(str(r) for r in requires),
        requires_python=str(package.requires_python)
        if package.requires_python
        else None,
    )


def _lockgen_table(tool: object) -> Mapping[str, Any]:
    """A ``tool`` table's ``lockgen`` table; empty if either is absent or no table."""
    table = tool.get("lockgen") if isinstance(tool, Mapping) else None
    return table if isinstance(table, Mapping) else {}


def _string(table: Mapping[str, Any], key: str) -> str | None:
    value = table.get(key)
    return value if isinstance(value, str) else None


def _one_line(exc: Exception) -> str:
    """packaging's parse errors draw a caret under the text on extra lines; an error
    is one line, so keep the words and drop the drawing."""
    parts = (line.strip(" ^") for line in str(exc).splitlines())
    return " ".join(part for part in parts if part)
