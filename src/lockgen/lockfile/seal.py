"""The body seal: the digest of a lock's own text, recorded in ``[tool.lockgen] body``.

lockgen renders ``body = ""``, hashes that text and writes the digest in its place, so
a lock whose text still hashes to its recorded ``body`` is byte for byte what lockgen
wrote (an edit of any URL, hash or package breaks it). Only a deliberate forger could
make a seal match, and a sealed lock is only ever trusted to say "unchanged": hydrate
and ``--check`` read and check the whole lock regardless.
"""

from __future__ import annotations

import hashlib

__all__ = ["is_sealed", "seal"]

#: ``[tool.lockgen]``'s line for the lock's own digest, with its value left out: the
#: digest is the sha256 of the text with this line in place of the recorded one.
_BODY_BLANK = '\nbody = ""\n'


def seal(text: str) -> str:
    """``text`` (rendered with ``body = ""`` in ``[tool.lockgen]``) with its digest
    filled in, so that any later edit of the file is seen."""
    if text.count(_BODY_BLANK) != 1:  # lockgen renders the placeholder exactly once
        raise AssertionError("the lock text has no single body placeholder")
    digest = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    return text.replace(_BODY_BLANK, f'\nbody = "{digest}"\n')


def is_sealed(text: str, recorded: str | None) -> bool:
    """Whether ``text`` is exactly what :func:`seal` returned for digest ``recorded``."""
    if recorded is None:
        return False
    line = f'\nbody = "{recorded}"\n'
    if text.count(line) != 1:
        return False
    blank = text.replace(line, _BODY_BLANK)
    return recorded == "sha256:" + hashlib.sha256(blank.encode()).hexdigest()
