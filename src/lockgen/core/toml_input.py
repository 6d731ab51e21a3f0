"""A TOML file given to lockgen (a pyproject.toml, an sdist's): read once, its
failure one line whatever the input (a document nested past the parser's depth is
a RecursionError, not a TOMLDecodeError)."""

from __future__ import annotations

from typing import Any

__all__ = ["parse_toml"]


def parse_toml(text: str) -> dict[str, Any]:
    """``text`` as TOML; ``ValueError`` saying why it is not, on one line."""
    import tomllib  # on use: the command line imports this module's callers early

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not TOML ({exc})") from None
    except RecursionError:
        raise ValueError("not TOML (nested too deeply)") from None
