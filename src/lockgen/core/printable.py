"""Text made safe for a terminal: control characters shown, never obeyed.

Messages carry text lockgen did not write: project names, versions, file names, URLs
and requirements from index pages, metadata and lock files, a server's headers. A
terminal obeys control characters in it: ``ESC [2J`` clears the screen, ``ESC ]0;``
sets the window title, a lone ``CR`` or ``BS`` overwrites what came before, and a C1
``CSI`` (U+009B) starts a sequence by itself. So everything lockgen prints as a
message goes through :func:`printable` where it is written (the CLI's output
functions and the progress displays), never trusting each source to have cleaned it.
"""

from __future__ import annotations

__all__ = ["printable"]

#: C0 controls but the newline lockgen's own multi-line messages need, DEL, and C1:
#: each becomes the ``\xNN`` escape Python's ``repr`` would show for it.
_ESCAPES = {
    code: f"\\x{code:02x}"
    for code in (*range(0x20), *range(0x7F, 0xA0))
    if code != 0x0A
}


def printable(text: str) -> str:
    """``text`` with every control character but ``\\n`` written as ``\\xNN``."""
    return text.translate(_ESCAPES)
